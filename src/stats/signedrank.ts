/**
 * Wilcoxon signed-rank test, Hodges-Lehmann one-sample (paired) estimate and its confidence interval.
 *
 * Conventions follow R's wilcox.test (and scipy.stats.wilcoxon with zero_method='wilcox'):
 *  - observations equal to the null value mu are dropped before ranking (Wilcoxon's zero method);
 *  - the statistic V is the sum of the (mid)ranks of |x - mu| over positive x - mu;
 *  - exact null distribution when n < 50 and there are no ties and no zeros, otherwise the normal
 *    approximation with tie-corrected variance n(n+1)(2n+1)/24 - Σ(t³-t)/48 and continuity
 *    correction ±½ (sign(z)·½ two-sided, +½ for 'greater', -½ for 'less').
 *
 * Confidence interval for the location (pseudo-median) at level `conf`:
 *  - exact: the order statistics of the sorted Walsh averages W₍k₎, W₍M-k+1₎ with
 *    k = qsignrank((1-conf)/2, n) (R's convention, including its 10ε fuzz);
 *  - normal approximation: inversion of the tie- and continuity-corrected statistic. The statistic,
 *    as a function of the shift d, is a non-increasing step function that only jumps at Walsh
 *    averages, so the interval limits are the Walsh averages where it crosses ±z. This is the exact
 *    root that R's uniroot() approximates (R: to within `tol.root`).
 * The exact branch is chosen from the data themselves (n < 50, no duplicated values), not from the
 * test at mu = 0 as R does, and zeros are kept: they are real observations of "no change".
 * (R drops the zeros of the test at mu before computing the interval, so R's interval for data with
 * zeros is computed from the other values only: a documented difference.)
 * When the requested confidence cannot be reached (too few observations) the corresponding limit is
 * ±Infinity (R instead returns the extreme Walsh average with a warning).
 */
import { midranks, sortedShared, tieSum } from './ranks.js';
import { normCdf, normIsf, normSf } from './normal.js';
import { assertFinite, assertFiniteNumber, assertOpenUnit } from './check.js';
import { walshOfSorted, walshOrderStatistics } from './walsh.js';
import { signedRankNormalLimits, signedRankSorted } from './walsh-limits.js';

export type Alternative = 'two-sided' | 'less' | 'greater';

/** Below this sample size (and without ties/zeros) the exact distribution is used, as in R. */
export const EXACT_LIMIT = 50;
const FUZZ = 10 * Number.EPSILON;

const pmfCache = new Map<number, Float64Array>();

/**
 * Exact null probabilities P(V = v), v = 0 … n(n+1)/2, of the signed-rank statistic for n untied,
 * non-zero observations. Dynamic programming over ranks with halving: every value is k/2ⁿ and
 * therefore exact in binary for n < 53.
 */
export function signedRankPmf(n: number): Float64Array {
  const cached = pmfCache.get(n);
  if (cached) return cached;
  const max = (n * (n + 1)) / 2;
  const p = new Float64Array(max + 1);
  p[0] = 1;
  let top = 0;
  for (let k = 1; k <= n; k++) {
    top += k;
    for (let s = top; s >= 0; s--) p[s] = 0.5 * (p[s]! + (s >= k ? p[s - k]! : 0));
  }
  if (pmfCache.size > 256) pmfCache.clear();
  pmfCache.set(n, p);
  return p;
}

/** P(V ≤ v) under the null (R: psignrank(v, n)). */
export function signedRankCdf(v: number, n: number): number {
  const p = signedRankPmf(n);
  const hi = Math.floor(v + 1e-7);
  if (hi < 0) return 0;
  if (hi >= p.length - 1) return 1;
  let s = 0;
  for (let i = 0; i <= hi; i++) s += p[i]!;
  return s;
}

/** P(V ≥ v) under the null (R: psignrank(v - 1, n, lower.tail = FALSE)). */
export function signedRankSfGe(v: number, n: number): number {
  const p = signedRankPmf(n);
  const lo = Math.ceil(v - 1e-7);
  if (lo <= 0) return 1;
  let s = 0;
  for (let i = p.length - 1; i >= lo; i--) s += p[i]!;
  return s;
}

/** Smallest q with P(V ≤ q) ≥ prob (R's qsignrank, including its 10ε fuzz). */
export function signedRankQuantile(prob: number, n: number): number {
  const p = signedRankPmf(n);
  const max = p.length - 1;
  let cum = 0;
  if (prob <= 0.5) {
    const target = prob - FUZZ;
    for (let q = 0; q <= max; q++) {
      cum += p[q]!;
      if (cum >= target) return q;
    }
    return max;
  }
  const target = 1 - prob + FUZZ;
  for (let q = 0; q <= max; q++) {
    cum += p[q]!;
    if (cum > target) return max - q;
  }
  return 0;
}

/**
 * Exact null distribution of 2V conditional on the observed (mid)ranks: every sign pattern of the
 * n non-zero observations is equally likely under H0, so with doubled ranks r_i (integers, since
 * midranks are multiples of ½) P(2V = s) follows from the same halving recursion as the untied
 * case. Without ties it equals signedRankPmf(n) on the even support. Index s = 2V, s = 0 … Σ r_i.
 */
export function signedRankConditionalPmf(ranks: readonly number[]): Float64Array {
  const doubled = ranks.map((r) => Math.round(2 * r));
  const total = doubled.reduce((a, b) => a + b, 0);
  const p = new Float64Array(total + 1);
  p[0] = 1;
  let top = 0;
  for (const r of doubled) {
    top += r;
    for (let s = top; s >= 0; s--) p[s] = 0.5 * (p[s]! + (s >= r ? p[s - r]! : 0));
  }
  return p;
}

/** P(2V ≤ s2) and P(2V ≥ s2) from a conditional pmf. */
function conditionalTails(p: Float64Array, s2: number): { le: number; ge: number } {
  const k = Math.round(s2);
  let le = 0;
  let ge = 0;
  for (let i = 0; i < p.length; i++) {
    if (i <= k) le += p[i]!;
    if (i >= k) ge += p[i]!;
  }
  return { le: Math.min(1, le), ge: Math.min(1, ge) };
}

export interface RankTestResult {
  /** V (signed rank) or W = U (rank sum) statistic, as R reports it. */
  statistic: number;
  /** Observations used (after dropping zeros for the signed-rank test). */
  n: number;
  p: number;
  method: 'exact' | 'normal';
  /** Standardised statistic (normal method only). */
  z: number | null;
  /** Number of observations equal to mu (dropped). */
  zeros: number;
  ties: boolean;
}

export interface RankTestOptions {
  mu?: number;
  alternative?: Alternative;
  /** Continuity correction for the normal approximation (default true). */
  correction?: boolean;
  /**
   * Force ('exact' | 'normal') or choose automatically ('auto', default: R's rule). 'exact' with
   * tied values uses the exact distribution conditional on the observed midranks (a permutation
   * test); without ties that is the ordinary exact distribution.
   */
  method?: 'auto' | 'exact' | 'normal';
}

/** Wilcoxon signed-rank test of H0: location of x equals mu. */
export function signedRankTest(x: readonly number[], opts: RankTestOptions = {}): RankTestResult {
  assertFinite('signedRankTest', 'x', x);
  const mu = opts.mu ?? 0;
  assertFiniteNumber('signedRankTest', 'mu', mu);
  const alternative = opts.alternative ?? 'two-sided';
  const correction = opts.correction ?? true;
  // from EXACT_LIMIT values on, the exact distribution is only used when asked for: the normal
  // approximation needs only V, n and the tie sum, which a sorted copy gives in O(n) (the same numbers)
  // (x - mu overflowing is left to the general path, which reports it)
  const a = x.length >= EXACT_LIMIT && opts.method !== 'exact' ? sortedShared(x) : null;
  if (a && Number.isFinite(a[0]! - mu) && Number.isFinite(a[a.length - 1]! - mu)) {
    const { n, v, ties } = signedRankSorted(a, mu);
    const zeros = x.length - n;
    if (n === 0) return { statistic: 0, n: 0, p: 1, method: 'normal', z: null, zeros, ties: false };
    return normalSignedRank(v, n, ties, alternative, correction, zeros);
  }
  const shifted = x.map((v) => v - mu);
  const nonZero = shifted.filter((v) => v !== 0);
  const zeros = shifted.length - nonZero.length;
  const n = nonZero.length;
  const { ranks, ties } = midranks(nonZero.map(Math.abs));
  let v = 0;
  for (let i = 0; i < n; i++) if (nonZero[i]! > 0) v += ranks[i]!;
  const hasTies = ties.length > 0;
  if (n === 0) return { statistic: 0, n: 0, p: 1, method: 'normal', z: null, zeros, ties: false };
  const useExact = opts.method === 'exact' || ((opts.method ?? 'auto') === 'auto' && n < EXACT_LIMIT && !hasTies && zeros === 0);
  if (useExact && hasTies) {
    const t = conditionalTails(signedRankConditionalPmf(ranks), 2 * v);
    const p = alternative === 'greater' ? t.ge : alternative === 'less' ? t.le : Math.min(1, 2 * (v > (n * (n + 1)) / 4 ? t.ge : t.le));
    return { statistic: v, n, p, method: 'exact', z: null, zeros, ties: hasTies };
  }
  if (useExact) {
    let p: number;
    if (alternative === 'greater') p = signedRankSfGe(v, n);
    else if (alternative === 'less') p = signedRankCdf(v, n);
    else p = Math.min(1, 2 * (v > (n * (n + 1)) / 4 ? signedRankSfGe(v, n) : signedRankCdf(v, n)));
    return { statistic: v, n, p, method: 'exact', z: null, zeros, ties: hasTies };
  }
  return normalSignedRank(v, n, tieSum(ties), alternative, correction, zeros);
}

/** The normal approximation of the signed-rank test from V, n (> 0) and the tie sum Σ (t³ - t). */
function normalSignedRank(
  v: number,
  n: number,
  ties: number,
  alternative: Alternative,
  correction: boolean,
  zeros: number,
): RankTestResult {
  let z = v - (n * (n + 1)) / 4;
  const sigma = Math.sqrt((n * (n + 1) * (2 * n + 1)) / 24 - ties / 48);
  const corr = !correction ? 0 : alternative === 'two-sided' ? Math.sign(z) * 0.5 : alternative === 'greater' ? 0.5 : -0.5;
  z = (z - corr) / sigma;
  const p = alternative === 'less' ? normCdf(z) : alternative === 'greater' ? normSf(z) : Math.min(1, 2 * Math.min(normCdf(z), normSf(z)));
  return { statistic: v, n, p, method: 'normal', z, zeros, ties: ties > 0 };
}

/** All n(n+1)/2 Walsh averages (x_i + x_j)/2, i ≤ j, sorted ascending. */
export function walshAverages(x: readonly number[]): number[] {
  assertFinite('walshAverages', 'x', x);
  const n = x.length;
  const out = new Float64Array((n * (n + 1)) / 2);
  let k = 0;
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) out[k++] = (x[i]! + x[j]!) / 2;
  return Array.from(out.sort());
}

/** Hodges-Lehmann one-sample estimate: median of the Walsh averages. */
export function hodgesLehmannOneSample(x: readonly number[]): number {
  assertFinite('hodgesLehmannOneSample', 'x', x);
  if (x.length === 0) return NaN;
  return walshOrderStatistics(x).median();
}

export interface LocationInterval {
  /** Hodges-Lehmann estimate (median of Walsh averages / of pairwise differences). */
  estimate: number;
  /** Lower limit, -Infinity when the confidence level is not achievable with this n. */
  lower: number;
  /** Upper limit, +Infinity when the confidence level is not achievable with this n. */
  upper: number;
  method: 'exact' | 'normal';
}

/**
 * Inverts a non-increasing step function z(d) whose jumps are at the sorted distinct `jumps`:
 * returns [L, U] with L the jump where z falls to ≤ zq and U the jump where z falls below -zq.
 */
export function invertStepStatistic(jumps: readonly number[], z: (d: number) => number, zq: number): [number, number] {
  const K = jumps.length;
  const first = jumps[0]!;
  const last = jumps[K - 1]!;
  const pointOf = (k: number): number => {
    if (k === 0) return first - Math.max(1, Math.abs(first));
    if (k === K) return last + Math.max(1, Math.abs(last));
    return (jumps[k - 1]! + jumps[k]!) / 2;
  };
  const memo = new Map<number, number>();
  const zAt = (k: number): number => {
    let v = memo.get(k);
    if (v === undefined) {
      v = z(pointOf(k));
      memo.set(k, v);
    }
    return v;
  };
  // smallest k with z_k ≤ zq
  let lo = 0;
  let hi = K + 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (mid <= K && zAt(mid) <= zq) hi = mid;
    else lo = mid + 1;
  }
  const lower = lo === 0 ? -Infinity : lo > K ? last : jumps[lo - 1]!;
  // largest k with z_k ≥ -zq
  lo = -1;
  hi = K;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (zAt(mid) >= -zq) lo = mid;
    else hi = mid - 1;
  }
  const upper = lo === K ? Infinity : lo < 0 ? first : jumps[lo]!;
  return [lower, upper];
}

/**
 * Hodges-Lehmann estimate and two-sided confidence interval at level `conf` (e.g. 0.90) for the
 * pseudo-median of x (the paired location shift when x are paired differences).
 */
export function signedRankInterval(
  x: readonly number[],
  conf: number,
  opts: { method?: 'auto' | 'exact' | 'normal' } = {},
): LocationInterval {
  assertFinite('signedRankInterval', 'x', x);
  assertOpenUnit('signedRankInterval', 'conf', conf);
  const n = x.length;
  if (n === 0) return { estimate: NaN, lower: -Infinity, upper: Infinity, method: 'exact' };
  // order statistics of the Walsh averages by selection (src/stats/walsh.ts), not by listing them
  const a = sortedShared(x);
  const walsh = walshOfSorted(a);
  const estimate = walsh.median();
  let hasTies = false; // duplicated values: equal neighbours in the sorted copy (-0 and 0 too, as in a Set)
  for (let i = 1; i < n && !hasTies; i++) hasTies = a[i] === a[i - 1];
  const method = opts.method === 'exact' || opts.method === 'normal' ? opts.method : n < EXACT_LIMIT && !hasTies ? 'exact' : 'normal';
  const tail = (1 - conf) / 2;
  if (method === 'exact') {
    const q = signedRankQuantile(tail, n);
    const M = walsh.size;
    if (q === 0) return { estimate, lower: -Infinity, upper: Infinity, method };
    return { estimate, lower: walsh.select(q), upper: walsh.select(M - q + 1), method };
  }
  const [lower, upper] = signedRankNormalLimits(a, walsh, normIsf(tail));
  return { estimate, lower, upper, method };
}
