/** Ranking helpers shared by the rank tests. */
import { assertFinite } from './check.js';

export interface Ranking {
  /** Midranks (1-based, ties get the average of the ranks they span), in input order. */
  ranks: number[];
  /** Sizes of the tie groups with more than one member. */
  ties: number[];
}

/** Midranks of `values` (R's rank(ties.method = "average")), plus the tie-group sizes. */
export function midranks(values: readonly number[]): Ranking {
  assertFinite('midranks', 'values', values);
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Array<number>(n);
  const ties: number[] = [];
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]!] === values[order[i]!]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = r;
    if (j > i) ties.push(j - i + 1);
    i = j + 1;
  }
  return { ranks, ties };
}

/** Σ (t³ - t) over tie groups, the usual tie-correction term. */
export function tieSum(ties: readonly number[]): number {
  let s = 0;
  for (const t of ties) s += t * t * t - t;
  return s;
}

/** Sorted copy as a plain array (Float64Array sort is numeric and fast). */
export function sortNumbers(values: readonly number[]): number[] {
  return Array.from(Float64Array.from(values).sort());
}

/** Median of a sorted, non-empty array: middle value or mean of the two middle ones (as R's median). */
export function medianSorted(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = Math.floor(n / 2);
  return n % 2 === 1 ? sorted[h]! : (sorted[h - 1]! + sorted[h]!) / 2;
}

/** Median of any array (copy + sort). */
export function median(values: readonly number[]): number {
  assertFinite('median', 'values', values);
  return medianSorted(sortNumbers(values));
}
