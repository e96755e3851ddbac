/** `netab run`, `judge`, `report`: the pipeline, then the judge and the reports on the run directory. */
import { join, resolve } from 'node:path';
import { judgeRun, writeVerdict, exitCodeFor } from '../judge/index.js';
import { renderReports } from '../report/index.js';
import { mergeRuns } from '../results/merge.js';
import { checkOutDir, checkResumable, createRunDir, readManifest, readResults, runDirStem } from '../results/rundir.js';
import { NetabError } from '../errors.js';
import { inVm } from '../host.js';
import type { RunManifest, SuiteInfo, TrialRecord, Verdict } from '../results/types.js';
import type { Scenario } from '../scenario/model.js';
import { findLeftovers } from '../topology/netns/gc.js';
import { Aborted, runScenarios } from '../trial/runner.js';
import { preflight } from './doctor.js';
import { briefMessage, errorExitCode } from './errors.js';
import { parseMarginFlag } from './flags.js';
import { makeProgress } from './progress.js';

const EXIT_USAGE = 2;
const EXIT_ENV = 3;
const EXIT_INTERRUPTED = 130;
/** Signals this close to the first one are the same Ctrl+C (delivered to the group and forwarded). */
const SAME_INTERRUPT_MS = 1000;

export interface RunCommandOptions {
  paths: string[];
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

export async function runCommand(scenarios: Scenario[], suite: SuiteInfo, o: RunCommandOptions): Promise<number> {
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
  // --out: a new or empty folder (checked before anything runs); default: a new reports/<stem>-<time>,
  // named after the suite (one scenario file: its file stem), created exclusively inside reports/
  if (o.out) checkOutDir(o.out);
  const runDir = o.out ? resolve(o.out) : createRunDir('reports', runDirStem(suite));
  return execute(scenarios, runDir, { seed, aa: o.aa, suite, sourceFile: o.paths.join(' ') }, o);
}

/** --resume DIR: the stored expanded scenarios, only the trials that have no record yet. */
export async function resumeCommand(dir: string, o: { json: boolean; quiet: boolean; argv: string[] }): Promise<number> {
  let manifest: RunManifest;
  let read: { records: TrialRecord[]; warnings: string[] };
  try {
    manifest = readManifest(dir);
    checkResumable(manifest, join(dir, 'manifest.json'));
    read = readResults(dir, { scenarios: new Set(manifest.scenarios.map((s) => s.id)) });
  } catch (e) {
    if (!(e instanceof NetabError)) throw e;
    say(`netab: ${e.message}`);
    return e.exitCode;
  }
  // the remaining trials run where the first ones did: inside the VM (real netem) or on this host
  const madeInVm = Boolean(manifest.environment?.vm);
  if (madeInVm !== inVm()) {
    say(
      madeInVm
        ? `netab: ${dir} was run inside the VM: resume it with --vm (\`netab run --resume ${dir} --vm\`)`
        : `netab: ${dir} was run on this host, not in the VM: resume it without --vm`,
    );
    return EXIT_USAGE;
  }
  const records = read.records;
  for (const w of read.warnings) say(`netab: ${w}`);
  const done = new Set(records.map((r) => `${r.scenario}#${r.pair}-${r.arm}`));
  const scenarios = manifest.scenarios.map((m) => m.scenario as Scenario);
  say(`netab: resuming ${dir}: ${done.size} trials already recorded`);
  return execute(scenarios, resolve(dir), { seed: manifest.seed, aa: manifest.aa, suite: manifest.suite, sourceFile: manifest.sourceFile, resume: { manifest, done, records } }, o);
}

async function execute(
  scenarios: Scenario[],
  runDir: string,
  run: { seed: number; aa: boolean; suite?: SuiteInfo; sourceFile: string; resume?: { manifest: RunManifest; done: Set<string>; records: TrialRecord[] } },
  o: { json: boolean; quiet: boolean; argv: string[] },
): Promise<number> {
  const problems = await preflight();
  if (problems.length) {
    for (const p of problems) say(`netab: ${p}`);
    return EXIT_ENV;
  }
  const left = await findLeftovers();
  const dead = left.runs.filter((r) => !r.alive);
  if (dead.length)
    say(`netab: found leftovers of earlier runs that did not clean up (${dead.map((r) => `run ${r.runId}`).join(', ')}); \`netab gc\` removes them`);
  const ac = new AbortController();
  // A terminal's Ctrl+C reaches every process of the group, and wrappers (npm, a shell, a CI runner)
  // may forward the same signal once more: a second signal within a second of the first is that same
  // interrupt. A later one means "exit at once" (what is left then is for `netab gc`).
  let firstSignalAt = 0;
  const onSignal = (sig: string) => {
    if (firstSignalAt === 0) {
      firstSignalAt = Date.now();
      say(`\nnetab: ${sig}: stopping the trial and cleaning up (again to exit at once; then run \`netab gc\`)`);
      ac.abort();
    } else if (Date.now() - firstSignalAt > SAME_INTERRUPT_MS) process.exit(EXIT_INTERRUPTED);
  };
  const sigint = () => onSignal('SIGINT');
  const sigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);
  const progress = makeProgress(process.stderr, o.quiet);
  say(`netab: run directory ${runDir} (seed ${run.seed})`);
  try {
    const manifest = await runScenarios(scenarios, {
      runDir,
      seed: run.seed,
      aa: run.aa,
      command: ['netab', ...o.argv],
      sourceFile: run.sourceFile,
      signal: ac.signal,
      progress,
      suite: run.suite,
      resume: run.resume,
      scenarioCount: run.suite?.scenarioIds.length ?? scenarios.length,
    });
    for (const s of manifest.scenarios) if (s.engine) say(`netab: ${s.id}: engine ${s.engine.name} (${s.engine.reason})`);
  } catch (e) {
    if (e instanceof Aborted || ac.signal.aborted) {
      say(`netab: interrupted; partial results are in ${runDir} (\`netab run --resume ${runDir}\` continues)`);
      return EXIT_INTERRUPTED;
    }
    const [first, ...rest] = briefMessage(e);
    say(`netab: run failed: ${first}`);
    for (const l of rest) say(`netab: ${l}`);
    say(`netab: partial results are in ${runDir}`);
    return errorExitCode(e);
  } finally {
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
  }
  return finish(runDir, {}, o.json);
}

async function finish(runDir: string, overrides: Parameters<typeof judgeRun>[1], json: boolean): Promise<number> {
  const verdict = judgeRun(runDir, overrides);
  writeVerdict(runDir, verdict);
  await renderReports(runDir);
  if (json) process.stdout.write(JSON.stringify(verdict, null, 2) + '\n');
  say(summarize(verdict, runDir));
  return exitCodeFor(verdict.decision);
}

export async function mergeCommand(dirs: string[], out: string, json: boolean): Promise<number> {
  const m = mergeRuns(dirs, resolve(out));
  say(`netab: merged ${m.suite?.mergedFrom?.length ?? dirs.length} shard(s) of suite ${m.suite?.name} into ${resolve(out)}`);
  return finish(resolve(out), {}, json);
}

export async function judgeCommand(dir: string, o: { alpha?: number; margin?: string; json?: boolean }): Promise<number> {
  const overrides: Parameters<typeof judgeRun>[1] = {};
  if (o.alpha !== undefined) overrides.alpha = o.alpha;
  if (o.margin !== undefined) overrides.margin = parseMarginFlag(o.margin);
  return finish(dir, overrides, Boolean(o.json));
}

export async function reportCommand(dir: string): Promise<void> {
  const r = await renderReports(dir);
  say(`report: ${r.html}`);
}
