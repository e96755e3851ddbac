/**
 * Per-arm statistics of a scenario's trials for the report: the judged values of a metric per arm
 * (with their run order), median and interquartile range, measured goodput.
 */
import type { MetricResult, TrialRecord } from '../results/types.js';
import { quantileSorted } from '../stats/quantile.js';
import { EXCLUDED, type OrderColumns, WARMUP } from './charts.js';
import { fmtNum } from './format.js';
import { sortedNumbers } from './svg.js';
import { toMbit } from './theory.js';
import { loadSeries, seriesLength } from '../results/series.js';

interface ArmValues {
  values: Float64Array;
  labels: string[];
  order: OrderColumns;
}

export function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * The per-arm values of a metric over the judged trials (ok, not warm-up, not excluded), in
 * trial order: what the charts' per-arm values hold, without their run-order points.
 */
function judgedValues(trials: TrialRecord[], metric: string, arm: 'control' | 'canary', excludeSuspect: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < trials.length; i++) {
    const t = trials[i]!;
    if (t.arm !== arm || t.status !== 'ok' || t.warmup || (!!t.suspect && excludeSuspect)) continue;
    const v = t.metrics?.[metric];
    if (finite(v)) out.push(v);
  }
  return out;
}

/**
 * Per-arm values of a metric, with every ok trial's run-order point (warm-up and excluded ones
 * flagged) as columns; hover labels only when asked (small runs): on 100k trials they were most of
 * the report's time. Typed arrays sized for the arm's ok trials: growing plain arrays value by value
 * cost more than the rest of the pass.
 */
export function bothArmValues(
  trials: TrialRecord[],
  metric: string,
  excludeSuspect: boolean,
  withLabels = false,
): Record<'control' | 'canary', ArmValues> {
  let nControl = 0;
  let nCanary = 0;
  for (let i = 0; i < trials.length; i++) {
    const t = trials[i]!;
    if (t.status !== 'ok') continue;
    if (t.arm === 'control') nControl++;
    else if (t.arm === 'canary') nCanary++;
  }
  const arm = (n: number) => ({
    values: new Float64Array(n),
    labels: [] as string[],
    order: { x: new Float64Array(n), y: new Float64Array(n), flags: new Uint8Array(n) },
    points: 0,
    judged: 0,
  });
  const out = { control: arm(nControl), canary: arm(nCanary) };
  for (let i = 0; i < trials.length; i++) {
    const t = trials[i]!;
    if ((t.arm !== 'control' && t.arm !== 'canary') || t.status !== 'ok') continue;
    const v = t.metrics?.[metric];
    if (!finite(v)) continue;
    const a = out[t.arm];
    const excluded = !!t.suspect && excludeSuspect;
    a.order.x[a.points] = t.pair;
    a.order.y[a.points] = v;
    a.order.flags[a.points++] = (t.warmup ? WARMUP : 0) | (excluded ? EXCLUDED : 0);
    if (t.warmup || excluded) continue;
    a.values[a.judged++] = v;
    if (withLabels) a.labels.push(`${t.trial ?? `pair ${t.pair}`}: ${fmtNum(v)}${t.suspect ? ` (suspect: ${t.suspect})` : ''}`);
  }
  const done = (a: ReturnType<typeof arm>): ArmValues => ({
    values: a.values.subarray(0, a.judged),
    labels: a.labels,
    order: { x: a.order.x.subarray(0, a.points), y: a.order.y.subarray(0, a.points), flags: a.order.flags.subarray(0, a.points) },
  });
  return { control: done(out.control), canary: done(out.canary) };
}

function medianIqr(values: number[]): { med: number; q1: number; q3: number } | null {
  if (!values.length) return null;
  const s = sortedNumbers(values);
  return { med: quantileSorted(s, 0.5), q1: quantileSorted(s, 0.25), q3: quantileSorted(s, 0.75) };
}

/** Evenly pick up to k items, spread over the run (first, ..., last). */
export function spread<T>(xs: T[], k: number): T[] {
  if (xs.length <= k) return xs;
  return Array.from({ length: k }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (k - 1))]!);
}

/** Measured goodput per arm in Mbit/s: from a rate metric if the run has one, else from series means. */
export function measuredGoodput(metrics: MetricResult[], trials: TrialRecord[], excludeSuspect: boolean, judgedTrials: TrialRecord[]) {
  const byName = metrics.filter((m) => toMbit(1, m.unit ?? '') !== null);
  const gm = byName.find((m) => /goodput|throughput/i.test(m.name)) ?? byName[0];
  const out: { arm: 'control' | 'canary'; med: number; q1: number; q3: number; source: string }[] = [];
  for (const arm of ['control', 'canary'] as const) {
    let vals: number[] = [];
    let source = '';
    if (gm) {
      const f = toMbit(1, gm.unit)!;
      vals = judgedValues(trials, gm.name, arm, excludeSuspect).map((v) => v * f);
      source = `metric ${gm.name}`;
    }
    if (!vals.length) {
      // receiver-side intervals when recorded (older runs: the sender's)
      const key = judgedTrials.some((t) => t.arm === arm && seriesLength(t, 'rx_goodput') >= 0) ? 'rx_goodput' : 'goodput';
      const withKey = judgedTrials.filter((t) => t.arm === arm && seriesLength(t, key) >= 0);
      vals = loadSeries(withKey)
        .map((s) => s![key]!.filter(finite))
        .filter((v) => v.length)
        .map((v) => v.reduce((a, b) => a + b, 0) / v.length);
      source = `mean of ${key} series`;
    }
    const mi = medianIqr(vals);
    if (mi) out.push({ arm, ...mi, source });
  }
  return out;
}
