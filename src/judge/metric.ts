/**
 * Per-metric analysis: oriented effect, Hodges-Lehmann estimate with its (1 - 2α) interval,
 * signed-rank / Mann-Whitney p-values, Cliff's delta, and the metric verdict.
 *
 * Orientation: positive is always good.
 *   scale 'log':    per-pair d = ln(canary/control) ('higher') or ln(control/canary) ('lower');
 *   scale 'linear': d = canary - control ('higher') or control - canary ('lower').
 * Threshold (the -margin boundary, on the effect scale):
 *   log + relative m:   ln(1 - m)            (2 % → ln 0.98 ≈ -0.0202; for 'lower' metrics this
 *                                             allows the canary up to 1/(1-m) of control);
 *   log + absolute m:   ln((c - m)/c) for 'higher', ln(c/(c + m)) for 'lower', c = control median;
 *   linear + absolute:  -m;
 *   linear + relative:  -m·|c| (c = control median).
 */
import {
  cliffsDelta,
  median,
  normIsf,
  rankSumInterval,
  rankSumTest,
  sampleSd,
  signedRankInterval,
  signedRankTest,
} from '../stats/index.js';
import type { MetricResult, MetricSpec, MetricVerdict } from '../results/types.js';
import { confText, marginText, pct, pval, units } from './format.js';
import { type MetricData, whyList } from './prepare.js';

/**
 * Below this many pairs (paired) or values in the smaller arm (unpaired) the test and the interval
 * are always exact: with ties or zeros the test uses the exact distribution conditional on the
 * observed midranks, the interval the exact order statistics. A normal approximation at 4 or 5
 * tied pairs can give p below the smallest exact p (4 identical pairs: 0.036 < 1/16) and would let
 * a decision rest on it.
 */
export const SMALL_EXACT = 6;

export interface MetricAnalysis {
  spec: MetricSpec;
  analysis: 'paired' | 'unpaired' | null;
  /** Complete pairs (paired) or min(n control, n canary) (unpaired): the n the interval scales with. */
  n: number;
  pairs: number;
  threshold: number | null;
  effect: number | null;
  lower: number;
  upper: number;
  ciAlpha: number;
  p: number | null;
  pMargin: number | null;
  cliffs: number | null;
  controlMedian: number | null;
  canaryMedian: number | null;
  /** Spread of the per-pair effect (SD of d, or of the two arms combined) for the morePairs fallback. */
  spread: number | null;
  method: string;
  notes: string[];
  data: MetricData;
}

function orient(spec: MetricSpec, v: number): number {
  const t = spec.scale === 'log' ? Math.log(v) : v;
  return spec.direction === 'higher' ? t : -t;
}

export function thresholdFor(spec: MetricSpec, controlMedian: number | null): number | null {
  const m = spec.margin.value;
  if (!(m >= 0)) return null;
  if (spec.scale === 'log') {
    if (spec.margin.kind === 'relative') return m >= 1 ? -Infinity : Math.log1p(-m);
    if (controlMedian === null || !(controlMedian > 0)) return null;
    if (spec.direction === 'higher') return controlMedian - m <= 0 ? -Infinity : Math.log((controlMedian - m) / controlMedian);
    return Math.log(controlMedian / (controlMedian + m));
  }
  if (spec.margin.kind === 'absolute') return -m;
  if (controlMedian === null) return null;
  return -m * Math.abs(controlMedian);
}

/** Effect in percent for display: (e^x - 1)·100 on the log scale, 100·x/|control median| on the linear one. */
export function toPct(spec: MetricSpec, v: number | null, controlMedian: number | null): number | null {
  if (v === null || !Number.isFinite(v)) return null;
  if (spec.scale === 'log') return Math.expm1(v) * 100;
  if (controlMedian === null || controlMedian === 0) return null;
  return (100 * v) / Math.abs(controlMedian);
}

/**
 * Analyse one metric. Paired (Wilcoxon signed-rank on the per-pair d, Hodges-Lehmann = median of
 * Walsh averages) when there are ≥ minPairs complete pairs; otherwise, if both arms still have
 * ≥ minPairs valid values, the unpaired fallback (Mann-Whitney, two-sample Hodges-Lehmann);
 * otherwise whichever is possible (the interval may then be unbounded → INCONCLUSIVE).
 */
export function analyzeMetric(spec: MetricSpec, data: MetricData, ciAlpha: number, minPairs: number): MetricAnalysis {
  const nPairs = data.paired.pair.length;
  const nC = data.control.values.length;
  const nK = data.canary.values.length;
  const controlMedian = nC ? median(data.control.values) : null;
  const canaryMedian = nK ? median(data.canary.values) : null;
  const threshold = thresholdFor(spec, controlMedian);
  const notes: string[] = [];
  let analysis: MetricAnalysis['analysis'] = null;
  if (nPairs >= minPairs) analysis = 'paired';
  else if (Math.min(nC, nK) >= minPairs) {
    analysis = 'unpaired';
    notes.push(`only ${nPairs} complete pair${nPairs === 1 ? '' : 's'}: unpaired fallback on ${nC} control and ${nK} canary values`);
  } else if (nPairs >= 1) analysis = 'paired';
  else if (nC >= 1 && nK >= 1) analysis = 'unpaired';
  const base: MetricAnalysis = {
    spec,
    analysis,
    n: 0,
    pairs: nPairs,
    threshold,
    effect: null,
    lower: -Infinity,
    upper: Infinity,
    ciAlpha,
    p: null,
    pMargin: null,
    cliffs: null,
    controlMedian,
    canaryMedian,
    spread: null,
    method: 'none',
    notes,
    data,
  };
  if (analysis === null) return base;
  const sign = spec.direction === 'higher' ? 1 : -1;
  base.cliffs = sign * cliffsDelta(data.canary.values, data.control.values);
  const conf = 1 - 2 * ciAlpha;
  const scaleText = spec.scale === 'log' ? 'log ratio' : `difference in ${spec.unit || 'metric units'}`;
  if (analysis === 'paired') {
    const { control, canary } = data.paired;
    const d: number[] = [];
    for (let i = 0; i < nPairs; i++) d.push(orient(spec, canary[i]!) - orient(spec, control[i]!));
    const method = d.length < SMALL_EXACT ? ('exact' as const) : ('auto' as const);
    const ci = signedRankInterval(d, conf, { method });
    const test = signedRankTest(d, { method });
    base.n = d.length;
    base.effect = ci.estimate;
    base.lower = ci.lower;
    base.upper = ci.upper;
    base.p = test.p;
    base.pMargin =
      threshold === null ? null : threshold === -Infinity ? 1 : signedRankTest(d, { mu: threshold, alternative: 'less', method }).p;
    base.spread = d.length >= 2 ? sampleSd(d) : null;
    base.method =
      `paired, ${d.length} pair${d.length === 1 ? '' : 's'}: Wilcoxon signed-rank (${test.method === 'exact' ? (test.ties ? 'exact, conditional on ties' : 'exact') : 'normal approx., tie and continuity corrected'}), ` +
      `Hodges-Lehmann ${confText(ciAlpha)} CI (${ci.method === 'exact' ? 'exact' : 'normal approx.'}), ${scaleText}`;
  } else {
    const x = data.canary.values.map((v) => orient(spec, v));
    const y = data.control.values.map((v) => orient(spec, v));
    const method = Math.min(x.length, y.length) < SMALL_EXACT ? ('exact' as const) : ('auto' as const);
    const ci = rankSumInterval(x, y, conf, { method });
    const test = rankSumTest(x, y, { method });
    base.n = Math.min(x.length, y.length);
    base.effect = ci.estimate;
    base.lower = ci.lower;
    base.upper = ci.upper;
    base.p = test.p;
    base.pMargin =
      threshold === null ? null : threshold === -Infinity ? 1 : rankSumTest(x, y, { mu: threshold, alternative: 'less', method }).p;
    base.spread = x.length >= 2 && y.length >= 2 ? Math.hypot(sampleSd(x), sampleSd(y)) : null;
    base.method =
      `unpaired, ${y.length} control / ${x.length} canary: Mann-Whitney (${test.method === 'exact' ? (test.ties ? 'exact, conditional on ties' : 'exact') : 'normal approx., tie and continuity corrected'}), ` +
      `Hodges-Lehmann ${confText(ciAlpha)} CI (${ci.method === 'exact' ? 'exact' : 'normal approx.'}), ${scaleText}`;
  }
  if (!Number.isFinite(base.lower) || !Number.isFinite(base.upper))
    notes.push(`too few values for a ${confText(ciAlpha)} interval (unbounded)`);
  if (threshold === null) notes.push('margin cannot be placed on the effect scale (no control median)');
  return base;
}

export interface MetricDecisionInput {
  a: MetricAnalysis;
  pAdjusted: number | null;
  pMarginAdjusted: number | null;
  /** Level the adjusted margin p-value must reach for REGRESSED (α, or α_k at a sequential look). */
  testAlpha: number;
}

/** Effect and interval as text: "-10.3 % (90 % CI -12.1 % to -8.4 %)". */
export function effectText(a: MetricAnalysis): string {
  const conf = confText(a.ciAlpha);
  const pe = toPct(a.spec, a.effect, a.controlMedian);
  const pl = toPct(a.spec, a.lower, a.controlMedian);
  const pu = toPct(a.spec, a.upper, a.controlMedian);
  if (a.effect === null) return 'no estimate';
  const bounded = Number.isFinite(a.lower) && Number.isFinite(a.upper);
  if (pe !== null && (!bounded || (pl !== null && pu !== null)))
    return bounded ? `${pct(pe)} (${conf} CI ${pct(pl!)} to ${pct(pu!)})` : `${pct(pe)} (${conf} CI unbounded)`;
  const u = a.spec.unit;
  return bounded
    ? `${units(a.effect, u)} (${conf} CI ${units(a.lower, u)} to ${units(a.upper, u)})`
    : `${units(a.effect, u)} (${conf} CI unbounded)`;
}

/** The -margin boundary as text: "-2 %" or "-0.005 ratio". */
export function boundaryText(spec: MetricSpec): string {
  return `-${marginText(spec.margin, spec.unit)}`;
}

/**
 * Metric verdict:
 *   NODATA / ERROR   nothing to analyse (ERROR when the metric is required);
 *   IMPROVED         interval entirely above 0;
 *   PASS             interval entirely above the -margin boundary ("worse but within tolerance"
 *                    when it is also entirely below 0);
 *   REGRESSED        interval entirely below the boundary AND adjusted one-sided p ≤ α (gatekeeping);
 *   INCONCLUSIVE     anything else (including an unbounded interval).
 */
export function decideMetric({ a, pAdjusted, pMarginAdjusted, testAlpha }: MetricDecisionInput): {
  result: MetricResult;
  reason: string | null;
} {
  const s = a.spec;
  const bounded = Number.isFinite(a.lower) && Number.isFinite(a.upper);
  let verdict: MetricVerdict;
  let label: string | undefined;
  let reason: string | null = null;
  const tau = a.threshold;
  if (a.analysis === null) {
    verdict = s.required ? 'ERROR' : 'NODATA';
    reason = s.required
      ? `${s.name}: no usable values in ${a.data.control.values.length ? 'the canary arm' : a.data.canary.values.length ? 'the control arm' : 'either arm'} and the metric is required (ERROR).`
      : null;
  } else if (!bounded || tau === null) {
    verdict = 'INCONCLUSIVE';
    reason = `${s.name}: INCONCLUSIVE, ${a.notes[a.notes.length - 1] ?? 'no interval'}.`;
  } else if (a.lower > 0) {
    verdict = 'IMPROVED';
    reason = `${s.name} improved: ${effectText(a)} lies entirely above 0.`;
  } else if (a.lower > tau) {
    verdict = 'PASS';
    if (a.upper < 0) {
      label = 'worse but within tolerance';
      reason = `${s.name} is worse but within tolerance: ${effectText(a)} lies below 0 but above the ${boundaryText(s)} margin.`;
    }
  } else if (a.upper < tau && pMarginAdjusted !== null && pMarginAdjusted <= testAlpha) {
    verdict = 'REGRESSED';
    reason = `${s.name} regressed: ${effectText(a)} lies entirely below the ${boundaryText(s)} margin (adjusted p = ${pval(pMarginAdjusted)} ≤ ${testAlpha < 0.001 ? testAlpha.toExponential(2) : Number(testAlpha.toPrecision(3))}).`;
  } else {
    verdict = 'INCONCLUSIVE';
    if (a.upper < tau) {
      label = 'below the margin but not significant after multiplicity adjustment';
      reason = `${s.name}: ${effectText(a)} lies below the ${boundaryText(s)} margin, but the adjusted p = ${pval(pMarginAdjusted ?? 1)} is above ${Number(testAlpha.toPrecision(3))} (INCONCLUSIVE).`;
    } else {
      reason = `${s.name}: INCONCLUSIVE, ${effectText(a)} straddles ${a.lower <= tau && a.upper >= tau ? `the ${boundaryText(s)} margin` : '0'}.`;
    }
  }
  const ciOk = a.effect !== null && bounded;
  const z = <T extends number | null>(v: T): T => (v === 0 ? (0 as T) : v); // no -0 in verdict.json
  const pe = toPct(s, a.effect, a.controlMedian);
  const pl = toPct(s, a.lower, a.controlMedian);
  const pu = toPct(s, a.upper, a.controlMedian);
  const result: MetricResult = {
    name: s.name,
    direction: s.direction,
    unit: s.unit,
    margin: { ...s.margin },
    critical: s.critical,
    control: {
      n: a.data.control.values.length,
      median: a.controlMedian,
      dropped: a.data.control.dropped,
      droppedWhy: whyList(a.data.control.why),
    },
    canary: {
      n: a.data.canary.values.length,
      median: a.canaryMedian,
      dropped: a.data.canary.dropped,
      droppedWhy: whyList(a.data.canary.why),
    },
    effect: z(a.effect),
    effectPct: z(pe),
    ci: ciOk ? [z(a.lower), z(a.upper)] : null,
    ciPct: ciOk && pl !== null && pu !== null ? [z(pl), z(pu)] : null,
    method: a.method,
    p: a.p,
    pAdjusted,
    pMargin: a.pMargin,
    pMarginAdjusted,
    threshold: a.threshold === null || !Number.isFinite(a.threshold) ? null : a.threshold,
    scale: s.scale,
    analysis: a.analysis,
    pairs: a.pairs,
    cliffsDelta: z(a.cliffs),
    verdict,
  };
  if (label) result.label = label;
  if (a.notes.length) result.note = a.notes.join('; ');
  return { result, reason };
}

/**
 * Extra pairs estimated to settle a metric, a precision calculation: the interval half-width on the
 * side facing the boundary b shrinks like 1/√n, so reaching it with 80 % probability (if the true
 * effect equals the estimate) needs n' = n·((z_{1-α} + z_{0.8})·h/(z_{1-α}·|effect - b|))² pairs,
 * where h is the current half-width. When the interval is still unbounded the spread s of the
 * per-pair effect is used instead: n' = (π/3)·((z_{1-α} + z_{0.8})·s/|effect - b|)² (π/3 is the
 * normal-theory efficiency loss of the Hodges-Lehmann estimator). Returns null when the estimate sits
 * on the boundary (more pairs will not help); at least 1, capped at 100000.
 */
export function morePairsFor(a: MetricAnalysis, boundary: number, alpha: number): number | null {
  if (a.effect === null || !Number.isFinite(boundary)) return null;
  const gap = a.effect - boundary;
  if (Math.abs(gap) < 1e-12) return null;
  const zA = normIsf(alpha);
  const zB = normIsf(0.2);
  let need: number;
  const half = gap > 0 ? a.effect - a.lower : a.upper - a.effect;
  if (Number.isFinite(half) && half > 0 && a.n > 0) {
    need = a.n * (((zA + zB) * half) / (zA * Math.abs(gap))) ** 2;
  } else if (a.spread !== null && a.spread > 0) {
    need = (Math.PI / 3) * (((zA + zB) * a.spread) / Math.abs(gap)) ** 2;
  } else return null;
  const extra = Math.max(1, Math.ceil(need - a.n));
  return Math.min(extra, 100000);
}
