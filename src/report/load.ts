/**
 * Reading a run directory for the report, through the run directory layer (results/rundir.ts): the
 * same format checks and results.jsonl policy as the judge, resume and merge. Nothing here writes.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readVerdict } from '../results/rundir.js';
import { parseResultsText, readRunDir } from '../results/records.js';
import type { RunManifest, TrialRecord, Verdict } from '../results/types.js';

export interface TelemetryInfo {
  files: number;
  bytes: number;
}

/** Everything the renderers need, as read from a run directory. */
export interface RunData {
  manifest: RunManifest;
  verdict: Verdict;
  trials: TrialRecord[];
  telemetry?: TelemetryInfo | null;
  /** Problems found while reading (truncated last line, bad lines), shown in the report footer. */
  warnings?: string[];
}

/**
 * Parse results.jsonl text with the run directory layer's one policy (results/rundir.ts): a truncated
 * last line is dropped with a warning; a bad line anywhere else is an InputError naming the line.
 */
export function parseResultsJsonl(text: string, warnings: string[] = []): TrialRecord[] {
  const r = parseResultsText(text);
  warnings.push(...r.warnings);
  return r.records;
}

async function telemetryInfo(dir: string): Promise<TelemetryInfo | null> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return null;
  }
  let bytes = 0;
  let files = 0;
  for (const n of names) {
    try {
      const s = await lstat(join(dir, n));
      if (s.isFile()) {
        files++;
        bytes += s.size;
      }
    } catch {
      /* raced with a delete: ignore */
    }
  }
  return { files, bytes };
}

/** Read manifest.json, results.jsonl, verdict.json and a summary of telemetry/ from a run directory. */
export async function loadRunDir(runDir: string): Promise<RunData> {
  const { manifest, records, warnings } = readRunDir(runDir);
  const verdict = readVerdict(runDir);
  const telemetry = await telemetryInfo(join(runDir, 'telemetry'));
  return { manifest, verdict, trials: records, telemetry, warnings };
}
