/**
 * Wilcoxon rank-sum / Mann-Whitney test and the two-sample Hodges-Lehmann shift with its interval.
 *
 * Conventions follow R's wilcox.test(x, y) and scipy.stats.mannwhitneyu(x, y, use_continuity=True):
 *  - statistic W = U = Σ ranks(x - mu in the pooled sample) - nx(nx+1)/2 = #{(i,j): x_i - mu > y_j}
 *    (+½ per tie);
 *  - exact null distribution when nx < 50 and ny < 50 and the pooled sample has no ties; otherwise
 *    the normal approximation with variance (nx·ny/12)·((N+1) - Σ(t³-t)/(N(N-1))) and continuity
 *    correction ±½ as in R.
 * Interval for the shift Δ (location of x minus location of y) at level `conf`:
 *  - exact: order statistics D₍k₎, D₍nx·ny-k+1₎ of the sorted pairwise differences x_i - y_j with
 *    k = qwilcox((1-conf)/2, nx, ny) (R's convention, 10ε fuzz included);
 *  - normal: exact inversion of the corrected statistic, a non-increasing step function of the shift
 *    with jumps at pairwise differences (the root R's uniroot approximates to within tol.root).
 * The exact branch is chosen from the data (no duplicated values within x or within y, both < 50),
 * not from the test at mu = 0; unreachable confidence gives ±Infinity limits (R: extreme difference).
 */
import { midranks, tieSum } from './ranks.js';
import { normCdf, normIsf, normSf } from './normal.js';
import { assertFinite, assertFiniteNumber, assertOpenUnit } from './check.js';
import { differenceOrderStatistics } from './walsh.js';
import { rankSumNormalLimits } from './walsh-limits.js';
import { EXACT_LIMIT, type LocationInterval, type RankTestOptions, type RankTestResult } from './signedrank.js';

const FUZZ = 10 * Number.EPSILON;
const pmfCache = new Map<string, Float64Array>();

/**
 * Exact null probabilities P(U = u), u = 0 … nx·ny, for sample sizes (nx, ny) without ties.
 * Recursion on the largest pooled observation: it is an x with probability i/(i+j) (then it beats
 * all j y's: U = j + U(i-1, j)) or a y (U = U(i, j-1)). Only convex combinations: no cancellation.
 */
export function rankSumPmf(nx: number, ny: number): Float64Array {
  const key = `${nx},${ny}`;
  const cached = pmfCache.get(key);
  if (cached) return cached;
  // prev[j] = pmf(i-1, j); cur[j] = pmf(i, j)
  let prev: Float64Array[] = Array.from({ length: ny + 1 }, () => Float64Array.of(1));
  for (let i = 1; i <= nx; i++) {
    const cur: Float64Array[] = [Float64Array.of(1)];
    for (let j = 1; j <= ny; j++) {
      const out = new Float64Array(i * j + 1);
      const a = prev[j]!; // pmf(i-1, j), support 0 … (i-1)j
      const b = cur[j - 1]!; // pmf(i, j-1), support 0 … i(j-1)
      const wa = i / (i + j);
      const wb = j / (i + j);
      for (let u = 0; u < a.length; u++) out[u + j] += wa * a[u]!;
      for (let u = 0; u < b.length; u++) out[u] += wb * b[u]!;
      cur.push(out);
    }
    prev = cur;
  }
  const pmf = prev[ny]!;
  if (pmfCache.size > 256) pmfCache.clear();
  pmfCache.set(key, pmf);
  return pmf;
}

/** P(U ≤ u) (R: pwilcox(u, nx, ny)). */
export function rankSumCdf(u: number, nx: number, ny: number): number {
  const p = rankSumPmf(nx, ny);
  const hi = Math.floor(u + 1e-7);
  if (hi < 0) return 0;
  if (hi >= p.length - 1) return 1;
  let s = 0;
  for (let i = 0; i <= hi; i++) s += p[i]!;
  return s;
}

/** P(U ≥ u) (R: pwilcox(u - 1, nx, ny, lower.tail = FALSE)). */
export function rankSumSfGe(u: number, nx: number, ny: number): number {
  const p = rankSumPmf(nx, ny);
  const lo = Math.ceil(u - 1e-7);
  if (lo <= 0) return 1;
  let s = 0;
  for (let i = p.length - 1; i >= lo; i--) s += p[i]!;
  return s;
}

/** Smallest q with P(U ≤ q) ≥ prob (R's qwilcox, 10ε fuzz included). */
export function rankSumQuantile(prob: number, nx: number, ny: number): number {
  const p = rankSumPmf(nx, ny);
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
 * Exact null distribution of 2W (W = U statistic) conditional on the pooled (mid)ranks: every
 * choice of which nx of the N pooled observations belong to x is equally likely under H0. Counts
 * subsets by size and sum of doubled ranks (integers), then normalises. Meant for small samples
 * with ties (O(N·nx·Σr)). Index s = 2W, s = 0 … 2·nx·ny.
 */
export function rankSumConditionalPmf(pooledRanks: readonly number[], nx: number): Float64Array {
  const doubled = pooledRanks.map((r) => Math.round(2 * r));
  const total = doubled.reduce((a, b) => a + b, 0);
  // ways[k][s]: subsets of size k with doubled-rank sum s
  const ways: Float64Array[] = Array.from({ length: nx + 1 }, () => new Float64Array(total + 1));
  ways[0]![0] = 1;
  let top = 0;
  for (const r of doubled) {
    top += r;
    for (let k = nx; k >= 1; k--) {
      const to = ways[k]!;
      const from = ways[k - 1]!;
      for (let s = top; s >= r; s--) to[s] += from[s - r]!;
    }
  }
  const base = nx * (nx + 1); // 2 · nx(nx+1)/2
  const row = ways[nx]!;
  let sum = 0;
  for (let s = 0; s <= total; s++) sum += row[s]!;
  const out = new Float64Array(Math.max(0, total - base) + 1);
  for (let s = base; s <= total; s++) out[s - base] = row[s]! / sum;
  return out;
}

/** Mann-Whitney / Wilcoxon rank-sum test of H0: location(x) - location(y) = mu. */
export function rankSumTest(x: readonly number[], y: readonly number[], opts: RankTestOptions = {}): RankTestResult {
  assertFinite('rankSumTest', 'x', x);
  assertFinite('rankSumTest', 'y', y);
  const mu = opts.mu ?? 0;
  assertFiniteNumber('rankSumTest', 'mu', mu);
  const alternative = opts.alternative ?? 'two-sided';
  const correction = opts.correction ?? true;
  const nx = x.length;
  const ny = y.length;
  if (nx === 0 || ny === 0) return { statistic: 0, n: nx + ny, p: 1, method: 'normal', z: null, zeros: 0, ties: false };
  const pooled = [...x.map((v) => v - mu), ...y];
  const { ranks, ties } = midranks(pooled);
  let rx = 0;
  for (let i = 0; i < nx; i++) rx += ranks[i]!;
  const w = rx - (nx * (nx + 1)) / 2;
  const hasTies = ties.length > 0;
  const useExact = opts.method === 'exact' || ((opts.method ?? 'auto') === 'auto' && nx < EXACT_LIMIT && ny < EXACT_LIMIT && !hasTies);
  if (useExact && hasTies) {
    const pmf = rankSumConditionalPmf(ranks, nx);
    const k = Math.round(2 * w);
    let le = 0;
    let ge = 0;
    for (let i = 0; i < pmf.length; i++) {
      if (i <= k) le += pmf[i]!;
      if (i >= k) ge += pmf[i]!;
    }
    le = Math.min(1, le);
    ge = Math.min(1, ge);
    const p = alternative === 'greater' ? ge : alternative === 'less' ? le : Math.min(1, 2 * (w > (nx * ny) / 2 ? ge : le));
    return { statistic: w, n: nx + ny, p, method: 'exact', z: null, zeros: 0, ties: hasTies };
  }
  if (useExact) {
    let p: number;
    if (alternative === 'greater') p = rankSumSfGe(w, nx, ny);
    else if (alternative === 'less') p = rankSumCdf(w, nx, ny);
    else p = Math.min(1, 2 * (w > (nx * ny) / 2 ? rankSumSfGe(w, nx, ny) : rankSumCdf(w, nx, ny)));
    return { statistic: w, n: nx + ny, p, method: 'exact', z: null, zeros: 0, ties: hasTies };
  }
  const N = nx + ny;
  let z = w - (nx * ny) / 2;
  const sigma = Math.sqrt(((nx * ny) / 12) * (N + 1 - tieSum(ties) / (N * (N - 1))));
  const corr = !correction ? 0 : alternative === 'two-sided' ? Math.sign(z) * 0.5 : alternative === 'greater' ? 0.5 : -0.5;
  if (sigma === 0) return { statistic: w, n: N, p: 1, method: 'normal', z: null, zeros: 0, ties: hasTies };
  z = (z - corr) / sigma;
  const p = alternative === 'less' ? normCdf(z) : alternative === 'greater' ? normSf(z) : Math.min(1, 2 * Math.min(normCdf(z), normSf(z)));
  return { statistic: w, n: N, p, method: 'normal', z, zeros: 0, ties: hasTies };
}

/** All nx·ny differences x_i - y_j, sorted ascending. */
export function pairwiseDifferences(x: readonly number[], y: readonly number[]): number[] {
  assertFinite('pairwiseDifferences', 'x', x);
  assertFinite('pairwiseDifferences', 'y', y);
  const out = new Float64Array(x.length * y.length);
  let k = 0;
  for (const a of x) for (const b of y) out[k++] = a - b;
  return Array.from(out.sort());
}

/** Two-sample Hodges-Lehmann shift estimate: median of all x_i - y_j. */
export function hodgesLehmannTwoSample(x: readonly number[], y: readonly number[]): number {
  assertFinite('hodgesLehmannTwoSample', 'x', x);
  assertFinite('hodgesLehmannTwoSample', 'y', y);
  if (x.length === 0 || y.length === 0) return NaN;
  return differenceOrderStatistics(x, y).median();
}

/** Hodges-Lehmann shift (x minus y) and its two-sided interval at level `conf`. */
export function rankSumInterval(
  x: readonly number[],
  y: readonly number[],
  conf: number,
  opts: { method?: 'auto' | 'exact' | 'normal' } = {},
): LocationInterval {
  assertFinite('rankSumInterval', 'x', x);
  assertFinite('rankSumInterval', 'y', y);
  assertOpenUnit('rankSumInterval', 'conf', conf);
  const nx = x.length;
  const ny = y.length;
  if (nx === 0 || ny === 0) return { estimate: NaN, lower: -Infinity, upper: Infinity, method: 'exact' };
  // order statistics of the differences by selection (src/stats/walsh.ts), not by listing them
  const diffs = differenceOrderStatistics(x, y);
  const estimate = diffs.median();
  const hasTies = new Set(x).size !== nx || new Set(y).size !== ny;
  const method =
    opts.method === 'exact' || opts.method === 'normal'
      ? opts.method
      : nx < EXACT_LIMIT && ny < EXACT_LIMIT && !hasTies
        ? 'exact'
        : 'normal';
  const tail = (1 - conf) / 2;
  if (method === 'exact') {
    const q = rankSumQuantile(tail, nx, ny);
    if (q === 0) return { estimate, lower: -Infinity, upper: Infinity, method };
    return { estimate, lower: diffs.select(q), upper: diffs.select(nx * ny - q + 1), method };
  }
  const [lower, upper] = rankSumNormalLimits(x, y, diffs, normIsf(tail));
  return { estimate, lower, upper, method };
}
