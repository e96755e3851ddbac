/**
 * Sample quantiles: the one implementation netab uses (workload metrics, the fidelity probe, the
 * report's boxes and bands).
 *
 * Definition: R type 7 (numpy's default, also d3-array's quantileSorted): linear interpolation
 * between the order statistics around h = (n - 1) p. The arithmetic is exactly d3-array's for
 * finite values, so the report's numbers did not move when it stopped using d3 for this.
 *
 * The rank tests' median (stats/ranks.ts medianSorted, R's median(): mean of the two middle
 * values) is the same quantity at p = 0.5 but rounds differently in the last bit; it stays there so
 * the judge's estimates are unchanged.
 */

/** Type-7 quantile of ascending-sorted values; NaN when empty. p outside [0, 1] is not checked. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}
