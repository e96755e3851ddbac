/**
 * Per-arm statistics of a scenario's trials for the report: the judged values of a metric per arm
 * (with their run order), median and interquartile range, measured goodput.
 */
import type { MetricResult, TrialRecord } from '../results/types.js';
import { quantileSorted } from '../stats/quantile.js';
import type { OrderPoint } from './charts.js';
import { fmtNum } from './format.js';
import { sortedNumbers } from './svg.js';
import { toMbit } from './theory.js';
import { loadSeries, seriesLength } from '../results/series.js';

interface ArmValues {
  values: number[];
  labels: string[];
  order: OrderPoint[];
}

export function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Per-arm values; hover labels only when asked (small runs): on 100k trials they were most of the report's time. */
function armValues(
  trials: TrialRecord[],
  metric: string,
  arm: 'control' | 'canary',
  excludeSuspect: boolean,
  withLabels = false,
): ArmValues {
  return bothArmValues(trials, metric, excludeSuspect, withLabels, arm)[arm];
}

/** armValues of both arms in one pass over the trials (`only`: fill just that arm). */
export function bothArmValues(
  trials: TrialRecord[],
  metric: string,
  excludeSuspect: boolean,
  withLabels = false,
  only?: 'control' | 'canary',
): Record<'control' | 'canary', ArmValues> {
  const out = {
    control: { values: [], labels: [], order: [] } as ArmValues,
    canary: { values: [], labels: [], order: [] } as ArmValues,
  };
  for (const t of trials) {
    if ((t.arm !== 'control' && t.arm !== 'canary') || (only !== undefined && t.arm !== only) || t.status !== 'ok') continue;
    const v = t.metrics?.[metric];
    if (!finite(v)) continue;
    const a = out[t.arm];
    const excluded = !!t.suspect && excludeSuspect;
    a.order.push({ x: t.pair, y: v, warmup: t.warmup, excluded });
    if (t.warmup || excluded) continue;
    a.values.push(v);
    if (withLabels) a.labels.push(`${t.trial ?? `pair ${t.pair}`}: ${fmtNum(v)}${t.suspect ? ` (suspect: ${t.suspect})` : ''}`);
  }
  return out;
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
      vals = armValues(trials, gm.name, arm, excludeSuspect).values.map((v) => v * f);
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
