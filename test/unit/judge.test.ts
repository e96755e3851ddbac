/**
 * Judge with hand-built TrialRecords. Expected effects, intervals and p-values come from R
 * (wilcox.test(d, mu = min(d) - 1, conf.int = TRUE, conf.level = 0.9), wilcox.test(d, mu = log(0.98),
 * alternative = "less")) on the same per-pair log ratios; they are quoted next to each assertion.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitCodeFor, judgeRecords, judgeRun, parseResults, readRun, sequentialLook, thresholdFor, writeVerdict } from '../../src/judge/index.js';
import type { JudgeSettings, ManifestScenario, MetricSpec, RunManifest, TrialRecord } from '../../src/results/types.js';

const NOW = '2025-06-01T00:00:00.000Z';
const C8 = [100, 102, 98, 101, 99, 103, 97, 100];

const goodput: MetricSpec = { name: 'goodput', unit: 'Mbit/s', direction: 'higher', scale: 'log', margin: { kind: 'relative', value: 0.02 }, critical: true, required: true };
const rtt: MetricSpec = { name: 'rtt_p50', unit: 'ms', direction: 'lower', scale: 'log', margin: { kind: 'relative', value: 0.1 }, critical: false, required: false };
const retrans: MetricSpec = { name: 'retrans', unit: 'ratio', direction: 'lower', scale: 'linear', margin: { kind: 'absolute', value: 0.005 }, critical: false, required: false };

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
  return pairs.flatMap((p, i) => [trial(scenario, firstPair + i, 'control', p.control, p.controlExtra), trial(scenario, firstPair + i, 'canary', p.canary, p.canaryExtra)]);
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
const regressPairs = (): PairIn[] => REGRESS_CONTROL.map((c, i) => ({ control: { goodput: c, rtt_p50: 20 }, canary: { goodput: REGRESS_CANARY[i]!, rtt_p50: 20 } }));

const judgeOne = (pairs: PairIn[], s = settings(), id = 'bulk') => judgeRecords(manifest([{ id, judge: s }]), records(id, pairs), { now: NOW });

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
  it('REGRESSED with the effect, interval and Holm-adjusted p of R', () => {
    const v = judgeOne(regressPairs());
    const m = v.scenarios[0]!.metrics[0]!;
    expect(m.verdict).toBe('REGRESSED');
    expect(m.analysis).toBe('paired');
    expect(m.effect!).toBeCloseTo(-0.10561625559389892, 14); // R (pseudo)median
    expect(m.ci![0]).toBeCloseTo(-0.115922331383472937, 14);
    expect(m.ci![1]).toBeCloseTo(-0.095310179804324893, 14);
    expect(m.pMargin!).toBeCloseTo(0.00390625, 15); // R: 0.0039062500000000009
    expect(m.p!).toBeCloseTo(0.0078125, 15); // R two-sided
    expect(m.pMarginAdjusted!).toBeCloseTo(0.0078125, 15); // Holm over goodput and rtt_p50 (p = 1)
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
    const pairs = C8.map((c) => ({ control: { goodput: null, rtt_p50: 20 }, canary: { goodput: null, rtt_p50: 20 } }));
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

  it('drops non-positive values on the log scale and suspect trials, and says why', () => {
    const pairs = fromD([0.004, -0.003, 0.002, -0.005, 0.001, 0.003, -0.002, 0.0005, 0.001, -0.001]);
    pairs[2]!.canary.goodput = 0;
    pairs[5]!.controlExtra = { suspect: 'relay late by 40 ms' };
    const v = judgeOne(pairs);
    const m = v.scenarios[0]!.metrics[0]!;
    expect(m.canary.droppedWhy).toEqual(['non-positive on log scale: 1']);
    expect(m.control.droppedWhy).toEqual(['suspect trial excluded: 1']);
    expect(m.pairs).toBe(8);
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
    expect(m.verdict).toBe('REGRESSED');
    expect(v.scenarios[0]!.verdict).toBe('INCONCLUSIVE'); // 1 non-critical regression < 2 needed
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
    expect(v.scenarios[0]!.verdict).toBe('REGRESSED');
    expect(v.decision).toBe('rollback');
    expect(exitCodeFor(v.decision)).toBe(1);
  });

  it('INCONCLUSIVE below the margin when the Holm adjustment takes significance away', () => {
    // 6 pairs all below ln 0.98: one-sided exact p = 1/64 = 0.015625 (R)
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
    expect(m.pMarginAdjusted!).toBeCloseTo(0.0625, 15); // 4 tests, the others have p = 1
    expect(m.verdict).toBe('INCONCLUSIVE');
    expect(m.label).toBe('below the margin but not significant after Holm adjustment');
  });
});

describe('rollout decision', () => {
  it('ROLLBACK reason names scenario, metric, effect and interval in %', () => {
    const v = judgeOne(regressPairs());
    expect(v.decision).toBe('rollback');
    expect(v.reasons[0]).toBe('ROLLBACK: 1 of 1 scenario regressed ("bulk").');
    // R: -10.023 % (90 % CI -10.946 % to -9.091 %), p = 2 · 1/256
    expect(v.reasons[1]).toBe('Scenario "bulk": goodput regressed by -10.0 % (90 % CI -10.9 % to -9.1 %), beyond the -2 % margin (Holm-adjusted p = 0.0078).');
    expect(v.format).toBe('netab-verdict/1');
    expect(v.judgedAt).toBe(NOW);
    expect(v.alpha).toBe(0.05);
  });

  it('Holm across scenarios: the same regression is significant alone but not in a run of two', () => {
    const d6 = [0.9, 0.91, 0.89, 0.92, 0.88, 0.905].map(Math.log);
    const alone = judgeRecords(manifest([{ id: 'a', judge: settings() }]), records('a', fromD(d6)), { now: NOW });
    expect(alone.scenarios[0]!.metrics[0]!.pMarginAdjusted!).toBeCloseTo(0.03125, 15); // 2 tests
    expect(alone.decision).toBe('rollback');
    const two = judgeRecords(
      manifest([
        { id: 'a', judge: settings() },
        { id: 'b', judge: settings() },
      ]),
      [...records('a', fromD(d6)), ...records('b', fromD(d6))],
      { now: NOW },
    );
    expect(two.scenarios.map((s) => s.metrics[0]!.pMarginAdjusted)).toEqual([0.0625, 0.0625]);
    expect(two.scenarios.map((s) => s.verdict)).toEqual(['INCONCLUSIVE', 'INCONCLUSIVE']);
    expect(two.decision).toBe('hold');
    expect(two.reasons).toContain('Holm adjustment across 4 scenario × metric tests at alpha = 0.05.');
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
    expect(flat.reasons.some((r) => r.startsWith('Scenario "bulk": the primary metric goodput did not show the expected improvement'))).toBe(true);
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
    const v = judgeRecords(manifest([{ id: 'bulk', judge: settings() }]), records('bulk', regressPairs()), { now: NOW, margin: { kind: 'relative', value: 0.2 } });
    expect(v.scenarios[0]!.metrics[0]!.verdict).toBe('PASS');
    expect(v.scenarios[0]!.metrics[0]!.label).toBe('worse but within tolerance');
    const strict = judgeRecords(manifest([{ id: 'bulk', judge: settings() }]), records('bulk', regressPairs()), { now: NOW, alpha: 0.001 });
    expect(strict.alpha).toBe(0.001);
    expect(strict.decision).toBe('hold'); // 8 pairs cannot reach a 99.8 % interval
  });
});

describe('data-quality gates', () => {
  const clean = () => fromD([0.08, 0.12, 0.1, 0.09, 0.11, 0.105, 0.095, 0.1, 0.1, 0.098]);

  it('failed + suspect fraction above maxFailedFraction forces HOLD', () => {
    const pairs = clean();
    pairs[0]!.canaryExtra = { status: 'failed', reason: 'iperf3 timeout' };
    pairs[1]!.canaryExtra = { status: 'failed', reason: 'iperf3 timeout' };
    pairs[2]!.canaryExtra = { suspect: 'cpu 100 %' };
    pairs[3]!.controlExtra = { status: 'failed', reason: 'iperf3 timeout' };
    pairs[4]!.canaryExtra = { status: 'failed', reason: 'iperf3 timeout' };
    const v = judgeOne(pairs);
    const s = v.scenarios[0]!;
    expect(s.gates).toEqual(['failed']);
    expect(s.reasons).toContain('Data quality: 4 failed and 1 suspect of 20 measured trials (25.0 %) exceeds the 20 % limit (control 1+0, canary 3+1).');
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
    expect(s.reasons.find((r) => r.startsWith('Data quality: control goodput drifts'))).toMatch(/Spearman rho = 1\.00, p = < 1e-12, below 0\.05; it moved \+11\.0 % over the run/);
    expect(v.decision).toBe('hold');
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
    const warm = records('bulk', [{ control: { goodput: 100, rtt_p50: 20 }, canary: { goodput: 300, rtt_p50: 20 } }]).map((r) => ({ ...r, warmup: true }));
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

  it('stops at look 2 of 4: look 1 (α₁ = 0.0016) cannot clear Holm over two metrics with 10 pairs', () => {
    const look1 = sequentialLook(recs.filter((r) => r.pair < 10), seq, { index: 1, planned: 4 });
    expect(look1.alphaLook).toBeCloseTo((0.05 * Math.expm1(1)) / Math.expm1(4), 15);
    expect(look1.stop).toBe(false);
    expect(look1.decisionSoFar).toBe('hold');
    expect(look1.scenario.metrics[0]!.pMarginAdjusted!).toBeCloseTo(2 / 1024, 15);
    const look2 = sequentialLook(recs.filter((r) => r.pair < 20), seq, { index: 2, planned: 4 });
    expect(look2.alphaLook).toBeCloseTo((0.05 * (Math.expm1(2) - Math.expm1(1))) / Math.expm1(4), 15);
    expect(look2.stop).toBe(true);
    expect(look2.decisionSoFar).toBe('rollback');
    expect(look2.scenario.look).toEqual({ index: 2, planned: 4, alpha: look2.alphaLook, stopped: true });
  });

  it('judgeRecords replays the same looks offline and ignores pairs after the stop', () => {
    const v = judgeRecords(manifest([{ id: 'bulk', judge: seq }]), recs, { now: NOW });
    expect(v.decision).toBe('rollback');
    expect(v.scenarios[0]!.look?.index).toBe(2);
    expect(v.scenarios[0]!.reasons).toContain('Sequential: stopped at look 2; the 20 pairs recorded after it are not used.');
    expect(v.reasons[1]).toMatch(/^Scenario "bulk": goodput regressed by -10\.\d % \(99\.13 % CI /);
  });

  it('a single metric stops at look 1 (exact p = 1/1024 ≤ α₁)', () => {
    const one = settings({ metrics: [goodput], sequential: true, sequentialPlan: { looks: 4, pairsPerLook: 10 } });
    const look1 = sequentialLook(recs.filter((r) => r.pair < 10), one, { index: 1, planned: 4 });
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
    writeFileSync(join(dir, 'results.jsonl'), records('bulk', regressPairs()).map((x) => JSON.stringify(x)).join('\n') + '\n{"type":"tri');
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
