/** `netab run`, `merge`, `judge`, `report`: the API's pipeline and judge, printed; Ctrl+C turned into an abort. */
import { resolve } from 'node:path';
import * as api from '../api.js';
import type { RunResult, Verdict } from '../api.js';
import { briefMessage, errorExitCode } from './errors.js';
import { makeProgress } from './progress.js';

/** Signals this close to the first one are the same Ctrl+C (delivered to the group and forwarded). */
const SAME_INTERRUPT_MS = 1000;

function say(s: string): void {
  process.stderr.write(s + '\n');
}

export function summarize(v: Verdict, runDir: string): string {
  const lines = [`decision: ${v.decision.toUpperCase()}`];
  for (const r of v.reasons) lines.push(`  - ${r}`);
  if (v.decision === 'hold' && v.morePairs) lines.push(`  about ${v.morePairs} more pairs per scenario should settle it`);
  lines.push(`report: ${resolve(runDir, 'report.html')}`);
  return lines.join('\n');
}

/** The verdict (stdout with --json) and the summary (stderr); the decision's exit code. */
function finish(r: RunResult, json: boolean): number {
  if (json) process.stdout.write(JSON.stringify(r.verdict, null, 2) + '\n');
  say(summarize(r.verdict, r.runDir));
  return r.exitCode;
}

type Start = (reporting: api.RunReporting) => Promise<RunResult>;

/**
 * A run or a resume, with Ctrl+C/SIGTERM as an abort: a terminal's Ctrl+C reaches every process of
 * the group, and wrappers (npm, a shell, a CI runner) may forward the same signal once more: a second
 * signal within a second of the first is that same interrupt. A later one means "exit at once" (what
 * is left then is for `netab gc`).
 */
async function runWithSignals(start: Start, o: { json: boolean; quiet: boolean; argv: string[] }, resuming: boolean): Promise<number> {
  const ac = new AbortController();
  let firstSignalAt = 0;
  const onSignal = (sig: string) => {
    if (firstSignalAt === 0) {
      firstSignalAt = Date.now();
      say(`\nnetab: ${sig}: stopping the trial and cleaning up (again to exit at once; then run \`netab gc\`)`);
      ac.abort();
    } else if (Date.now() - firstSignalAt > SAME_INTERRUPT_MS) process.exit(api.EXIT.interrupted);
  };
  const sigint = () => onSignal('SIGINT');
  const sigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);
  try {
    const r = await start({ log: say, progress: makeProgress(process.stderr, o.quiet), signal: ac.signal, command: ['netab', ...o.argv] });
    return finish(r, o.json);
  } catch (e) {
    if (e instanceof api.RunFailed) {
      const [first, ...rest] = briefMessage(e.failure);
      say(`netab: run failed: ${first}`);
      for (const l of rest) say(`netab: ${l}`);
      say(`netab: partial results are in ${e.runDir}`);
      return errorExitCode(e.failure);
    }
    if (e instanceof api.HostNotReady) {
      for (const p of e.problems) say(`netab: ${p}`);
      return e.exitCode;
    }
    if (e instanceof api.InterruptedError || (resuming && e instanceof api.NetabError)) {
      say(`netab: ${e.message}`);
      return e.exitCode;
    }
    throw e;
  } finally {
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
  }
}

export function runCommand(
  paths: string[],
  opts: Omit<api.RunOptions, keyof api.RunReporting>,
  o: { json: boolean; quiet: boolean; argv: string[] },
): Promise<number> {
  return runWithSignals((reporting) => api.run(paths, { ...opts, ...reporting, warn: say }), o, false);
}

/** --resume DIR: the stored expanded scenarios, only the trials that have no record yet. */
export function resumeCommand(dir: string, o: { json: boolean; quiet: boolean; argv: string[] }): Promise<number> {
  return runWithSignals((reporting) => api.resume(dir, reporting), o, true);
}

export async function mergeCommand(dirs: string[], out: string, json: boolean): Promise<number> {
  return finish(await api.merge(dirs, out, { log: say }), json);
}

export async function judgeCommand(dir: string, o: { alpha?: number; margin?: api.MarginOverride; json?: boolean }): Promise<number> {
  return finish(await api.judge(dir, o), Boolean(o.json));
}

export async function reportCommand(dir: string): Promise<void> {
  const r = await api.report(dir);
  say(`report: ${r.html}`);
}
