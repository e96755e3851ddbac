/**
 * Judge with hand-built TrialRecords. Expected effects, intervals and p-values come from R
 * (wilcox.test(d, mu = min(d) - 1, conf.int = TRUE, conf.level = 0.9), wilcox.test(d, mu = log(0.98),
 * alternative = "less")) on the same per-pair log ratios; they are quoted next to each assertion.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  exitCodeFor,
  judgeRecords,
  judgeRun,
  parseResults,
  readRun,
  sequentialLook,
  thresholdFor,
  writeVerdict,
} from '../../src/judge/index.js';
import { checkAlpha, checkMargin, parseAlphaOption, parseMarginOption, reachability } from '../../src/judge/plan.js';
import { InputError } from '../../src/errors.js';
import type { JudgeSettings, ManifestScenario, MetricSpec, RunManifest, TrialRecord } from '../../src/results/types.js';

const NOW = '2025-06-01T00:00:00.000Z';
const C8 = [100, 102, 98, 101, 99, 103, 97, 100];

const goodput: MetricSpec = {
  name: 'goodput',
  unit: 'Mbit/s',
  direction: 'higher',
  scale: 'log',
  margin: { kind: 'relative', value: 0.02 },
  critical: true,
  required: true,
};
const rtt: MetricSpec = {
  name: 'rtt_p50',
  unit: 'ms',
  direction: 'lower',
  scale: 'log',
  margin: { kind: 'relative', value: 0.1 },
  critical: false,
  required: false,
};
const retrans: MetricSpec = {
  name: 'retrans',
  unit: 'ratio',
  direction: 'lower',
  scale: 'linear',
  margin: { kind: 'absolute', value: 0.005 },
  critical: false,
  required: false,
};

function settings(o: Partial<JudgeSettings> = {}): JudgeSettings {
  return {
    alpha: 0.05,
    minPairs: 5,
    primary: 'goodput',
    expectImprovement: false,
    nonCriticalRegressionsToFail: 2,
    maxFailedFraction: 0.2,
    excludeSuspect: true,
    sequential: false,
    metrics: [goodput, rtt],
    ...o,
  };
}

type M = Record<string, number | null>;
interface PairIn {
  control: M;
  canary: M;
  controlExtra?: Partial<TrialRecord>;
  canaryExtra?: Partial<TrialRecord>;
}

function trial(scenario: string, pair: number, arm: 'control' | 'canary', metrics: M, extra: Partial<TrialRecord> = {}): TrialRecord {
  const position = ((pair + (arm === 'canary' ? 1 : 0)) % 2) as 0 | 1;
  return {
    type: 'trial',
    runId: 'r1',
    scenario,
    trial: `${scenario}#${pair}-${arm}`,
    pair,
    position,
    arm,
    warmup: false,
    status: 'ok',
    suspect: null,
    startedAt: new Date(Date.UTC(2025, 0, 1) + (pair * 2 + position) * 1000).toISOString(),
    durationMs: 1000,
    attempt: 1,
    metrics,
    ...extra,
  };
}

function records(scenario: string, pairs: PairIn[], firstPair = 0): TrialRecord[] {
  return pairs.flatMap((p, i) => [
    trial(scenario, firstPair + i, 'control', p.control, p.controlExtra),
    trial(scenario, firstPair + i, 'canary', p.canary, p.canaryExtra),
  ]);
}

function manifest(scenarios: Array<{ id: string; judge: JudgeSettings }>): RunManifest {
  return {
    format: 'netab-run/1',
    runId: 'r1',
    netabVersion: '0.1.0',
    createdAt: NOW,
    command: ['netab', 'run'],
    sourceFile: 'test.yaml',
    seed: 1,
    backend: 'netns',
    aa: false,
    environment: { kernel: 'test', hostname: 'test', node: 'v20', netem: true },
    scenarios: scenarios.map((s): ManifestScenario => ({ id: s.id, name: s.id, params: {}, hash: 'h', scenario: null, judge: s.judge })),
  };
}

/** Pairs with goodput canary = control·e^d and an identical rtt in both arms. */
function fromD(d: number[], control = C8, rttValue: number | null = 20): PairIn[] {
  return d.map((x, i) => ({
    control: { goodput: control[i % control.length]!, rtt_p50: rttValue },
    canary: { goodput: control[i % control.length]! * Math.exp(x), rtt_p50: rttValue },
  }));
}

const REGRESS_CONTROL = [100, 102, 98, 101, 99, 103, 97, 100];
const REGRESS_CANARY = [89, 93, 88, 90, 90, 91, 87, 92];
const regressPairs = (): PairIn[] =>
  REGRESS_CONTROL.map((c, i) => ({ control: { goodput: c, rtt_p50: 20 }, canary: { goodput: REGRESS_CANARY[i]!, rtt_p50: 20 } }));

const judgeOne = (pairs: PairIn[], s = settings(), id = 'bulk') =>
  judgeRecords(manifest([{ id, judge: s }]), records(id, pairs), { now: NOW });

describe('thresholds', () => {
  it('relative margin on the log scale is ln(1 - m); absolute and linear ones as documented', () => {
    expect(thresholdFor(goodput, 100)).toBe(Math.log1p(-0.02));
    expect(thresholdFor({ ...goodput, margin: { kind: 'absolute', value: 5 } }, 100)).toBeCloseTo(Math.log(0.95), 15);
    expect(thresholdFor({ ...rtt, margin: { kind: 'absolute', value: 5 } }, 20)).toBeCloseTo(Math.log(20 / 25), 15);
    expect(thresholdFor(retrans, 0.01)).toBe(-0.005);
    expect(thresholdFor({ ...retrans, margin: { kind: 'relative', value: 0.5 } }, 0.01)).toBe(-0.005);
  });
});

describe('metric verdicts', () => {
  it('REGRESSED with the effect, interval and adjusted p of R', () => {
    const v = judgeOne(regressPairs());
    const m = v.scenarios[0]!.metrics[0]!;
    expect(m.verdict).toBe('REGRESSED');
    expect(m.analysis).toBe('paired');
    expect(m.effect!).toBeCloseTo(-0.10561625559389892, 14); // R (pseudo)median
    expect(m.ci![0]).toBeCloseTo(-0.115922331383472937, 14);
    expect(m.ci![1]).toBeCloseTo(-0.095310179804324893, 14);
    expect(m.pMargin!).toBeCloseTo(0.00390625, 15); // R: 0.0039062500000000009
    expect(m.p!).toBeCloseTo(0.0078125, 15); // R two-sided
    // one non-critical metric cannot roll back alone (2 needed): fixed sequence, goodput at full alpha
    expect(m.pMarginAdjusted).toBe(0.00390625);
    const r = v.scenarios[0]!.metrics[1]!; // then rtt_p50 at full alpha: its own p
    expect(r.pMarginAdjusted).toBe(r.pMargin);
    expect(m.effectPct!).toBeCloseTo(-10.0230136513662416, 11);
    expect(m.cliffsDelta).toBe(-1);
    expect(m.threshold).toBe(Math.log1p(-0.02));
    expect(v.scenarios[0]!.metrics[1]!.verdict).toBe('PASS'); // rtt identical in both arms: CI [0, 0]
    expect(v.scenarios[0]!.metrics[1]!.ci).toEqual([0, 0]);
  });

  it('IMPROVED when the interval is entirely above 0', () => {
    const v = judgeOne(fromD([0.08, 0.12, 0.1, 0.09, 0.11, 0.105, 0.095, 0.1]));
    expect(v.scenarios[0]!.metrics[0]!.verdict).toBe('IMPROVED');
    expect(v.scenarios[0]!.verdict).toBe('IMPROVED');
    expect(v.decision).toBe('promote');
  });

  it('PASS when the interval straddles 0 but stays above -margin', () => {
    const v = judgeOne(fromD([0.004, -0.003, 0.002, -0.005, 0.001, 0.003, -0.002, 0.0005]));
    const m = v.scenarios[0]!.metrics[0]!;
    expect(m.verdict).toBe('PASS');
    expect(m.label).toBeUndefined();
    expect(v.scenarios[0]!.verdict).toBe('PASS');
    expect(v.decision).toBe('promote');
    expect(v.reasons[0]).toMatch(/^PROMOTE: all 1 scenario pass/);
  });

  it("PASS labelled 'worse but within tolerance' when entirely below 0", () => {
    const v = judgeOne(fromD([-0.01, -0.011, -0.009, -0.0105, -0.0095, -0.012, -0.008, -0.01]));
    const m = v.scenarios[0]!.metrics[0]!;
    expect(m.verdict).toBe('PASS');
    expect(m.label).toBe('worse but within tolerance');
    expect(v.scenarios[0]!.reasons.some((r) => r.startsWith('goodput is worse but within tolerance'))).toBe(true);
  });

  it('INCONCLUSIVE when the interval straddles -margin, with morePairs from the precision calculation', () => {
    // R: estimate -0.00875, 90 % CI [-0.04, 0.025]; n' = 8·((z.95 + z.8)·0.03125/(z.95·(-0.00875 - ln 0.98)))² = 136.1
    const v = judgeOne(fromD([-0.06, 0.03, -0.04, 0.02, -0.012, 0.011, -0.05, 0.045]));
    const m = v.scenarios[0]!.metrics[0]!;
    expect(m.verdict).toBe('INCONCLUSIVE');
    expect(m.effect!).toBeCloseTo(-0.00875, 14);
    expect(m.ci![0]).toBeCloseTo(-0.04, 14);
    expect(m.ci![1]).toBeCloseTo(0.025, 14);
    expect(m.morePairs).toBe(129);
    expect(v.scenarios[0]!.verdict).toBe('INCONCLUSIVE');
    expect(v.scenarios[0]!.morePairs).toBe(129);
    expect(v.decision).toBe('hold');
    expect(v.morePairs).toBe(129);
    expect(v.reasons).toContain(
      'About 129 more pairs per scenario would be needed to settle it (precision estimate from the observed spread and the distance to the boundary, 80 % power).',
    );
  });

  it('NODATA for a non-required metric without values does not block PASS', () => {
    const v = judgeOne(fromD([0.004, -0.003, 0.002, -0.005, 0.001, 0.003, -0.002, 0.0005], C8, null));
    const r = v.scenarios[0]!.metrics[1]!;
    expect(r.verdict).toBe('NODATA');
    expect(r.control.droppedWhy).toEqual(['null metric: 8']);
    expect(v.scenarios[0]!.verdict).toBe('PASS');
    expect(v.decision).toBe('promote');
  });

  it('ERROR for a required metric without values', () => {
    const pairs = C8.map((_c) => ({ control: { goodput: null, rtt_p50: 20 }, canary: { goodput: null, rtt_p50: 20 } }));
    const v = judgeOne(pairs);
    expect(v.scenarios[0]!.metrics[0]!.verdict).toBe('ERROR');
    expect(v.scenarios[0]!.verdict).toBe('ERROR');
    expect(v.decision).toBe('hold');
    expect(exitCodeFor(v.decision)).toBe(4);
  });

  it('a scenario that failed before any trial is ERROR and the run holds', () => {
    const m = manifest([
      { id: 'a', judge: settings() },
      { id: 'b', judge: settings() },
    ]);
    m.scenarios[1]!.status = 'failed';
    m.scenarios[1]!.error = 'netns setup failed';
    const v = judgeRecords(m, records('a', fromD([0.08, 0.12, 0.1, 0.09, 0.11, 0.105, 0.095, 0.1])), { now: NOW });
    expect(v.scenarios.map((s) => s.verdict)).toEqual(['IMPROVED', 'ERROR']);
    expect(v.scenarios[1]!.reasons).toContain('No measured trials recorded for this scenario (netns setup failed).');
    expect(v.decision).toBe('hold');
    expect(v.reasons[0]).toBe('HOLD: 1 of 2 scenarios did not pass ("b" ERROR).');
  });

  it('unreachable interval (too few pairs) is INCONCLUSIVE, never decided from 3 pairs', () => {
    const v = judgeOne(fromD([-0.3, -0.31, -0.29]));
    const m = v.scenarios[0]!.metrics[0]!;
    expect(m.verdict).toBe('INCONCLUSIVE');
    expect(m.ci).toBeNull();
    expect(m.note).toContain('too few values for a 90 % interval');
    expect(v.scenarios[0]!.gates).toEqual(['minPairs']);
    expect(v.decision).toBe('hold');
    expect(v.morePairs).toBeGreaterThanOrEqual(2);
  });

  it('goodput 0 is a trial that moved no data (all its values dropped); suspect trials are dropped; both named', () => {
    const pairs = fromD([0.004, -0.003, 0.002, -0.005, 0.001, 0.003, -0.002, 0.0005, 0.001, -0.001]);
    pairs[2]!.canary.goodput = 0;
    pairs[5]!.controlExtra = { suspect: 'relay late by 40 ms' };
    const v = judgeOne(pairs);
    const s = v.scenarios[0]!;
    const m = s.metrics[0]!;
    expect(m.canary.droppedWhy).toEqual(['moved no data: 1']);
    expect(s.metrics[1]!.canary.droppedWhy).toEqual(['moved no data: 1']); // its rtt is not used either
    expect(m.control.droppedWhy).toEqual(['suspect trial excluded: 1']);
    expect(m.pairs).toBe(8);
    expect(s.failures!.canary).toEqual({ trials: 10, failed: 0, noData: 1 });
    const dropped =
      'Dropped values: goodput: control 1 (suspect trial excluded: 1), canary 1 (moved no data: 1); rtt_p50: control 1 (suspect trial excluded: 1), canary 1 (moved no data: 1).';
    expect(s.reasons).toContain(dropped);
    expect(v.reasons).toContain(`Scenario "bulk": ${dropped}`);
    expect(v.decision).toBe('promote'); // 1 of 10 is within the 20 % per-arm limit, and the rest pass
  });

  it('a non-positive value of a metric other than the primary is dropped for that metric only', () => {
    const pairs = fromD([0.004, -0.003, 0.002, -0.005, 0.001, 0.003, -0.002, 0.0005, 0.001, -0.001]);
    pairs[3]!.canary.rtt_p50 = 0;
    const m = judgeOne(pairs).scenarios[0]!;
    expect(m.metrics[1]!.canary.droppedWhy).toEqual(['non-positive on log scale: 1']);
    expect(m.metrics[0]!.canary.dropped).toBe(0);
  });

  it('linear scale: difference in metric units with an absolute margin', () => {
    const pairs = C8.map((c, i) => ({
      control: { goodput: c, retrans: 0.01 + i * 0.0001 },
      canary: { goodput: c, retrans: 0.02 + i * 0.0001 + (i % 2 ? 0.0003 : -0.0002) },
    }));
    const v = judgeOne(pairs, settings({ metrics: [goodput, retrans] }));
    const m = v.scenarios[0]!.metrics[1]!;
    expect(m.scale).toBe('linear');
    expect(m.effect!).toBeLessThan(-0.009);
    expect(m.threshold).toBe(-0.005);
    expect(m.ci![1]).toBeLessThan(-0.005);
    // one non-critical metric cannot roll back alone (2 needed), so it gets no alpha before goodput
    // regressed (fixed sequence): below the margin, not significant
    expect(m.pMarginAdjusted).toBe(v.scenarios[0]!.metrics[0]!.pMargin); // goodput's p (0.998) first, then max
    expect(m.pMarginAdjusted!).toBeGreaterThan(0.99);
    expect(m.verdict).toBe('INCONCLUSIVE');
    expect(m.label).toBe('below the margin but not significant after multiplicity adjustment');
    expect(v.scenarios[0]!.verdict).toBe('INCONCLUSIVE');
    expect(v.decision).toBe('hold');
  });

  it('unpaired fallback when pairing is unusable but both arms have enough values', () => {
    // the metric is missing in alternating arms: 0 complete pairs, 6 values per arm
    const pairs: PairIn[] = Array.from({ length: 12 }, (_, i) => ({
      control: { goodput: 100 + (i % 5), rtt_p50: i % 2 ? 20 : null },
      canary: { goodput: 100 + (i % 5), rtt_p50: i % 2 ? null : 20 + (i % 3) },
    }));
    const v = judgeOne(pairs);
    const m = v.scenarios[0]!.metrics[1]!;
    expect(m.analysis).toBe('unpaired');
    expect(m.method).toMatch(/^unpaired, 6 control \/ 6 canary: Mann-Whitney/);
    expect(m.note).toContain('only 0 complete pairs: unpaired fallback on 6 control and 6 canary values');
  });
});

describe('scenario verdicts', () => {
  it('REGRESSED when two non-critical metrics regress (nonCriticalRegressionsToFail = 2)', () => {
    const rttB: MetricSpec = { ...rtt, name: 'rtt_p99' };
    const pairs = C8.map((c, i) => ({
      control: { goodput: c, rtt_p50: 20 + i * 0.1, rtt_p99: 40 + i * 0.1 },
      canary: { goodput: c * (1 + (i % 2 ? 0.001 : -0.001)), rtt_p50: (20 + i * 0.1) * 1.3, rtt_p99: (40 + i * 0.1) * 1.4 },
    }));
    const v = judgeOne(pairs, settings({ metrics: [goodput, rtt, rttB] }));
    expect(v.scenarios[0]!.metrics.map((m) => m.verdict)).toEqual(['PASS', 'REGRESSED', 'REGRESSED']);
    // tied per-pair effects: normal approximation p = 0.00577, 0.00632; the two non-critical metrics
    // share 1/3 of alpha: 0.00577 / (1/6), then max(that, 0.00632 / (1/3))
    const [, r50, r99] = v.scenarios[0]!.metrics;
    expect(r50!.pMarginAdjusted!).toBeCloseTo(r50!.pMargin! * 6, 15);
    expect(r99!.pMarginAdjusted!).toBeCloseTo(r50!.pMargin! * 6, 15);
    expect(v.scenarios[0]!.verdict).toBe('REGRESSED');
    expect(v.decision).toBe('rollback');
    expect(exitCodeFor(v.decision)).toBe(1);
  });

  it('critical first: 6 pairs below the margin with 3 non-critical metrics is REGRESSED (plain Holm said 4/64)', () => {
    // 6 pairs all below ln 0.98: one-sided exact p = 1/64 = 0.015625 (R); goodput gets 2/3 of alpha
    const d6 = [0.9, 0.91, 0.89, 0.92, 0.88, 0.905].map(Math.log);
    const three = settings({ metrics: [goodput, rtt, { ...rtt, name: 'rtt_p99' }, { ...rtt, name: 'rtt_p90' }] });
    const pairs = d6.map((x, i) => ({
      control: { goodput: C8[i]!, rtt_p50: 20, rtt_p99: 30, rtt_p90: 25 },
      canary: { goodput: C8[i]! * Math.exp(x), rtt_p50: 20, rtt_p99: 30, rtt_p90: 25 },
    }));
    const v = judgeOne(pairs, three);
    const m = v.scenarios[0]!.metrics[0]!;
    expect(m.ci![1]).toBeLessThan(Math.log(0.98));
    expect(m.pMargin!).toBeCloseTo(0.015625, 15);
    expect(m.pMarginAdjusted!).toBeCloseTo(0.0234375, 15); // 1/64 ÷ (2/3)
    expect(m.verdict).toBe('REGRESSED');
    expect(v.decision).toBe('rollback');
    expect(v.multiplicity).toEqual({ scheme: 'gatekeeping', criticalShare: 2 / 3, tests: 4, scenarios: 1 });
  });

  it('INCONCLUSIVE below the margin when the adjustment takes significance away (4 scenarios)', () => {
    const d6 = [0.9, 0.91, 0.89, 0.92, 0.88, 0.905].map(Math.log);
    const ids = ['a', 'b', 'c', 'd'];
    const v = judgeRecords(
      manifest(ids.map((id) => ({ id, judge: settings() }))),
      ids.flatMap((id) => records(id, fromD(d6))),
      { now: NOW },
    );
    const m = v.scenarios[0]!.metrics[0]!;
    expect(m.pMarginAdjusted).toBe(0.0625); // 1/64 × 4 scenarios
    expect(m.verdict).toBe('INCONCLUSIVE');
    expect(m.label).toBe('below the margin but not significant after multiplicity adjustment');
    expect(v.decision).toBe('hold');
  });
});

describe('rollout decision', () => {
  it('ROLLBACK reason names scenario, metric, effect and interval in %', () => {
    const v = judgeOne(regressPairs());
    expect(v.decision).toBe('rollback');
    expect(v.reasons[0]).toBe('ROLLBACK: 1 of 1 scenario regressed ("bulk").');
    // R: -10.023 % (90 % CI -10.946 % to -9.091 %), p = 2 · 1/256
    expect(v.reasons[1]).toBe(
      'Scenario "bulk": goodput regressed by -10.0 % (90 % CI -10.9 % to -9.1 %), beyond the -2 % margin (adjusted p = 0.0039).',
    );
    expect(v.format).toBe('netab-verdict/1');
    expect(v.judgedAt).toBe(NOW);
    expect(v.alpha).toBe(0.05);
  });

  it('Holm across scenarios: the same regression is significant alone and in a run of two or three, not of four', () => {
    const d6 = [0.9, 0.91, 0.89, 0.92, 0.88, 0.905].map(Math.log);
    const run = (ids: string[]) =>
      judgeRecords(
        manifest(ids.map((id) => ({ id, judge: settings() }))),
        ids.flatMap((id) => records(id, fromD(d6))),
        { now: NOW },
      );
    const alone = run(['a']);
    expect(alone.scenarios[0]!.metrics[0]!.pMarginAdjusted).toBe(0.015625);
    expect(alone.decision).toBe('rollback');
    const two = run(['a', 'b']);
    expect(two.scenarios.map((s) => s.metrics[0]!.pMarginAdjusted)).toEqual([0.03125, 0.03125]);
    expect(two.decision).toBe('rollback');
    expect(two.reasons).toContain(
      "Multiplicity: 4 rollback tests in 2 scenarios at alpha = 0.05, gatekeeping: the failure test and critical metrics first (100 % of each scenario's share), the other metrics with the rest, Holm across scenarios.",
    );
    const three = run(['a', 'b', 'c']);
    expect(three.scenarios.map((s) => s.metrics[0]!.pMarginAdjusted)).toEqual([0.046875, 0.046875, 0.046875]);
    expect(three.decision).toBe('rollback');
    const four = run(['a', 'b', 'c', 'd']);
    expect(four.scenarios.map((s) => s.verdict)).toEqual(['INCONCLUSIVE', 'INCONCLUSIVE', 'INCONCLUSIVE', 'INCONCLUSIVE']);
    expect(four.decision).toBe('hold');
  });

  it('PROMOTE needs every scenario to pass (intersection-union)', () => {
    const pass = fromD([0.004, -0.003, 0.002, -0.005, 0.001, 0.003, -0.002, 0.0005]);
    const incon = fromD([-0.06, 0.03, -0.04, 0.02, -0.012, 0.011, -0.05, 0.045]);
    const v = judgeRecords(
      manifest([
        { id: 'a', judge: settings() },
        { id: 'b', judge: settings() },
      ]),
      [...records('a', pass), ...records('b', incon)],
      { now: NOW },
    );
    expect(v.scenarios.map((s) => s.verdict)).toEqual(['PASS', 'INCONCLUSIVE']);
    expect(v.decision).toBe('hold');
    expect(v.reasons[0]).toBe('HOLD: 1 of 2 scenarios did not pass ("b" INCONCLUSIVE).');
  });

  it('expectImprovement: PASS without improvement holds; the primary must improve wherever measured', () => {
    const s = settings({ expectImprovement: true });
    const flat = judgeOne(fromD([0.004, -0.003, 0.002, -0.005, 0.001, 0.003, -0.002, 0.0005]), s);
    expect(flat.scenarios[0]!.verdict).toBe('PASS');
    expect(flat.decision).toBe('hold');
    expect(
      flat.reasons.some((r) => r.startsWith('Scenario "bulk": the primary metric goodput did not show the expected improvement')),
    ).toBe(true);
    const better = fromD([0.08, 0.12, 0.1, 0.09, 0.11, 0.105, 0.095, 0.1]);
    // scenario b does not measure goodput at all (not in its metric list): no requirement there
    const sb = settings({ expectImprovement: true, metrics: [rtt], primary: 'goodput' });
    const v = judgeRecords(
      manifest([
        { id: 'a', judge: s },
        { id: 'b', judge: sb },
      ]),
      [...records('a', better), ...records('b', fromD([0, 0, 0, 0, 0, 0, 0, 0]))],
      { now: NOW },
    );
    expect(v.scenarios.map((x) => x.verdict)).toEqual(['IMPROVED', 'PASS']);
    expect(v.decision).toBe('promote');
    expect(exitCodeFor(v.decision)).toBe(0);
  });

  it('overrides: a wider margin turns the regression into PASS territory', () => {
    const v = judgeRecords(manifest([{ id: 'bulk', judge: settings() }]), records('bulk', regressPairs()), {
      now: NOW,
      margin: { kind: 'relative', value: 0.2 },
    });
    expect(v.scenarios[0]!.metrics[0]!.verdict).toBe('PASS');
    expect(v.scenarios[0]!.metrics[0]!.label).toBe('worse but within tolerance');
    const strict = judgeRecords(manifest([{ id: 'bulk', judge: settings() }]), records('bulk', regressPairs()), { now: NOW, alpha: 0.001 });
    expect(strict.alpha).toBe(0.001);
    expect(strict.decision).toBe('hold'); // 8 pairs cannot reach a 99.8 % interval
  });
});

describe('data-quality gates', () => {
  const clean = () => fromD([0.08, 0.12, 0.1, 0.09, 0.11, 0.105, 0.095, 0.1, 0.1, 0.098]);

  it('failed + suspect share of one arm above maxFailedFraction forces HOLD; the failure test is named', () => {
    const pairs = clean();
    pairs[0]!.canaryExtra = { status: 'failed', reason: 'iperf3 timeout' };
    pairs[1]!.canaryExtra = { status: 'failed', reason: 'iperf3 timeout' };
    pairs[2]!.canaryExtra = { suspect: 'cpu 100 %' };
    pairs[3]!.controlExtra = { status: 'failed', reason: 'iperf3 timeout' };
    pairs[4]!.canaryExtra = { status: 'failed', reason: 'iperf3 timeout' };
    const v = judgeOne(pairs);
    const s = v.scenarios[0]!;
    expect(s.gates).toEqual(['failed']);
    expect(s.reasons).toContain(
      'Data quality: canary lost 4 of 10 trials (3 failed, 0 moved no data, 1 suspect; 40.0 %), control lost 1 of 10 trials (1 failed, 0 moved no data, 0 suspect; 10.0 %); canary above the 20 % limit per arm.',
    );
    // Fisher: P(X ≥ 3 | 4 failures in 20 trials, 10 canary) = (4·C(16,7) + C(16,6)) / C(20,10) = 53768/184756
    expect(s.failures!.p!).toBeCloseTo(53768 / 184756, 14);
    expect(s.failures!.pMin!).toBeCloseTo(8008 / 184756, 14);
    expect(s.failures!.verdict).toBe('NOT_SIGNIFICANT');
    // critical family {failures, goodput} at 1/2 each; goodput improved (margin p near 1): failures first, 2p
    expect(s.failures!.pAdjusted!).toBeCloseTo((2 * 53768) / 184756, 14);
    expect(s.reasons).toContain(
      'Failures: canary failed 3 of 10 trials, control 1 of 10; one-sided Fisher exact p = 0.29, adjusted p = 0.58 > 0.05: not significant.',
    );
    expect(s.metrics[0]!.verdict).toBe('IMPROVED');
    expect(s.metrics[0]!.canary.droppedWhy).toEqual(['failed trial: 3', 'suspect trial excluded: 1']);
    expect(s.verdict).toBe('INCONCLUSIVE');
    expect(s.reasons).toContain('The statistics alone say IMPROVED, but a data-quality gate fired: INCONCLUSIVE (hold).');
    expect(v.decision).toBe('hold');
  });

  it('unequal arm counts beyond an interrupted last pair force HOLD', () => {
    const recs = records('bulk', clean()).filter((r) => !(r.arm === 'canary' && (r.pair === 3 || r.pair === 6)));
    const v = judgeRecords(manifest([{ id: 'bulk', judge: settings() }]), recs, { now: NOW });
    expect(v.scenarios[0]!.gates).toEqual(['imbalance']);
    expect(v.scenarios[0]!.reasons).toContain(
      'Data quality: unequal arm counts, 10 control vs 8 canary trial records with 2 pairs missing one arm; an interrupted last pair explains at most one.',
    );
    expect(v.decision).toBe('hold');
    // one missing record (a crash in the last pair) is fine
    const one = records('bulk', clean()).slice(0, -1);
    expect(judgeRecords(manifest([{ id: 'bulk', judge: settings() }]), one, { now: NOW }).decision).toBe('promote');
  });

  it('drift of the control over run order forces HOLD', () => {
    const control = Array.from({ length: 12 }, (_, i) => 100 * (1 + 0.01 * i)); // +11 % over the run
    const d = [0.1, 0.11, 0.09, 0.1, 0.105, 0.095, 0.1, 0.102, 0.098, 0.1, 0.101, 0.099];
    const v = judgeOne(fromD(d, control), settings({ metrics: [goodput] }));
    const s = v.scenarios[0]!;
    expect(s.gates).toEqual(['drift']);
    expect(s.reasons.find((r) => r.startsWith('Data quality: control goodput drifts'))).toMatch(
      /Spearman rho = 1\.00, p = < 1e-12, below 0\.05; it moved \+11\.0 % over the run/,
    );
    expect(v.decision).toBe('hold');
  });

  it('five control values: only a monotone run (exact p = 1/60) trips the gate; drift_alpha moves or turns it off', () => {
    const d = [0.1, 0.11, 0.09, 0.1, 0.105];
    const gates = (control: number[], o: Partial<JudgeSettings> = {}) =>
      judgeOne(fromD(d, control), settings({ minPairs: 5, metrics: [goodput], ...o })).scenarios[0]!.gates ?? [];
    // ρ = -1: p = 2/120 < 0.05, and it moved -10.7 % (beyond the 2 % margin)
    const monotone = [112, 109, 106, 103, 100];
    expect(gates(monotone)).toEqual(['drift']);
    // ρ = -0.9: exact p = 10/120 = 0.083; the t approximation said 0.037 and held this stable run
    expect(gates([112, 109, 103, 106, 100])).toEqual([]);
    expect(gates(monotone, { driftAlpha: 0.01 })).toEqual([]);
    expect(gates(monotone, { driftAlpha: 0 })).toEqual([]);
    // set in the scenario, the level stays put when alpha is overridden
    const v = judgeRecords(
      manifest([{ id: 'bulk', judge: settings({ minPairs: 5, metrics: [goodput], driftAlpha: 0.02 }) }]),
      records('bulk', fromD(d, monotone)),
      {
        now: NOW,
        alpha: 0.01,
      },
    );
    expect(v.scenarios[0]!.gates).toEqual(['drift']);
    expect(v.scenarios[0]!.reasons.find((r) => r.startsWith('Data quality: control goodput drifts'))).toMatch(
      /rho = -1\.00, p = 0\.017, below 0\.02; it moved -10\.7 % over the run/,
    );
  });

  it('a manifest whose driftAlpha is not a level in [0, 0.5) is refused, naming it', () => {
    for (const bad of [-0.1, 0.5, Number.NaN, '0.05'])
      expect(() =>
        judgeRecords(manifest([{ id: 'bulk', judge: { ...settings(), driftAlpha: bad as number } }]), records('bulk', clean()), {
          now: NOW,
        }),
      ).toThrow(/driftAlpha must be at least 0 and below 0\.5/);
  });

  it('fewer than minPairs complete pairs forces HOLD, morePairs at least the shortfall', () => {
    const v = judgeOne(fromD([0.1, 0.11, 0.09, 0.1]), settings({ minPairs: 6 }));
    expect(v.scenarios[0]!.gates).toEqual(['minPairs']);
    expect(v.scenarios[0]!.reasons).toContain('Data quality: 4 complete pairs, fewer than the 6 required (minPairs).');
    expect(v.decision).toBe('hold');
    expect(v.morePairs).toBeGreaterThanOrEqual(2);
  });

  it('warm-up pairs are ignored and a resumed attempt replaces the earlier record', () => {
    const base = records('bulk', regressPairs(), 1);
    const warm = records('bulk', [{ control: { goodput: 100, rtt_p50: 20 }, canary: { goodput: 300, rtt_p50: 20 } }]).map((r) => ({
      ...r,
      warmup: true,
    }));
    const stale = { ...base[1]!, goodput: undefined, metrics: { goodput: 500, rtt_p50: 20 }, attempt: 1 };
    const fresh = base.map((r) => (r === base[1] ? { ...r, attempt: 2 } : r));
    const v = judgeRecords(manifest([{ id: 'bulk', judge: settings() }]), [...warm, stale, ...fresh], { now: NOW });
    expect(v.scenarios[0]!.pairs).toBe(8);
    expect(v.scenarios[0]!.metrics[0]!.effect!).toBeCloseTo(-0.10561625559389892, 14);
  });
});

describe('sequential mode', () => {
  // 40 pairs, canary 10 % worse with ±1 % noise
  const d40 = Array.from({ length: 40 }, (_, i) => Math.log(0.9) + 0.01 * Math.sin(i * 1.7));
  const ctl40 = Array.from({ length: 40 }, (_, i) => 100 + 2 * Math.cos(i * 2.3));
  const seq = settings({ sequential: true, sequentialPlan: { looks: 4, pairsPerLook: 10 } });
  const recs = records('bulk', fromD(d40, ctl40));

  it('in a run of 2 scenarios, look 1 (α₁ = 0.0016) cannot clear 2 × 1/1024 with 10 pairs; look 2 stops', () => {
    const look1 = sequentialLook(
      recs.filter((r) => r.pair < 10),
      seq,
      { index: 1, planned: 4, scenarios: 2 },
    );
    expect(look1.alphaLook).toBeCloseTo((0.05 * Math.expm1(1)) / Math.expm1(4), 15);
    expect(look1.stop).toBe(false);
    expect(look1.decisionSoFar).toBe('hold');
    expect(look1.scenario.metrics[0]!.pMarginAdjusted).toBe(2 / 1024);
    const look2 = sequentialLook(
      recs.filter((r) => r.pair < 20),
      seq,
      { index: 2, planned: 4, scenarios: 2 },
    );
    expect(look2.alphaLook).toBeCloseTo((0.05 * (Math.expm1(2) - Math.expm1(1))) / Math.expm1(4), 15);
    expect(look2.stop).toBe(true);
    expect(look2.decisionSoFar).toBe('rollback');
    expect(look2.scenario.look).toEqual({ index: 2, planned: 4, alpha: look2.alphaLook, stopped: true });
  });

  it('judgeRecords replays the same looks offline and ignores pairs after the stop', () => {
    // one scenario, goodput critical and rtt_p50 alone cannot roll back: goodput at full α₁, 1/1024 ≤ 0.0016
    const v = judgeRecords(manifest([{ id: 'bulk', judge: seq }]), recs, { now: NOW });
    expect(v.decision).toBe('rollback');
    expect(v.scenarios[0]!.look?.index).toBe(1);
    expect(v.scenarios[0]!.reasons).toContain('Sequential: stopped at look 1; the 30 pairs recorded after it are not used.');
    expect(v.reasons[1]).toMatch(
      /^Scenario "bulk": goodput regressed by -9\.9 % \(99\.68 % CI -10\.8 % to -9\.1 %\), beyond the -2 % margin \(adjusted p = 9\.8e-4\)\.$/,
    );
    // in a run of two sequential scenarios the replay stops at look 2, as the online looks did
    const two = judgeRecords(
      manifest([
        { id: 'bulk', judge: seq },
        { id: 'b2', judge: seq },
      ]),
      [...recs, ...records('b2', fromD(d40, ctl40))],
      { now: NOW },
    );
    expect(two.scenarios.map((s) => s.look?.index)).toEqual([2, 2]);
    expect(two.decision).toBe('rollback');
  });

  it('a single metric stops at look 1 (exact p = 1/1024 ≤ α₁)', () => {
    const one = settings({ metrics: [goodput], sequential: true, sequentialPlan: { looks: 4, pairsPerLook: 10 } });
    const look1 = sequentialLook(
      recs.filter((r) => r.pair < 10),
      one,
      { index: 1, planned: 4 },
    );
    expect(look1.decisionSoFar).toBe('rollback');
    expect(look1.stop).toBe(true);
  });

  it('without a recorded plan the run is judged fixed-n and says so', () => {
    const v = judgeRecords(manifest([{ id: 'bulk', judge: settings({ sequential: true }) }]), recs, { now: NOW });
    expect(v.reasons.some((r) => r.includes('no look schedule (judge.sequentialPlan) was recorded: judged as fixed-n'))).toBe(true);
  });
});

describe('run directory I/O', () => {
  it('tolerates a truncated last line, rejects corruption elsewhere', () => {
    const good = JSON.stringify(trial('bulk', 0, 'control', { goodput: 1 }));
    const good2 = JSON.stringify(trial('bulk', 0, 'canary', { goodput: 1 }));
    const r = parseResults(`${good}\n${good2}\n{"type":"trial","runId":"r1","sce`);
    expect(r.records).toHaveLength(2);
    expect(r.warnings[0]).toMatch(/^results\.jsonl: ignored a truncated last line/);
    expect(() => parseResults(`${good}\n{"type":\n${good2}\n`)).toThrow(/results\.jsonl:2:1: not valid JSON/);
  });

  it('readRun / judgeRun / writeVerdict round trip', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netab-judge-'));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest([{ id: 'bulk', judge: settings() }])));
    writeFileSync(
      join(dir, 'results.jsonl'),
      records('bulk', regressPairs())
        .map((x) => JSON.stringify(x))
        .join('\n') + '\n{"type":"tri',
    );
    const { records: recs, warnings } = readRun(dir);
    expect(recs).toHaveLength(16);
    expect(warnings).toHaveLength(1);
    const v = judgeRun(dir, { now: NOW });
    expect(v.decision).toBe('rollback');
    expect(v.reasons[v.reasons.length - 1]).toMatch(/truncated last line/);
    const path = writeVerdict(dir, v);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(v);
  });

  it('exit codes: promote 0, rollback 1, hold 4', () => {
    expect([exitCodeFor('promote'), exitCodeFor('rollback'), exitCodeFor('hold')]).toEqual([0, 1, 4]);
  });
});

describe('issue #13: failures are evidence', () => {
  const bulkSettings = () => settings({ metrics: [goodput, rtt] });
  /** n pairs of a clean A/A-like run (goodput within ±0.5 %), canary trials listed in `bad` fail or move no data. */
  function failing(n: number, bad: Record<number, 'failed' | 'noData'>): TrialRecord[] {
    const d = Array.from({ length: n }, (_, i) => 0.005 * Math.sin(i * 2.1));
    const pairs = fromD(
      d,
      Array.from({ length: n }, (_, i) => 100 + (i % 5)),
    );
    for (const [i, how] of Object.entries(bad)) {
      const p = pairs[Number(i)]!;
      if (how === 'failed') p.canaryExtra = { status: 'failed', reason: 'iperf3: timeout' };
      else p.canary.goodput = 0; // a stalled transfer recorded as ok
    }
    return records('bulk', pairs);
  }

  it('3 of 10 canary trials failed or moved no data, control none: HOLD, never PROMOTE, counts named', () => {
    const v = judgeRecords(manifest([{ id: 'bulk', judge: bulkSettings() }]), failing(10, { 1: 'failed', 4: 'noData', 7: 'failed' }), {
      now: NOW,
    });
    const s = v.scenarios[0]!;
    expect(s.failures).toEqual({
      control: { trials: 10, failed: 0, noData: 0 },
      canary: { trials: 10, failed: 2, noData: 1 },
      p: s.failures!.p,
      pMin: s.failures!.pMin,
      pAdjusted: null, // pMin = 120/1140 > 0.05: cannot reach alpha, not in the family (Tarone)
      verdict: 'NOT_SIGNIFICANT',
    });
    expect(s.failures!.p!).toBeCloseTo(120 / 1140, 15);
    expect(s.metrics[0]!.verdict).toBe('PASS'); // the 7 complete pairs alone would promote
    expect(s.gates).toEqual(['failed']);
    expect(v.decision).toBe('hold');
    expect(v.reasons).toContain(
      'Scenario "bulk": Data quality: canary lost 3 of 10 trials (2 failed, 1 moved no data, 0 suspect; 30.0 %), control lost 0 of 10 trials (0 failed, 0 moved no data, 0 suspect; 0 %); canary above the 20 % limit per arm.',
    );
    expect(v.reasons).toContain(
      'Scenario "bulk": Failures: canary failed 3 of 10 trials (2 failed, 1 moved no data), control 0 of 10; one-sided Fisher exact p = 0.11 (at best 0.11 with these counts, so it cannot reach 0.05 and is not in the multiplicity family): not significant.',
    );
    const dropped =
      'Scenario "bulk": Dropped values: goodput: canary 3 (failed trial: 2, moved no data: 1); rtt_p50: canary 3 (failed trial: 2, moved no data: 1).';
    expect(v.reasons.filter((r) => r === dropped)).toHaveLength(1);
  });

  it('8 of 20 canary trials failed or moved no data, control none: ROLLBACK naming the counts', () => {
    const bad: Record<number, 'failed' | 'noData'> = {
      0: 'failed',
      2: 'failed',
      5: 'noData',
      8: 'failed',
      11: 'noData',
      13: 'failed',
      16: 'noData',
      19: 'failed',
    };
    const v = judgeRecords(manifest([{ id: 'bulk', judge: bulkSettings() }]), failing(20, bad), { now: NOW });
    const s = v.scenarios[0]!;
    // Fisher: C(20,8)/C(40,8) = 125970/76904685; critical family {failures, goodput}: weight 1/2 each
    expect(s.failures!.p!).toBeCloseTo(125970 / 76904685, 16);
    expect(s.failures!.pAdjusted!).toBeCloseTo((2 * 125970) / 76904685, 16);
    expect(s.failures!.verdict).toBe('REGRESSED');
    expect(s.metrics[0]!.verdict).toBe('PASS');
    expect(s.gates).toEqual(['failed']); // the gate fires too, but does not hide the finding
    expect(s.verdict).toBe('REGRESSED');
    expect(v.decision).toBe('rollback');
    expect(exitCodeFor(v.decision)).toBe(1);
    expect(v.reasons[0]).toBe('ROLLBACK: 1 of 1 scenario regressed ("bulk").');
    expect(v.reasons[1]).toBe(
      'Scenario "bulk": canary failed 8 of 20 trials (5 failed, 3 moved no data), control 0 of 20 (one-sided Fisher exact p = 0.0016, adjusted p = 0.0033).',
    );
  });

  it('the same failures in both arms are not evidence against the canary', () => {
    const pairs = fromD(Array.from({ length: 20 }, (_, i) => 0.005 * Math.sin(i * 2.1)));
    for (const i of [1, 6, 12]) pairs[i]!.canaryExtra = { status: 'failed' };
    for (const i of [3, 9, 15]) pairs[i]!.controlExtra = { status: 'failed' };
    const s = judgeRecords(manifest([{ id: 'bulk', judge: bulkSettings() }]), records('bulk', pairs), { now: NOW }).scenarios[0]!;
    expect(s.failures!.verdict).toBe('NOT_SIGNIFICANT');
    expect(s.failures!.p!).toBeCloseTo(0.6692901692901694, 14); // scipy.stats.fisher_exact([[3,17],[3,17]], 'greater')
    expect(s.gates ?? []).toEqual([]); // 15 % per arm
  });
});

describe('issue #13: the 32 KB receive-buffer canary on a 100 ms path', () => {
  it('losing 96.5 % of goodput in each of 6 pairs with the default bulk metrics is ROLLBACK', () => {
    // defaults of src/scenario/metrics.ts: goodput critical; retrans, rtt_p50, rtt_p99 not critical
    const bulk: MetricSpec[] = [
      goodput,
      retrans,
      { ...rtt, name: 'rtt_p50' },
      { ...rtt, name: 'rtt_p99', margin: { kind: 'relative', value: 0.2 } },
    ];
    const control = [9.41, 9.52, 9.38, 9.47, 9.44, 9.5]; // Mbit/s
    const kept = [0.03502, 0.03497, 0.03511, 0.03489, 0.03505, 0.03494]; // canary/control: -96.5 %
    const pairs: PairIn[] = control.map((c, i) => ({
      control: { goodput: c, retrans: 0.0004 + 0.0001 * (i % 3), rtt_p50: 101.2 + 0.3 * i, rtt_p99: 104 + 0.5 * (i % 4) },
      canary: {
        goodput: c * kept[i]!,
        retrans: 0.0003 + 0.0001 * ((i + 1) % 3),
        rtt_p50: 100.9 + 0.3 * ((i + 2) % 6),
        rtt_p99: 103.8 + 0.5 * ((i + 1) % 4),
      },
    }));
    const v = judgeOne(pairs, settings({ metrics: bulk }), 'rcvbuf-32k');
    const s = v.scenarios[0]!;
    const g = s.metrics[0]!;
    expect(g.analysis).toBe('paired');
    expect(g.pMargin).toBe(1 / 64);
    expect(g.pMarginAdjusted!).toBeCloseTo(1 / 64 / (2 / 3), 15); // 0.0234 ≤ 0.05 (plain Holm: 4/64 = 0.0625)
    expect(g.ciPct![0]).toBeCloseTo(-96.511, 2);
    expect(g.ciPct![1]).toBeCloseTo(-96.4915, 2);
    expect(g.verdict).toBe('REGRESSED');
    expect(s.verdict).toBe('REGRESSED');
    expect(v.decision).toBe('rollback');
    expect(v.reasons[1]).toBe(
      'Scenario "rcvbuf-32k": goodput regressed by -96.5 % (90 % CI -96.5 % to -96.5 %), beyond the -2 % margin (adjusted p = 0.023).',
    );
    // and the plan for it was reachable
    expect(reachability(settings({ metrics: bulk }), 6).rollbackReachable).toBe(true);
  });
});

describe('issue #13: fewer than 6 pairs rest on an exact test', () => {
  it('5 identical pairs: exact conditional p = 1/32 (normal approximation would say 0.018)', () => {
    const d5 = [0.9, 0.9, 0.9, 0.9, 0.9].map(Math.log);
    const v = judgeOne(fromD(d5), settings({ metrics: [goodput] }));
    const m = v.scenarios[0]!.metrics[0]!;
    expect(m.pMargin).toBe(1 / 32);
    expect(m.method).toMatch(/^paired, 5 pairs: Wilcoxon signed-rank \(exact, conditional on ties\), Hodges-Lehmann 90 % CI \(exact\)/);
    expect(v.decision).toBe('rollback');
  });

  it('4 identical pairs cannot decide anything (exact interval unbounded, p ≥ 1/16)', () => {
    const d4 = [0.9, 0.9, 0.9, 0.9].map(Math.log);
    const v = judgeOne(fromD(d4), settings({ metrics: [goodput], minPairs: 4 }));
    const m = v.scenarios[0]!.metrics[0]!;
    expect(m.pMargin).toBe(1 / 16);
    expect(m.ci).toBeNull();
    expect(v.decision).toBe('hold');
  });
});

describe('issue #13: reachability of every decision', () => {
  const bulk: MetricSpec[] = [goodput, retrans, { ...rtt, name: 'rtt_p50' }, { ...rtt, name: 'rtt_p99' }];

  it('default bulk metrics: ROLLBACK from 5 pairs (1/32 ≤ 0.05·2/3), PROMOTE from 5 (minPairs, bounded 90 % interval)', () => {
    const r = reachability(settings({ metrics: bulk }), 6);
    expect(r).toEqual({
      pairs: 6,
      alpha: 0.05,
      smallestP: 1 / 64,
      rollbackLevel: (0.05 * 2) / 3,
      promoteReachable: true,
      rollbackReachable: true,
      minPairs: { promote: 5, rollback: 5 },
      problems: [],
    });
  });

  it('four critical metrics and 6 pairs: ROLLBACK unreachable, with the fix', () => {
    const four = bulk.map((m) => ({ ...m, critical: true }));
    const r = reachability(settings({ metrics: four }), 6);
    expect(r.rollbackReachable).toBe(false);
    expect(r.promoteReachable).toBe(true);
    expect(r.minPairs.rollback).toBe(7);
    expect(r.problems).toEqual([
      'with 6 pairs and 4 judged metrics ROLLBACK is unreachable: the smallest one-sided p is 1/64 = 0.0156, above the level 0.0125 a critical metric must reach (alpha 0.05 × weight 0.25); use at least 7 pairs',
    ]);
  });

  it('a suite of 8 scenarios needs more pairs; alpha 0.01 needs more for PROMOTE too', () => {
    const r = reachability(settings({ metrics: bulk }), 6, { scenarios: 8 });
    expect(r.rollbackReachable).toBe(false);
    expect(r.minPairs.rollback).toBe(8); // 2^-8 = 0.0039 ≤ 0.05·(2/3)/8 = 0.00417
    const strict = reachability(settings({ metrics: bulk, alpha: 0.01 }), 6);
    expect(strict.promoteReachable).toBe(false); // 6 pairs: no bounded 98 % interval (2^-6 > 0.01)
    expect(strict.minPairs.promote).toBe(7);
    expect(strict.problems[1]).toBe(
      'with 6 pairs PROMOTE is unreachable: 6 pairs cannot give a bounded 98 % interval; use at least 7 pairs',
    );
  });

  it('fewer pairs than min_pairs: nothing reachable', () => {
    const r = reachability(settings({ metrics: bulk, minPairs: 8 }), 6);
    expect([r.promoteReachable, r.rollbackReachable]).toEqual([false, false]);
    expect(r.minPairs).toEqual({ promote: 8, rollback: 8 });
  });
});

describe('issue #13: margins and alpha validated', () => {
  it('parseMarginOption: "2%" and 0.005 accepted; "100%", "0%", "foo", "-1", "Infinity" are InputError (exit 2)', () => {
    expect(parseMarginOption('2%')).toEqual({ kind: 'relative', value: 0.02 });
    expect(parseMarginOption('0.005')).toEqual({ kind: 'absolute', value: 0.005 });
    for (const bad of ['100%', '0%', '150%', 'foo', '-1', 'Infinity', 'NaN', '', '1e999']) {
      expect(() => parseMarginOption(bad), bad).toThrow(InputError);
      try {
        parseMarginOption(bad);
      } catch (e) {
        expect((e as InputError).exitCode).toBe(2);
      }
    }
  });

  it('parseAlphaOption: (0, 0.5) only', () => {
    expect(parseAlphaOption('0.05')).toBe(0.05);
    for (const bad of ['0', '0.5', '1', 'foo', '-0.1', 'NaN']) expect(() => parseAlphaOption(bad), bad).toThrow(InputError);
    expect(checkAlpha(0.05)).toBeNull();
    expect(checkMargin({ kind: 'relative', value: 1 })).toBe('a relative margin must be above 0 % and below 100 % (got 100 %)');
  });

  it('judgeRecords refuses a 100 % margin override, a NaN margin and an out-of-range alpha with InputError', () => {
    const m = manifest([{ id: 'bulk', judge: settings() }]);
    const recs = records('bulk', regressPairs());
    expect(() => judgeRecords(m, recs, { margin: { kind: 'relative', value: 1 } })).toThrow(InputError);
    expect(() => judgeRecords(m, recs, { margin: { kind: 'relative', value: Number.NaN } })).toThrow(InputError);
    expect(() => judgeRecords(m, recs, { alpha: 0.5 })).toThrow(InputError);
    const bad = manifest([{ id: 'bulk', judge: settings({ metrics: [{ ...goodput, margin: { kind: 'relative', value: 0 } }] }) }]);
    expect(() => judgeRecords(bad, recs)).toThrow(
      /manifest scenario "bulk": metric goodput: a relative margin must be above 0 % and below 100 % \(got 0 %\)/,
    );
  });
});
