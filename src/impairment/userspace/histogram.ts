/**
 * Fixed log-spaced histogram for durations in milliseconds (queue delay, send lateness).
 *
 * Bucket upper edges follow the R20 preferred-number series (1, 1.12, 1.25, ... 8, 9 per decade,
 * ~12 % apart, so round values such as 0.5 ms and 1 ms are edges) from 1 us to 100 s. Bucket i
 * counts values in (edge[i-1], edge[i]]; bucket 0 holds everything <= 1 us (including negative
 * values), the last bucket everything above 100 s. Quantiles are reported as the upper edge of the
 * bucket that holds them, i.e. conservatively (true value <= reported, and > the previous edge);
 * max and mean are exact.
 */
import type { HistogramSummary } from './protocol.js';

const R20 = [1, 1.12, 1.25, 1.4, 1.6, 1.8, 2, 2.24, 2.5, 2.8, 3.15, 3.55, 4, 4.5, 5, 5.6, 6.3, 7.1, 8, 9];

function buildEdges(): Float64Array {
  const edges: number[] = [];
  for (let exp = -3; exp < 5; exp++) {
    const scale = 10 ** exp;
    for (const m of R20) edges.push(Number((m * scale).toPrecision(4)));
  }
  edges.push(1e5);
  return Float64Array.from(edges);
}

/** Upper edges in ms: 0.001 ... 100000 (161 edges); one more overflow bucket follows. */
export const HIST_EDGES_MS: Float64Array = buildEdges();
export const HIST_BUCKETS = HIST_EDGES_MS.length + 1;

/** Bucket index for a value in ms (binary search on the edges). */
export function bucketOf(ms: number): number {
  if (!(ms > HIST_EDGES_MS[0]!)) return 0; // also NaN and negatives
  let lo = 0;
  let hi = HIST_EDGES_MS.length; // answer in (lo, hi]
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (ms <= HIST_EDGES_MS[mid]!) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Upper edge of a bucket in ms (Infinity for the overflow bucket). */
export function bucketUpperMs(i: number): number {
  return i < HIST_EDGES_MS.length ? HIST_EDGES_MS[i]! : Infinity;
}

/**
 * Summarise bucket counts (any array-like view, e.g. a slice of a shared Float64Array).
 * `sum` and `max` are the exact sum and maximum of the recorded values.
 */
export function summarise(counts: ArrayLike<number>, offset: number, sum: number, max: number): HistogramSummary {
  let n = 0;
  for (let i = 0; i < HIST_BUCKETS; i++) n += counts[offset + i]!;
  const buckets: Array<[number | null, number]> = [];
  let p50 = 0;
  let p99 = 0;
  let p999 = 0;
  if (n > 0) {
    const t50 = Math.ceil(0.5 * n);
    const t99 = Math.ceil(0.99 * n);
    const t999 = Math.ceil(0.999 * n);
    let cum = 0;
    let got50 = false;
    let got99 = false;
    let got999 = false;
    for (let i = 0; i < HIST_BUCKETS; i++) {
      const c = counts[offset + i]!;
      if (c === 0) continue;
      cum += c;
      const edge = Math.min(bucketUpperMs(i), max);
      buckets.push([i < HIST_EDGES_MS.length ? HIST_EDGES_MS[i]! : null, c]);
      if (!got50 && cum >= t50) {
        p50 = edge;
        got50 = true;
      }
      if (!got99 && cum >= t99) {
        p99 = edge;
        got99 = true;
      }
      if (!got999 && cum >= t999) {
        p999 = edge;
        got999 = true;
      }
    }
  }
  return {
    count: n,
    mean: n > 0 ? sum / n : 0,
    p50,
    p99,
    p999,
    max: n > 0 ? max : 0,
    buckets,
  };
}

/** A single-threaded histogram (the model's queue-delay histogram). */
export class Histogram {
  readonly counts = new Float64Array(HIST_BUCKETS);
  sum = 0;
  max = -Infinity;

  record(ms: number): void {
    this.counts[bucketOf(ms)] += 1;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.max = -Infinity;
  }

  summary(): HistogramSummary {
    return summarise(this.counts, 0, this.sum, this.max);
  }
}
