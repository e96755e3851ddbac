/**
 * Judging and merging stored run directories: the judge, the reports and the results layer only, so
 * `netab judge`, `report` and `merge` do not load the trial pipeline, the topologies or the engines.
 */
import { resolve } from 'node:path';
import { exitCodeFor, judgeRun, writeVerdict, type JudgeOverrides } from '../judge/index.js';
import { renderReports } from '../report/index.js';
import { mergeRuns } from '../results/merge.js';
import type { Decision, Verdict } from '../results/types.js';
import { stderrLine } from './log.js';

/** A judged run directory: the verdict, its decision and the exit code that decision ends with. */
export interface RunResult {
  runDir: string;
  verdict: Verdict;
  decision: Decision;
  exitCode: number;
}

/** Judge a run directory, write verdict.json, re-render the reports. */
export async function judgeDir(runDir: string, overrides: JudgeOverrides): Promise<RunResult> {
  const verdict = judgeRun(runDir, overrides);
  writeVerdict(runDir, verdict);
  await renderReports(runDir);
  return { runDir, verdict, decision: verdict.decision, exitCode: exitCodeFor(verdict.decision) };
}

/** Combine shard run directories of one suite into `out`, then judge and report it. */
export async function mergeDirs(dirs: string[], out: string, o: { log?: (line: string) => void } = {}): Promise<RunResult> {
  const m = mergeRuns(dirs, resolve(out));
  (o.log ?? stderrLine)(
    `netab: merged ${m.suite?.mergedFrom?.length ?? dirs.length} shard(s) of suite ${m.suite?.name} into ${resolve(out)}`,
  );
  return judgeDir(resolve(out), {});
}
