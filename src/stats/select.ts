/**
 * Sorted copies and selection by partitioning: the order-statistic helpers the rank procedures,
 * the Walsh-average listings and Theil-Sen share.
 */

/** The values as a sorted Float64Array (ascending, -0 before 0; or descending). */
export function sortedCopy(values: readonly number[], descending = false): Float64Array {
  const s = Float64Array.from(values).sort();
  return descending ? s.reverse() : s;
}

/**
 * The element of index k (0-based) of buf sorted ascending, by partitioning (Hoare, median-of-three
 * pivots, as Wirth's selection) instead of sorting; buf is reordered. Each partition around a value
 * other than zero keeps in the part it goes on with exactly the elements of those ranks in the
 * sorted buf (-0 and 0 go together), so a value is the same whichever way it is found. A zero pivot
 * (the sort puts -0 before 0, comparisons do not tell them apart) or a part that does not shrink
 * fast enough is answered by sorting that part. Exported for tests.
 */
export function nth(buf: Float64Array, k: number): number {
  let lo = 0;
  let hi = buf.length - 1;
  for (let round = 0; lo < hi && round < 64; round++) {
    const x = buf[lo]!;
    const y = buf[(lo + hi) >>> 1]!;
    const z = buf[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    if (pivot === 0) break;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (buf[i]! < pivot) i++;
      while (buf[j]! > pivot) j--;
      if (i <= j) {
        const t = buf[i]!;
        buf[i++] = buf[j]!;
        buf[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return pivot; // between the parts: elements equal to the pivot
  }
  if (lo === hi) return buf[lo]!;
  return buf.subarray(lo, hi + 1).sort()[k - lo]!;
}
