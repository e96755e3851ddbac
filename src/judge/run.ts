/** Reading a run directory and writing verdict.json (the judge only reads stored results). */
import { readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RunManifest, TrialRecord, Verdict } from '../results/types.js';
import { judgeRecords, type JudgeOverrides } from './judge.js';

export interface RunData {
  manifest: RunManifest;
  records: TrialRecord[];
  /** Things tolerated while reading (e.g. a truncated last line after a crash). */
  warnings: string[];
}

/**
 * Parse results.jsonl text. A last line that does not parse is a write cut short by a crash and is
 * skipped with a warning; an unparsable line anywhere else means corruption and throws.
 * Lines whose `type` is not 'trial' are ignored (room for other record kinds).
 */
export function parseResults(text: string, source = 'results.jsonl'): { records: TrialRecord[]; warnings: string[] } {
  const lines = text.split('\n');
  let last = lines.length - 1;
  while (last >= 0 && lines[last]!.trim() === '') last--;
  const records: TrialRecord[] = [];
  const warnings: string[] = [];
  for (let i = 0; i <= last; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      if (i === last) {
        warnings.push(`${source}: ignored a truncated last line (${line.length} bytes), left by an interrupted write.`);
        continue;
      }
      throw new Error(`${source}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    if (obj && typeof obj === 'object' && (obj as { type?: unknown }).type === 'trial') records.push(obj as TrialRecord);
  }
  return { records, warnings };
}

/** Read manifest.json and results.jsonl of a run directory. */
export function readRun(dir: string): RunData {
  const manifestPath = join(dir, 'manifest.json');
  let manifest: RunManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as RunManifest;
  } catch (e) {
    throw new Error(`cannot read ${manifestPath}: ${(e as Error).message}`);
  }
  if (manifest?.format !== 'netab-run/1') throw new Error(`${manifestPath}: not a netab run manifest (format ${JSON.stringify(manifest?.format)})`);
  const resultsPath = join(dir, 'results.jsonl');
  if (!existsSync(resultsPath)) return { manifest, records: [], warnings: ['results.jsonl is missing: no trial was recorded.'] };
  const { records, warnings } = parseResults(readFileSync(resultsPath, 'utf8'));
  return { manifest, records, warnings };
}

/** readRun + judgeRecords; read warnings are appended to the verdict's reasons. */
export function judgeRun(dir: string, overrides: JudgeOverrides = {}): Verdict {
  const { manifest, records, warnings } = readRun(dir);
  const v = judgeRecords(manifest, records, overrides);
  v.reasons.push(...warnings);
  return v;
}

/** Write verdict.json atomically (temp file + rename). */
export function writeVerdict(dir: string, verdict: Verdict): string {
  const path = join(dir, 'verdict.json');
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(verdict, null, 2) + '\n');
  renameSync(tmp, path);
  return path;
}
