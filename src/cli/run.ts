/** `netab run`, `judge`, `report`: the pipeline, then the judge and the reports on the run directory. */
import { basename, extname, resolve } from 'node:path';
import { judgeRun, writeVerdict, exitCodeFor } from '../judge/index.js';
import { renderReports } from '../report/index.js';
import type { Verdict } from '../results/types.js';
import type { Scenario } from '../scenario/model.js';
import { parsePercent } from '../scenario/units.js';
import { findLeftovers } from '../topology/netns/gc.js';
import { Aborted, runDirFor, runScenarios } from '../trial/runner.js';
import { preflight } from './doctor.js';
import { makeProgress } from './progress.js';

const EXIT_ENV = 3;
const EXIT_INTERRUPTED = 130;

export interface RunCommandOptions {
  file: string;
  out?: string;
  seed?: number;
  aa: boolean;
  json: boolean;
  quiet: boolean;
  argv: string[];
}

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

export async function runCommand(scenarios: Scenario[], o: RunCommandOptions): Promise<number> {
  const problems = await preflight();
  if (problems.length) {
    for (const p of problems) say(`netab: ${p}`);
    return EXIT_ENV;
  }
  const left = await findLeftovers();
  const dead = left.runs.filter((r) => !r.alive);
  if (dead.length || left.orphanNamespaces.length)
    say(
      `netab: found leftovers of earlier runs that did not clean up (${[...dead.map((r) => `run ${r.runId}`), ...left.orphanNamespaces].join(', ')}); \`netab gc\` removes them`,
    );

  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
  const runDir = resolve(o.out ?? runDirFor('reports', basename(o.file, extname(o.file))));
  const ac = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: string) => {
    interrupts++;
    if (interrupts === 1) {
      say(`\nnetab: ${sig}: stopping the trial and cleaning up (again to exit at once; then run \`netab gc\`)`);
      ac.abort();
    } else process.exit(EXIT_INTERRUPTED);
  };
  const sigint = () => onSignal('SIGINT');
  const sigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);
  const progress = makeProgress(process.stderr, o.quiet);
  say(`netab: run directory ${runDir} (seed ${seed})`);
  try {
    const manifest = await runScenarios(scenarios, {
      runDir,
      seed,
      aa: o.aa,
      command: ['netab', ...o.argv],
      sourceFile: o.file,
      signal: ac.signal,
      progress,
    });
    for (const s of manifest.scenarios) if (s.engine) say(`netab: ${s.id}: engine ${s.engine.name} (${s.engine.reason})`);
  } catch (e) {
    if (e instanceof Aborted || ac.signal.aborted) {
      say(`netab: interrupted; partial results are in ${runDir}`);
      return EXIT_INTERRUPTED;
    }
    say(`netab: run failed: ${(e as Error).message}`);
    say(`netab: partial results are in ${runDir}`);
    return EXIT_ENV;
  } finally {
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
  }
  const verdict = judgeRun(runDir);
  writeVerdict(runDir, verdict);
  await renderReports(runDir);
  if (o.json) process.stdout.write(JSON.stringify(verdict, null, 2) + '\n');
  say(summarize(verdict, runDir));
  return exitCodeFor(verdict.decision);
}

export async function judgeCommand(dir: string, o: { alpha?: number; margin?: string; json?: boolean }): Promise<number> {
  const overrides: Parameters<typeof judgeRun>[1] = {};
  if (o.alpha !== undefined) overrides.alpha = o.alpha;
  if (o.margin !== undefined) {
    overrides.margin = o.margin.trim().endsWith('%')
      ? { kind: 'relative', value: parsePercent(o.margin) }
      : { kind: 'absolute', value: Number(o.margin) };
  }
  const verdict = judgeRun(dir, overrides);
  writeVerdict(dir, verdict);
  await renderReports(dir);
  if (o.json) process.stdout.write(JSON.stringify(verdict, null, 2) + '\n');
  say(summarize(verdict, dir));
  return exitCodeFor(verdict.decision);
}

export async function reportCommand(dir: string): Promise<void> {
  const r = await renderReports(dir);
  say(`report: ${r.html}`);
}
