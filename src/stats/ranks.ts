/** Ranking helpers shared by the rank tests. */
import { assertFinite } from './check.js';

export interface Ranking {
  /** Midranks (1-based, ties get the average of the ranks they span), in input order. */
  ranks: number[];
  /** Sizes of the tie groups with more than one member. */
  ties: number[];
}

/**
 * Midranks of `values` (R's rank(ties.method = "average")), plus the tie-group sizes. The values are
 * sorted as a Float64Array (no comparator calls) and each value's group found by binary search: a
 * group is a run of values equal under === (-0 and +0 together, adjacent in the typed sort), the same
 * groups, ranks (i + j)/2 + 1 and tie sizes (ascending) as a stable index sort gives.
 */
export function midranks(values: readonly number[]): Ranking {
  assertFinite('midranks', 'values', values);
  const { ranks, ties } = midranksFrom(values, 1);
  return { ranks, ties };
}

/** Sorted copies handed out by sortedShared, with a copy of the array each was made from. */
const sortedOf = new WeakMap<readonly number[], { from: Float64Array; sorted: Float64Array }>();

/**
 * Float64Array.from(values).sort(), shared by the procedures that read the same array (the judge
 * ranks, tests and bounds one metric's values several times): the copy made for an array is handed
 * out again while the array still holds the same values (checked, O(n), sign of zero included), else
 * it is made afresh. Read only: callers must not modify it.
 */
export function sortedShared(values: readonly number[]): Float64Array {
  const hit = sortedOf.get(values);
  if (hit && hit.from.length === values.length) {
    let same = true;
    for (let i = 0; i < values.length && same; i++) same = Object.is(hit.from[i], values[i]);
    if (same) return hit.sorted;
  }
  const from = Float64Array.from(values);
  const sorted = from.slice().sort();
  sortedOf.set(values, { from, sorted });
  return sorted;
}

/** Midranks starting at `base` (1: R's ranks; 0: simple-statistics' ranks), without the finiteness check. */
export function midranksFrom(values: readonly number[], base: number): Ranking {
  const n = values.length;
  // strictly ascending values (the pair indices of a drift test): each its own rank, no ties
  let ascending = true;
  for (let k = 1; k < n && ascending; k++) ascending = values[k]! > values[k - 1]!;
  if (ascending) return { ranks: Array.from({ length: n }, (_, k) => k + base), ties: [] };
  const s = sortedShared(values);
  const ranks = new Array<number>(n);
  const ties: number[] = [];
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && s[j] === s[i]) j++;
    if (j - i > 1) ties.push(j - i);
    i = j;
  }
  for (let k = 0; k < n; k++) {
    const v = values[k]!;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    const first = lo;
    hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]! <= v) lo = mid + 1;
      else hi = mid;
    }
    ranks[k] = (first + lo - 1) / 2 + base;
  }
  return { ranks, ties };
}

/** Σ (t³ - t) over tie groups, the usual tie-correction term. */
export function tieSum(ties: readonly number[]): number {
  let s = 0;
  for (const t of ties) s += t * t * t - t;
  return s;
}

/** Median of a sorted, non-empty array: middle value or mean of the two middle ones (as R's median). */
export function medianSorted(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = Math.floor(n / 2);
  return n % 2 === 1 ? sorted[h]! : (sorted[h - 1]! + sorted[h]!) / 2;
}

/** Median of any array (copy + sort). */
export function median(values: readonly number[]): number {
  assertFinite('median', 'values', values);
  return medianSorted(sortedShared(values));
}
