/**
 * netab's programmatic API (`import { run, validate, judge } from 'netab'`): everything the CLI does,
 * as plain async functions with typed options and results. The CLI (src/cli) parses flags, prints and
 * calls these. Failures are thrown as the src/errors.ts family, each with its exit code: InputError 2,
 * EnvError 3 (HostNotReady: the machine cannot run trials), InterruptedError 130, RunFailed (a run that
 * started and failed; its run directory holds the partial results).
 * Heavy parts (the pipeline, docker, the VM, reports) are loaded on first use, so a CLI call that needs
 * none of them stays quick.
 */
import { InputError, type InputProblem } from './errors.js';
import type { GateOptions } from './rollout/gate.js';
import type { ExportOptions } from './rollout/export.js';
import type { PlanOptions } from './rollout/plan.js';
import type { JudgeOverrides } from './judge/index.js';
import type { ReportPaths } from './report/index.js';
import type { SuiteInfo } from './results/types.js';
import type { Scenario } from './scenario/model.js';
import { jsonSchema } from './scenario/schema.js';
import { estimateSeconds, loadSuite, parseShard, runSeed, shardScenarios, validationUnits } from './scenario/suite.js';
import type { Check } from './api/doctor.js';
import type { RunReporting } from './api/run.js';
import type { RunResult } from './api/judge.js';
import { stderrLine } from './api/log.js';

export { EXIT, EnvError, InputError, InterruptedError, NetabError, formatProblem, type ExitCode, type InputProblem } from './errors.js';
export { HostNotReady, RunFailed } from './api/errors.js';
export type { RunReporting } from './api/run.js';
export type { RunResult } from './api/judge.js';
export type { Check } from './api/doctor.js';
export type { Progress } from './trial/types.js';
export type { Decision, RunManifest, SuiteInfo, TrialRecord, Verdict } from './results/types.js';
export type { Scenario } from './scenario/model.js';
export { formatRate } from './scenario/units.js';
export { isProblemSummary } from './scenario/source.js';
export { inVm } from './host.js';
export { NETAB_VERSION } from './version.js';

/** What to load and how to override it (the `run` and `plan` flags). */
export interface LoadOptions {
  /** measured pairs per scenario (overrides trials.pairs) */
  trials?: number;
  /** only scenarios whose id or name matches this regex */
  filter?: string;
}

export interface RunOptions extends LoadOptions, RunReporting {
  /** run directory (default: reports/<scenario or suite>-<timestamp>) */
  out?: string;
  engine?: 'auto' | 'netem' | 'userspace';
  backend?: 'netns' | 'docker';
  /** seed of every scenario (pair order, relay randomness); default: each scenario's own `seed:`, else one random seed for the rest; recorded per scenario */
  seed?: number;
  /** "i/n": run only shard i of n */
  shard?: string;
  /** A/A calibration: control against itself */
  aa?: boolean;
  /** warnings before the run (unreachable decisions with an explicit `trials`, kernel notes) */
  warn?: (line: string) => void;
}

/** A margin for every metric: relative (a share, e.g. 0.02) or absolute (in the metric's unit). */
export type MarginOverride = NonNullable<JudgeOverrides['margin']>;

/** Load, check, run, judge and report scenario files, folders, globs or a suite. */
export async function run(paths: string[], o: RunOptions = {}): Promise<RunResult> {
  if (paths.length === 0) throw new InputError('run needs a scenario file, folder or suite (or --resume DIR)');
  const loaded = loadSuite(paths, { pairs: o.trials, seed: o.seed, engine: o.engine, backend: o.backend, filter: o.filter });
  const { preflight } = await import('./api/preflight.js');
  await preflight(loaded.scenarios, { pairsFromCli: o.trials !== undefined, kernel: true, warn: o.warn ?? o.log ?? stderrLine });
  let scenarios = loaded.scenarios;
  if (o.shard) {
    const sh = parseShard(o.shard);
    loaded.suite.shard = sh;
    scenarios = shardScenarios(scenarios, sh.index, sh.count);
  }
  const { startRun } = await import('./api/run.js');
  return startRun(scenarios, loaded.suite, { ...o, paths, seed: runSeed(scenarios, o.seed) });
}

/** Continue an interrupted run: finished trials are kept, only missing ones run. */
export async function resume(dir: string, o: RunReporting = {}): Promise<RunResult> {
  const { resumeRun } = await import('./api/run.js');
  return resumeRun(dir, o);
}

/** `run --vm`: the same command line re-run inside a stock Debian kernel under qemu; the guest's exit code. */
export async function runInVm(paths: string[], o: { out?: string; resume?: string }, argv: string[]): Promise<number> {
  const { vmRunCommand } = await import('./api/vm.js');
  return vmRunCommand(paths, o, argv);
}

/**
 * Load and check scenario files (and, with `kernel`, their sysctls against this kernel): the expanded
 * scenarios. A folder is checked with every folder below it, each suite (or set of loose files) on
 * its own; the problems of all of them are reported together.
 */
export async function validate(paths: string[], o: { kernel?: boolean; warn?: (line: string) => void } = {}): Promise<Scenario[]> {
  const { preflight } = await import('./api/preflight.js');
  const scenarios: Scenario[] = [];
  const problems: InputProblem[] = [];
  for (const unit of validationUnits(paths)) {
    try {
      const ss = loadSuite(unit, {}).scenarios;
      await preflight(ss, { kernel: o.kernel ?? true, warn: o.warn ?? stderrLine });
      scenarios.push(...ss);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      problems.push(...e.problems);
    }
  }
  if (problems.length) throw new InputError(problems);
  return scenarios;
}

export interface PlanEstimate {
  scenarios: number;
  trials: number;
  /** expected wall time */
  seconds: number;
}
export interface Plan {
  suite: SuiteInfo;
  scenarios: { id: string; pairs: number; warmup: number; seconds: number }[];
  total: PlanEstimate;
  /** with `shards`: how that many shards would split the suite */
  shards: PlanEstimate[];
}

/** Estimate a run before starting it: scenarios, trials, expected wall time (per shard with `shards`). */
export function plan(paths: string[], o: LoadOptions & { shards?: number } = {}): Plan {
  const loaded = loadSuite(paths, { pairs: o.trials, filter: o.filter });
  const estimate = (ss: Scenario[]): PlanEstimate => ({
    scenarios: ss.length,
    trials: ss.reduce((a, s) => a + 2 * (s.trials.pairs + s.trials.warmup), 0),
    seconds: ss.reduce((a, s) => a + estimateSeconds(s), 0),
  });
  const shards: PlanEstimate[] = [];
  for (let i = 1; i <= (o.shards ?? 0); i++) shards.push(estimate(shardScenarios(loaded.scenarios, i, o.shards!)));
  return {
    suite: loaded.suite,
    scenarios: loaded.scenarios.map((s) => ({ id: s.id, pairs: s.trials.pairs, warmup: s.trials.warmup, seconds: estimateSeconds(s) })),
    total: estimate(loaded.scenarios),
    shards,
  };
}

/** Re-judge a stored run directory offline: writes verdict.json and re-renders the reports. */
export async function judge(dir: string, o: { alpha?: number; margin?: MarginOverride } = {}): Promise<RunResult> {
  const overrides: JudgeOverrides = {};
  if (o.alpha !== undefined) overrides.alpha = o.alpha;
  if (o.margin !== undefined) overrides.margin = o.margin;
  const { judgeDir } = await import('./api/judge.js');
  return judgeDir(dir, overrides);
}

/** Re-render report.html, junit.xml and summary.md of a stored run directory. */
export async function report(dir: string): Promise<ReportPaths> {
  const { renderReports } = await import('./report/index.js');
  return renderReports(dir);
}

/** Combine shard run directories of one suite into `out`, then judge and report it. */
export async function merge(dirs: string[], out: string, o: { log?: (line: string) => void } = {}): Promise<RunResult> {
  const { mergeDirs } = await import('./api/judge.js');
  return mergeDirs(dirs, out, o);
}

/** Remove leftovers of crashed or killed runs (netns and docker); what was removed. */
export async function gc(o: { force?: boolean; log?: (line: string) => void } = {}): Promise<string[]> {
  const { gc: netnsGc } = await import('./topology/netns/gc.js');
  const removed = await netnsGc(o);
  const { dockerGc } = await import('./topology/docker/index.js');
  removed.push(...(await dockerGc(o)));
  return removed;
}

/** What this machine can do, and what is missing. */
export async function doctor(): Promise<Check[]> {
  const { doctor: checks } = await import('./api/doctor.js');
  return checks();
}

/** The scenario JSON Schema (for editor autocompletion). */
export function schema(): unknown {
  return jsonSchema();
}

/** Deployable artifacts of a PROMOTE run; the exit code. */
export async function exportRun(dir: string, o: ExportOptions = {}): Promise<number> {
  const { exportCommand } = await import('./rollout/export.js');
  return exportCommand(dir, o);
}

/** A staged production rollout plan of a promoted run; the exit code. */
export async function rolloutPlan(
  dir: string,
  o: Omit<PlanOptions, 'stages' | 'bakeS'> & { stages?: string; bake?: string },
): Promise<number> {
  const { rolloutPlanCommand, parseStages, parseDuration } = await import('./rollout/plan.js');
  return rolloutPlanCommand(dir, { ...o, stages: parseStages(o.stages ?? '1,10,50,100'), bakeS: parseDuration(o.bake ?? '1h') });
}

/** Judge a production stage with the lab judge: ADVANCE 0 / HOLD 4 / ROLLBACK 1. */
export async function gate(o: GateOptions): Promise<number> {
  const { gateCommand } = await import('./rollout/gate.js');
  return gateCommand(o);
}

/** Prepare the VM's kernel and initramfs in the cache (idempotent). */
export async function vmSetup(o: { force?: boolean; log?: (line: string) => void } = {}) {
  const vm = await import('./vm/index.js');
  return vm.vmSetup(o);
}

/** Is the VM cache ready, which kernel, does KVM work: a printable report. */
export async function vmDoctor(o: { live?: boolean } = {}): Promise<string> {
  const { vmDoctor: check, formatVmDoctor } = await import('./vm/index.js');
  return formatVmDoctor(await check(o));
}

/** (Re)build netab's endpoint image locally from host binaries; the exit code. */
export async function dockerBuildImage(o: { force?: boolean; log?: (line: string) => void } = {}): Promise<number> {
  const { dockerBuildImageCommand } = await import('./topology/docker/index.js');
  return dockerBuildImageCommand(o);
}
