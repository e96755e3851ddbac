/** Effect sizes. */
import { assertFinite } from './check.js';

/**
 * Cliff's delta δ = P(X > Y) - P(X < Y) over all nx·ny pairs (ties count zero), in [-1, 1].
 * O((nx + ny) log ny) via binary search in the sorted y. NaN when either sample is empty.
 */
export function cliffsDelta(x: readonly number[], y: readonly number[]): number {
  assertFinite('cliffsDelta', 'x', x);
  assertFinite('cliffsDelta', 'y', y);
  if (x.length === 0 || y.length === 0) return NaN;
  const ys = Array.from(Float64Array.from(y).sort());
  const lowerBound = (v: number): number => {
    let lo = 0;
    let hi = ys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ys[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const upperBound = (v: number): number => {
    let lo = 0;
    let hi = ys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ys[mid]! <= v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  let score = 0;
  for (const v of x) {
    const less = lowerBound(v); // y < v
    const greater = ys.length - upperBound(v); // y > v
    score += less - greater;
  }
  return score / (x.length * ys.length);
}
