/**
 * Reading a run directory for the report. Only the on-disk contract (results/types.ts) is used,
 * so a past run can be re-rendered offline. Nothing here writes.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
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

export class ReportInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportInputError';
  }
}

async function readJson<T>(path: string, what: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ReportInputError(`${what} not found: ${path}`);
    throw e;
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new ReportInputError(`${what} is not valid JSON (${path}): ${(e as Error).message}`);
  }
}

/**
 * Parse results.jsonl. A truncated last line (the run was killed mid-append) is dropped with a
 * warning; a malformed line elsewhere is skipped with a warning too, never fatal.
 */
export function parseResultsJsonl(text: string, warnings: string[] = []): TrialRecord[] {
  const out: TrialRecord[] = [];
  const lines = text.split('\n');
  // a file that ends without '\n' has its last record possibly cut short
  const lastIdx = lines.length - 1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      if (i === lastIdx) warnings.push(`results.jsonl: ignored a truncated last line (${line.length} bytes)`);
      else warnings.push(`results.jsonl: ignored malformed line ${i + 1}`);
      continue;
    }
    if (!rec || typeof rec !== 'object') continue;
    const r = rec as Partial<TrialRecord>;
    if (r.type !== undefined && r.type !== 'trial') continue;
    if (typeof r.scenario !== 'string' || (r.arm !== 'control' && r.arm !== 'canary')) {
      warnings.push(`results.jsonl: ignored line ${i + 1} (not a trial record)`);
      continue;
    }
    out.push({
      ...(r as TrialRecord),
      metrics: r.metrics && typeof r.metrics === 'object' ? r.metrics : {},
      pair: typeof r.pair === 'number' ? r.pair : 0,
      warmup: r.warmup === true,
      status: r.status === 'failed' ? 'failed' : 'ok',
    });
  }
  return out;
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
      const s = await stat(join(dir, n));
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
  const warnings: string[] = [];
  const manifest = await readJson<RunManifest>(join(runDir, 'manifest.json'), 'manifest.json');
  if (!manifest || !Array.isArray(manifest.scenarios)) {
    throw new ReportInputError(`manifest.json has no scenarios list: ${join(runDir, 'manifest.json')}`);
  }
  const verdict = await readJson<Verdict>(join(runDir, 'verdict.json'), 'verdict.json (judge the run first)');
  if (!verdict || !Array.isArray(verdict.scenarios)) {
    throw new ReportInputError(`verdict.json has no scenarios list: ${join(runDir, 'verdict.json')}`);
  }
  let trials: TrialRecord[] = [];
  try {
    trials = parseResultsJsonl(await readFile(join(runDir, 'results.jsonl'), 'utf8'), warnings);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    warnings.push('results.jsonl not found: per-trial charts are empty');
  }
  const telemetry = await telemetryInfo(join(runDir, 'telemetry'));
  return { manifest, verdict, trials, telemetry, warnings };
}
