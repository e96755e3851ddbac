/**
 * Run and resume: the pipeline on a run directory, then the judge and the reports (api/judge.ts). No printing of its own: lines go to `log`, progress to `progress`; failures are thrown as
 * the src/errors.ts family (a run that started and failed as RunFailed, naming its run directory).
 */
import { join, resolve } from 'node:path';
import { InputError, InterruptedError } from '../errors.js';
import { HostNotReady, RunFailed } from './errors.js';
import { inVm } from '../host.js';
import { judgeDir, type RunResult } from './judge.js';
import { checkOutDir, createRunDir, runDirStem } from '../results/create.js';
import { readResults } from '../results/records.js';
import { checkResumable, readManifest } from '../results/rundir.js';
import type { RunManifest, SuiteInfo, TrialRecord } from '../results/types.js';
import type { Scenario } from '../scenario/model.js';
import { findLeftovers } from '../topology/netns/gc.js';
import { runScenarios } from '../trial/runner.js';
import type { Progress } from '../trial/types.js';
import { preflight as hostProblems } from './doctor.js';
import { stderrLine } from './log.js';

/** How a run reports as it goes (all optional; lines default to stderr, progress to nothing). */
export interface RunReporting {
  /** one line for the user (netab's own "netab: ..." messages) */
  log?: (line: string) => void;
  /** per-scenario and per-trial progress (the CLI's live status line) */
  progress?: Progress;
  /** abort the run: the trial in flight stops, the testbed is torn down, InterruptedError is thrown */
  signal?: AbortSignal;
  /** the command line recorded in manifest.json (default: netab plus this process's arguments) */
  command?: string[];
}

const silent: Progress = { scenario() {}, step() {}, trial() {}, warn() {} };

interface RunPlan {
  seed: number;
  aa: boolean;
  suite?: SuiteInfo;
  sourceFile: string;
  resume?: { manifest: RunManifest; done: Set<string>; records: TrialRecord[] };
}

/** A new run of loaded scenarios in `out` (a new or empty folder) or a new reports/<stem>-<time>. */
export async function startRun(
  scenarios: Scenario[],
  suite: SuiteInfo,
  o: RunReporting & { paths: string[]; out?: string; seed?: number; aa?: boolean },
): Promise<RunResult> {
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
  // --out: a new or empty folder (checked before anything runs); default: a new reports/<stem>-<time>,
  // named after the suite (one scenario file: its file stem), created exclusively inside reports/
  if (o.signal?.aborted) throw new InterruptedError();
  if (o.out) checkOutDir(o.out);
  const runDir = o.out ? resolve(o.out) : createRunDir('reports', runDirStem(suite));
  return execute(scenarios, runDir, { seed, aa: Boolean(o.aa), suite, sourceFile: o.paths.join(' ') }, o);
}

/** Continue an interrupted run in `dir`: the stored expanded scenarios, only the trials that have no record yet. */
export async function resumeRun(dir: string, o: RunReporting = {}): Promise<RunResult> {
  const log = o.log ?? stderrLine;
  const manifest = readManifest(dir);
  checkResumable(manifest, join(dir, 'manifest.json'));
  const read = readResults(dir, { scenarios: new Set(manifest.scenarios.map((s) => s.id)) });
  // the remaining trials run where the first ones did: inside the VM (real netem) or on this host
  const madeInVm = Boolean(manifest.environment?.vm);
  if (madeInVm !== inVm())
    throw new InputError(
      madeInVm
        ? `${dir} was run inside the VM: resume it with --vm (\`netab run --resume ${dir} --vm\`)`
        : `${dir} was run on this host, not in the VM: resume it without --vm`,
    );
  const records = read.records;
  for (const w of read.warnings) log(`netab: ${w}`);
  const done = new Set(records.map((r) => `${r.scenario}#${r.pair}-${r.arm}`));
  const scenarios = manifest.scenarios.map((m) => m.scenario as Scenario);
  log(`netab: resuming ${dir}: ${done.size} trials already recorded`);
  const plan: RunPlan = {
    seed: manifest.seed,
    aa: manifest.aa,
    suite: manifest.suite,
    sourceFile: manifest.sourceFile,
    resume: { manifest, done, records },
  };
  return execute(scenarios, resolve(dir), plan, o);
}

async function execute(scenarios: Scenario[], runDir: string, run: RunPlan, o: RunReporting): Promise<RunResult> {
  const log = o.log ?? stderrLine;
  const problems = await hostProblems();
  if (problems.length) throw new HostNotReady(problems);
  const left = await findLeftovers();
  const dead = left.runs.filter((r) => !r.alive);
  if (dead.length)
    log(
      `netab: found leftovers of earlier runs that did not clean up (${dead.map((r) => `run ${r.runId}`).join(', ')}); \`netab gc\` removes them`,
    );
  const own = scenarios.filter((s) => s.seed !== undefined && s.seed !== run.seed).length;
  log(
    `netab: run directory ${runDir} (seed ${run.seed}${own ? `; ${own} scenario(s) with their own seed, recorded in manifest.json` : ''})`,
  );
  try {
    const manifest = await runScenarios(scenarios, {
      runDir,
      seed: run.seed,
      aa: run.aa,
      command: o.command ?? ['netab', ...process.argv.slice(2)],
      sourceFile: run.sourceFile,
      signal: o.signal,
      progress: o.progress ?? silent,
      suite: run.suite,
      resume: run.resume,
      scenarioCount: run.suite?.scenarioIds.length ?? scenarios.length,
    });
    for (const s of manifest.scenarios) if (s.engine) log(`netab: ${s.id}: engine ${s.engine.name} (${s.engine.reason})`);
  } catch (e) {
    if (e instanceof InterruptedError || o.signal?.aborted)
      throw new InterruptedError(`interrupted; partial results are in ${runDir} (\`netab run --resume ${runDir}\` continues)`);
    throw new RunFailed(runDir, e);
  }
  return judgeDir(runDir, {});
}
