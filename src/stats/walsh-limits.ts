/**
 * The normal-approximation Hodges-Lehmann interval limits without listing the Walsh averages or the
 * differences: the signed-rank and rank-sum statistics of a shift d in O(n) from sorted inputs, and
 * the limits found by selection over the order statistics of walsh.ts (where the statistic crosses ±zq).
 */
import { sortedCopy } from './select.js';
import type { OrderStatistics } from './walsh.js';

/** Σ (t³ - t) over runs of equal values of a sorted array (the tie correction of identical values). */
function sortedTieSum(s: Float64Array): number {
  let sum = 0;
  let i = 0;
  while (i < s.length) {
    let j = i + 1;
    while (j < s.length && s[j] === s[i]) j++;
    const t = j - i;
    if (t > 1) sum += t * t * t - t;
    i = j;
  }
  return sum;
}

/** First index of the sorted array with s[i] ≥ v (strict = false: s[i] > v). */
function bound(s: Float64Array, v: number, strict: boolean): number {
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (strict ? s[mid]! <= v : s[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The standardised, continuity-corrected signed-rank statistic of x - d (values equal to d dropped)
 * from x sorted ascending, in O(n): the |x_i - d| of the values below d and of those above d are
 * two sorted runs, merged; the midranks, their sum over positive x_i - d and the tie sum are the
 * same exact half-integers and integers as midranks() gives, so the result is the same number.
 */
export function signedRankZSorted(a: Float64Array, d: number, correction: boolean): number {
  const { n, v, ties } = signedRankSorted(a, d);
  if (n === 0) return 0;
  const zd = v - (n * (n + 1)) / 4;
  const sigma = Math.sqrt((n * (n + 1) * (2 * n + 1)) / 24 - ties / 48);
  const corr = correction ? Math.sign(zd) * 0.5 : 0;
  return (zd - corr) / sigma;
}

/**
 * The signed-rank statistic of x - d from x sorted ascending, in O(n): n = values other than d,
 * v = the sum of the midranks of |x_i - d| over x_i > d, ties = Σ (t³ - t) over tie groups of the
 * |x_i - d| (0 when there is none). The same exact half-integers and integers as midranks() of the
 * |x_i - d| (their sums are exact below 2⁵³, whatever the order).
 */
export function signedRankSorted(a: Float64Array, d: number): { n: number; v: number; ties: number } {
  const p = bound(a, d, false); // a[0 … p) < d
  const q = bound(a, d, true); // a[q …) > d
  const n = p + (a.length - q);
  if (n === 0) return { n, v: 0, ties: 0 };
  let i = p - 1; // negatives, |a_i - d| ascending as i falls
  let j = q; // positives, ascending as j rises
  let pos = 0;
  let v = 0;
  let ties = 0;
  while (i >= 0 || j < a.length) {
    const ua = i >= 0 ? -(a[i]! - d) : Infinity;
    const ub = j < a.length ? a[j]! - d : Infinity;
    const u = Math.min(ua, ub);
    let ca = 0;
    let cb = 0;
    while (i >= 0 && -(a[i]! - d) === u) {
      ca++;
      i--;
    }
    while (j < a.length && a[j]! - d === u) {
      cb++;
      j++;
    }
    const t = ca + cb;
    v += cb * ((pos + pos + t - 1) / 2 + 1);
    if (t > 1) ties += t * t * t - t;
    pos += t;
  }
  return { n, v, ties };
}

/**
 * The standardised, continuity-corrected rank-sum statistic for the shift d from x and y sorted
 * ascending, in O(nx + ny): x - d and y are merged; same exact rank sums and tie sums as midranks()
 * of the pooled sample, hence the same number.
 */
export function rankSumZSorted(a: Float64Array, b: Float64Array, d: number, correction: boolean): number {
  const nx = a.length;
  const ny = b.length;
  const N = nx + ny;
  let i = 0;
  let j = 0;
  let pos = 0;
  let rx = 0;
  let ties = 0;
  while (i < nx || j < ny) {
    const ua = i < nx ? a[i]! - d : Infinity;
    const ub = j < ny ? b[j]! : Infinity;
    const u = Math.min(ua, ub);
    let ca = 0;
    let cb = 0;
    while (i < nx && a[i]! - d === u) {
      ca++;
      i++;
    }
    while (j < ny && b[j]! === u) {
      cb++;
      j++;
    }
    const t = ca + cb;
    rx += ca * ((pos + pos + t - 1) / 2 + 1);
    if (t > 1) ties += t * t * t - t;
    pos += t;
  }
  const dz = rx - (nx * (nx + 1)) / 2 - (nx * ny) / 2;
  const sigma = Math.sqrt(((nx * ny) / 12) * (N + 1 - ties / (N * (N - 1))));
  const corr = correction ? Math.sign(dz) * 0.5 : 0;
  return sigma === 0 ? 0 : (dz - corr) / sigma;
}

/**
 * Inverts a non-increasing step function z(d) whose jumps are the elements of `os`, exactly as
 * invertStepStatistic does over the sorted distinct elements (same evaluation points: midpoints of
 * adjacent distinct elements, and min - max(1, |min|), max + max(1, |max|) outside), but searching
 * over ranks with selection instead of over a listing. A gap (the open interval right of an
 * element w, or left of the minimum) is probed through any rank of w; `guess` ranks come from the
 * statistic's tie-free form (V or U = number of elements above d), so a probe of the guessed gap
 * and of its neighbour usually settle each limit.
 */
export function invertBySelection(
  os: OrderStatistics,
  z: (d: number) => number,
  zq: number,
  guessLower: number,
  guessUpper: number,
): [number, number] {
  const M = os.size;
  const first = os.min();
  const last = os.max();
  const memo = new Map<number, { z: number; first: number; last: number }>();
  /** ranks already known: a gap's element w is the element of rank first (its smallest rank); not
   * for zeros, whose sign depends on the rank (-0 sorts before +0) */
  const known = new Map<number, number>();
  let gap0: { z: number; first: number; last: number } | undefined;
  /**
   * The element of rank r: a known group's element, or its neighbour (the search probes the ranks
   * next to a group it has seen: nextAbove and prevBelow take one sweep, select several), else
   * selected. Zeros are always selected (their sign depends on the rank).
   */
  const element = (r: number): number => {
    const w = known.get(r);
    if (w !== undefined) return w;
    const right = known.get(r + 1);
    if (right !== undefined && r >= 1) {
      const v = os.prevBelow(right);
      if (v !== 0) return v;
    }
    return os.select(r);
  };
  const gap = (r: number): { z: number; first: number; last: number } => {
    if (r === 0) return (gap0 ??= { z: z(first - Math.max(1, Math.abs(first))), first: 0, last: 0 });
    const w = element(r);
    let g = memo.get(w);
    if (!g) {
      const next = os.nextAbove(w);
      const point = next === Infinity ? last + Math.max(1, Math.abs(last)) : (w + next) / 2;
      g = { z: z(point), first: os.countLt(w) + 1, last: os.countLe(w) };
      memo.set(w, g);
      if (w !== 0) known.set(g.first, w);
      if (next !== Infinity && next !== 0) known.set(g.last + 1, next);
    }
    return g;
  };
  /** Smallest rank r in [0, M] whose gap satisfies pred (M + 1 if none); pred is monotone in r. */
  const smallest = (pred: (zv: number) => boolean, guess: number): number => {
    let lo = 0;
    let hi = M + 1;
    let r = Number.isFinite(guess) ? Math.max(0, Math.min(M, Math.round(guess))) : Math.floor(M / 2);
    let step = 1;
    let seenTrue = false;
    let seenFalse = false;
    for (;;) {
      const g = gap(r);
      const ok = pred(g.z);
      if (ok) {
        hi = g.first;
        seenTrue = true;
      } else {
        lo = g.last + 1;
        seenFalse = true;
      }
      if (lo >= hi) return hi;
      if (seenTrue && seenFalse) r = lo + Math.floor((hi - 1 - lo) / 2);
      else if (ok) r = Math.max(lo, hi - step);
      else r = Math.min(hi - 1, lo - 1 + step);
      step *= 2;
    }
  };
  const rl = smallest((v) => v <= zq, guessLower);
  const lower = rl === 0 ? -Infinity : rl > M ? last : element(rl);
  const ru = smallest((v) => v < -zq, guessUpper);
  const upper = ru > M ? Infinity : ru === 0 ? first : element(ru);
  return [lower, upper];
}

/** Rank guesses [lower, upper] for invertBySelection from a statistic T = #elements above d. */
function rankGuesses(M: number, mean: number, sigma: number, zq: number): [number, number] {
  const tMax = Math.floor(mean + 0.5 + zq * sigma); // largest T with z ≤ zq
  const tMin = Math.ceil(mean - 0.5 - zq * sigma); // smallest T with z ≥ -zq
  return [M - tMax, M - tMin + 1];
}

/**
 * Limits of the normal-approximation Hodges-Lehmann interval of the signed-rank test (the Walsh
 * averages where the corrected statistic crosses ±zq); a = sortedCopy(x), `os` = walshOfSorted(a).
 */
export function signedRankNormalLimits(a: Float64Array, os: OrderStatistics, zq: number): [number, number] {
  const n = a.length;
  const sigma = Math.sqrt((n * (n + 1) * (2 * n + 1)) / 24 - sortedTieSum(a) / 48);
  const [gl, gu] = rankGuesses(os.size, (n * (n + 1)) / 4, sigma, zq);
  return invertBySelection(os, (d) => signedRankZSorted(a, d, true), zq, gl, gu);
}

/**
 * Limits of the normal-approximation Hodges-Lehmann interval of the rank-sum test (the differences
 * x_i - y_j where the corrected statistic crosses ±zq); `os` = differenceOrderStatistics(x, y).
 */
export function rankSumNormalLimits(x: readonly number[], y: readonly number[], os: OrderStatistics, zq: number): [number, number] {
  const a = sortedCopy(x);
  const b = sortedCopy(y);
  const nx = a.length;
  const ny = b.length;
  const N = nx + ny;
  const sigma = Math.sqrt(((nx * ny) / 12) * (N + 1 - (sortedTieSum(a) + sortedTieSum(b)) / (N * (N - 1))));
  const [gl, gu] = rankGuesses(os.size, (nx * ny) / 2, sigma, zq);
  return invertBySelection(os, (d) => rankSumZSorted(a, b, d, true), zq, gl, gu);
}
