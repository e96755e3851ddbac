/**
 * Synthetic runs for calibration: A/A false-rollback rate, power against a given regression, and
 * mean pairs used in sequential mode. Shared by test/unit/judge-simulation.test.ts and
 * bench/judge.mjs so both report the same computation.
 */
import { mulberry32, normalSource } from '../stats/index.js';
import type { Decision, JudgeSettings, RunManifest, TrialRecord } from '../results/types.js';
import { judgeRecords } from './judge.js';
import { sequentialLook } from './sequential.js';

export interface SimulationOptions {
  /** Number of synthetic comparisons. */
  runs: number;
  /** Measured pairs per comparison (fixed n; in sequential mode the plan's maximum is used instead). */
  pairs: number;
  /** Coefficient of variation of each trial's metric values. */
  cv: number;
  /** True canary/control ratio of the primary metric (goodput, higher is better): 1 = A/A, 0.9 = 10 % worse. */
  ratio: number;
  seed: number;
  distribution?: 'lognormal' | 'normal';
  alpha?: number;
  /** Relative margin of the primary metric (default 0.02). */
  margin?: number;
  /** Also judge a second, non-critical metric (rtt_p50, lower is better, identical in both arms). Default true. */
  secondary?: boolean;
  /**
   * 'bulk': judge the bulk workload's default metrics instead (goodput critical; retrans, rtt_p50,
   * rtt_p99 not critical, identical in both arms), as src/scenario/metrics.ts sets them.
   */
  metrics?: 'bulk';
  /** Probability that a trial of either arm fails (status failed, no metrics). Default 0. */
  failureRate?: number;
  /** Probability that a canary trial fails (replaces failureRate for the canary). */
  canaryFailureRate?: number;
  /** 'holm': plain Holm across every test instead of the gatekeeping scheme (for comparison only). */
  multiplicity?: 'gatekeeping' | 'holm';
  expectImprovement?: boolean;
  sequential?: { looks: number; pairsPerLook: number };
}

export interface SimulationSummary {
  runs: number;
  decisions: Record<Decision, number>;
  rollbackRate: number;
  promoteRate: number;
  holdRate: number;
  /** Mean measured pairs used per comparison. */
  meanPairs: number;
}

export function judgeSettingsFor(o: SimulationOptions): JudgeSettings {
  const metrics: JudgeSettings['metrics'] = [
    {
      name: 'goodput',
      unit: 'Mbit/s',
      direction: 'higher',
      scale: 'log',
      margin: { kind: 'relative', value: o.margin ?? 0.02 },
      critical: true,
      required: true,
    },
  ];
  if (o.metrics === 'bulk')
    metrics.push(
      {
        name: 'retrans',
        unit: 'ratio',
        direction: 'lower',
        scale: 'linear',
        margin: { kind: 'absolute', value: 0.005 },
        critical: false,
        required: false,
      },
      {
        name: 'rtt_p50',
        unit: 'ms',
        direction: 'lower',
        scale: 'log',
        margin: { kind: 'relative', value: 0.1 },
        critical: false,
        required: false,
      },
      {
        name: 'rtt_p99',
        unit: 'ms',
        direction: 'lower',
        scale: 'log',
        margin: { kind: 'relative', value: 0.2 },
        critical: false,
        required: false,
      },
    );
  else if (o.secondary ?? true)
    metrics.push({
      name: 'rtt_p50',
      unit: 'ms',
      direction: 'lower',
      scale: 'log',
      margin: { kind: 'relative', value: 0.1 },
      critical: false,
      required: false,
    });
  const s: JudgeSettings = {
    alpha: o.alpha ?? 0.05,
    minPairs: 5,
    primary: 'goodput',
    expectImprovement: o.expectImprovement ?? false,
    nonCriticalRegressionsToFail: 2,
    maxFailedFraction: 0.2,
    excludeSuspect: true,
    sequential: !!o.sequential,
    metrics,
  };
  if (o.sequential) s.sequentialPlan = { ...o.sequential };
  return s;
}

/** One synthetic comparison: `pairs` pairs, arm order randomised within each pair. */
export function syntheticRun(
  o: SimulationOptions,
  pairs: number,
  rand: () => number,
  gauss: () => number,
  runId = 'sim',
): { manifest: RunManifest; records: TrialRecord[] } {
  const settings = judgeSettingsFor(o);
  const sigma = Math.sqrt(Math.log(1 + o.cv * o.cv));
  const draw = (median: number): number =>
    o.distribution === 'normal' ? median * (1 + o.cv * gauss()) : median * Math.exp(sigma * gauss());
  const records: TrialRecord[] = [];
  const t0 = Date.UTC(2025, 0, 1);
  for (let p = 0; p < pairs; p++) {
    const canaryFirst = rand() < 0.5;
    for (const arm of ['control', 'canary'] as const) {
      const position = (arm === 'canary') === canaryFirst ? 0 : 1;
      const failP = arm === 'canary' ? (o.canaryFailureRate ?? o.failureRate ?? 0) : (o.failureRate ?? 0);
      const failed = failP > 0 && rand() < failP;
      const metrics: Record<string, number | null> = {
        goodput: draw(arm === 'canary' ? 100 * o.ratio : 100),
        rtt_p50: draw(40),
      };
      if (o.metrics === 'bulk') {
        metrics.retrans = 0.001 * Math.exp(0.3 * gauss());
        metrics.rtt_p99 = draw(45);
      }
      records.push({
        type: 'trial',
        runId,
        scenario: 'sim',
        trial: `sim#${p}-${arm}`,
        pair: p,
        position,
        arm,
        warmup: false,
        status: failed ? 'failed' : 'ok',
        suspect: null,
        ...(failed ? { reason: 'simulated failure' } : {}),
        startedAt: new Date(t0 + (2 * p + position) * 10_000).toISOString(),
        durationMs: 10_000,
        attempt: 1,
        metrics: failed ? {} : metrics,
      });
    }
  }
  const manifest: RunManifest = {
    format: 'netab-run/1',
    runId,
    netabVersion: 'sim',
    createdAt: new Date(t0).toISOString(),
    command: ['simulate'],
    sourceFile: 'simulation',
    seed: o.seed,
    backend: 'netns',
    aa: o.ratio === 1,
    environment: { kernel: 'sim', hostname: 'sim', node: process.version, netem: false },
    scenarios: [{ id: 'sim', name: 'simulation', params: {}, hash: '', scenario: null, judge: settings }],
  };
  return { manifest, records };
}

function summary(runs: number, decisions: Record<Decision, number>, pairsUsed: number): SimulationSummary {
  return {
    runs,
    decisions,
    rollbackRate: decisions.rollback / runs,
    promoteRate: decisions.promote / runs,
    holdRate: decisions.hold / runs,
    meanPairs: pairsUsed / runs,
  };
}

/** Fixed-n simulation: judgeRecords on `runs` synthetic comparisons of `pairs` pairs each. */
export function simulate(o: SimulationOptions): SimulationSummary {
  const rand = mulberry32(o.seed);
  const gauss = normalSource(rand);
  const decisions: Record<Decision, number> = { promote: 0, hold: 0, rollback: 0 };
  const fixed = { ...o, sequential: undefined } as SimulationOptions;
  for (let i = 0; i < o.runs; i++) {
    const { manifest, records } = syntheticRun(fixed, o.pairs, rand, gauss);
    decisions[
      judgeRecords(manifest, records, { now: '2025-01-01T00:00:00.000Z', ...(o.multiplicity ? { multiplicity: o.multiplicity } : {}) })
        .decision
    ]++;
  }
  return summary(o.runs, decisions, o.runs * o.pairs);
}

/**
 * Sequential simulation: the runner's loop. After each block of `pairsPerLook` pairs,
 * sequentialLook decides whether to stop; the pairs used and the decision at the stop are counted.
 * With `check`, every run's decision is also re-derived offline with judgeRecords (the replay) and
 * a mismatch throws.
 */
export function simulateSequential(
  o: SimulationOptions & { sequential: { looks: number; pairsPerLook: number } },
  check = false,
): SimulationSummary {
  const rand = mulberry32(o.seed);
  const gauss = normalSource(rand);
  const decisions: Record<Decision, number> = { promote: 0, hold: 0, rollback: 0 };
  const { looks, pairsPerLook } = o.sequential;
  let used = 0;
  for (let i = 0; i < o.runs; i++) {
    const { manifest, records } = syntheticRun(o, looks * pairsPerLook, rand, gauss);
    const settings = manifest.scenarios[0]!.judge;
    let decision: Decision = 'hold';
    let pairs = 0;
    for (let k = 1; k <= looks; k++) {
      pairs = k * pairsPerLook;
      const r = sequentialLook(
        records.filter((t) => t.pair < pairs),
        settings,
        { index: k, planned: looks, scenarios: 1 },
        'sim',
      );
      decision = r.decisionSoFar;
      if (r.stop) break;
    }
    if (check) {
      const offline = judgeRecords(
        manifest,
        records.filter((t) => t.pair < pairs),
        { now: '2025-01-01T00:00:00.000Z' },
      ).decision;
      if (offline !== decision) throw new Error(`sequential replay mismatch in run ${i}: online ${decision}, offline ${offline}`);
    }
    decisions[decision]++;
    used += pairs;
  }
  return summary(o.runs, decisions, used);
}
