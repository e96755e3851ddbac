/** Effect sizes. */
import { assertFinite } from './check.js';
import { sortedShared } from './ranks.js';

/**
 * Cliff's delta δ = P(X > Y) - P(X < Y) over all nx·ny pairs (ties count zero), in [-1, 1].
 * O((nx + ny) log(nx + ny)): both sorted, then one merge-like pass. NaN when either sample is empty.
 */
export function cliffsDelta(x: readonly number[], y: readonly number[]): number {
  assertFinite('cliffsDelta', 'x', x);
  assertFinite('cliffsDelta', 'y', y);
  if (x.length === 0 || y.length === 0) return NaN;
  // both sorted: the counts of y below and above each x come from two pointers that only move up
  // (the same integers as a binary search per x value; their sum is exact)
  const ys = sortedShared(y);
  const xs = sortedShared(x);
  let lt = 0; // y < v
  let le = 0; // y ≤ v
  let score = 0;
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i]!;
    while (lt < ys.length && ys[lt]! < v) lt++;
    if (le < lt) le = lt;
    while (le < ys.length && ys[le]! <= v) le++;
    score += lt - (ys.length - le);
  }
  return score / (x.length * ys.length);
}
