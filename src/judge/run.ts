/** Reading a run directory and writing verdict.json (the judge only reads stored results). */
import { writeVerdictFile } from '../results/rundir.js';
import { parseResultsText, readRunDir } from '../results/records.js';
import type { RunManifest, TrialRecord, Verdict } from '../results/types.js';
import { judgeRecords, type JudgeOverrides } from './judge.js';

export interface RunData {
  manifest: RunManifest;
  records: TrialRecord[];
  /** Things tolerated while reading (e.g. a truncated last line after a crash). */
  warnings: string[];
}

/**
 * Parse results.jsonl text with the run directory layer's one policy (results/rundir.ts): a last line
 * cut short by a crash is skipped with a warning; any other bad line is an InputError naming the line.
 */
export function parseResults(text: string, source = 'results.jsonl'): { records: TrialRecord[]; warnings: string[] } {
  return parseResultsText(text, { source });
}

/** Read manifest.json and results.jsonl of a run directory (format-checked; InputError when damaged). */
export function readRun(dir: string): RunData {
  const { manifest, records, warnings } = readRunDir(dir);
  return { manifest, records, warnings };
}

/** readRun + judgeRecords; read warnings are appended to the verdict's reasons. */
export function judgeRun(dir: string, overrides: JudgeOverrides = {}): Verdict {
  // the judge never reads the per-trial series: they stay in results.jsonl
  const { manifest, records, warnings } = readRunDir(dir, { deferSeries: true });
  const v = judgeRecords(manifest, records, overrides);
  v.reasons.push(...warnings);
  return v;
}

/** Write verdict.json atomically (temp file + fsync + rename, never through a symbolic link). */
export function writeVerdict(dir: string, verdict: Verdict): string {
  return writeVerdictFile(dir, verdict);
}
