/**
 * Reading a run directory for the report, through the run directory layer (results/rundir.ts): the
 * same format checks and results.jsonl policy as the judge, resume and merge. Nothing here writes.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readVerdict } from '../results/rundir.js';
import { parseResultsText, readRunDir } from '../results/records.js';
import { readTrialTelemetry } from '../results/telemetry.js';
import type { RunManifest, TrialRecord, Verdict } from '../results/types.js';
import { type DirTelemetry, scheduledDirections, scheduleTelemetry } from './schedule.js';

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
  /** The schedule parts of the telemetry of each trial of a scheduled scenario, by trial id. */
  schedules?: Map<string, DirTelemetry[]>;
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
  // the per-trial series stay in results.jsonl: only the few drawn are read (results/series.ts)
  const { manifest, records, warnings } = readRunDir(runDir, { deferSeries: true });
  const verdict = readVerdict(runDir);
  const telemetry = await telemetryInfo(join(runDir, 'telemetry'));
  const schedules = scheduleTelemetryOf(runDir, manifest, records, warnings);
  return { manifest, verdict, trials: records, telemetry, schedules, warnings };
}

/** Only the trials of scenarios with a schedule, only the schedule parts (the rest of a file is not kept). */
function scheduleTelemetryOf(
  runDir: string,
  manifest: RunManifest,
  trials: TrialRecord[],
  warnings: string[],
): Map<string, DirTelemetry[]> {
  const out = new Map<string, DirTelemetry[]>();
  const scheduled = new Set((manifest.scenarios ?? []).filter((s) => scheduledDirections(s).length).map((s) => s.id));
  if (!scheduled.size) return out;
  const problems: string[] = [];
  for (const t of trials) {
    if (!scheduled.has(t.scenario) || t.status !== 'ok' || out.has(t.trial)) continue;
    const r = readTrialTelemetry(runDir, t.trial);
    if (r === 'missing') continue;
    if ('problem' in r) problems.push(r.problem);
    else out.set(t.trial, scheduleTelemetry(r.value));
  }
  if (problems.length)
    warnings.push(`${problems.length} telemetry file(s) unreadable, left out of the schedule views: ${problems.slice(0, 3).join('; ')}`);
  return out;
}
