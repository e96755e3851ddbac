/**
 * Two-sided p-value of Spearman's ρ under independence, as R's cor.test(method = "spearman")
 * computes it, except that ties at n ≤ 9 get the exact permutation distribution too:
 *  - n ≤ 9: exact, over all n! pairings of the ranks (R: the same without ties; with ties R falls
 *    back to the t approximation, which is too small at these n);
 *  - 10 ≤ n ≤ 1290 without ties: the Edgeworth series of AS 89 (Best & Roberts 1975) for the
 *    statistic S = Σ (rank x - rank y)², with R's continuity step;
 *  - otherwise (ties at n ≥ 10, or n > 1290): t = ρ·√((n-2)/(1-ρ²)) with n - 2 degrees of freedom.
 * Two-sided means twice the smaller tail, capped at 1 (R's and scipy's permutation_test convention).
 *
 * The t approximation alone (scipy.stats.spearmanr) is anti-conservative for few points: at n = 5 it
 * gives p = 0.037 for |ρ| = 0.9, which 10 of the 120 orders reach (exact p = 0.083); a drift gate
 * built on it fired in one stable run out of 12 instead of at most α.
 */
import { normCdf, normSf } from './normal.js';
import { studentTSf } from './special.js';

/** Largest n whose p-value is counted over all n! pairings (R's n_small). */
export const SPEARMAN_EXACT_MAX = 9;

/** Counts of T = Σ a_i·b_π(i) over the n! permutations π, indexed by T, per pair of rank multisets. */
const nulls = new Map<string, { counts: Float64Array; total: number }>();

/**
 * p-value from the ranks (midranks of x and y from any common base ≥ 0, same length n ≥ 3), ρ
 * (their Pearson correlation, finite) and whether either has ties.
 */
export function spearmanP(rx: readonly number[], ry: readonly number[], rho: number, ties: boolean): number {
  const n = rx.length;
  if (n <= SPEARMAN_EXACT_MAX) return exactP(rx, ry);
  if (!ties && n <= 1290) {
    let s = 0;
    for (let i = 0; i < n; i++) s += (rx[i]! - ry[i]!) ** 2;
    const half = (n * (n * n - 1)) / 6;
    const one = s > half ? edgeworth(n, s, false) : edgeworth(n, s + 2, true);
    return Math.min(1, 2 * one);
  }
  const denom = (1 + rho) * (1 - rho);
  if (denom <= 0) return 0;
  return Math.min(1, 2 * studentTSf(Math.abs(rho) * Math.sqrt((n - 2) / denom), n - 2));
}

/** Twice the smaller tail of the exact permutation distribution of Σ rx·ry. */
function exactP(rx: readonly number[], ry: readonly number[]): number {
  // doubled midranks are integers: the statistic and its distribution are exact
  const a = Int32Array.from(rx, (v) => Math.round(2 * v));
  const b = Int32Array.from(ry, (v) => Math.round(2 * v));
  let t = 0;
  for (let i = 0; i < a.length; i++) t += a[i]! * b[i]!;
  const { counts, total } = nullOf(a, b);
  let le = 0;
  let ge = 0;
  for (let u = 0; u < counts.length; u++) {
    if (u <= t) le += counts[u]!;
    if (u >= t) ge += counts[u]!;
  }
  return Math.min(1, (2 * Math.min(le, ge)) / total);
}

function nullOf(a: Int32Array, b: Int32Array): { counts: Float64Array; total: number } {
  const key = `${Array.from(a).sort((p, q) => p - q)}|${Array.from(b).sort((p, q) => p - q)}`;
  let d = nulls.get(key);
  if (!d) {
    d = enumerate(a, Int32Array.from(b));
    if (nulls.size >= 256) nulls.clear();
    nulls.set(key, d);
  }
  return d;
}

/**
 * Every permutation of b by Heap's algorithm; each step swaps two entries, so T changes by
 * (a_i - a_j)(b_j - b_i) and is updated in O(1). 9! = 362,880 steps at most.
 */
function enumerate(a: Int32Array, b: Int32Array): { counts: Float64Array; total: number } {
  const n = a.length;
  let max = 0;
  const sa = Array.from(a).sort((p, q) => p - q);
  const sb = Array.from(b).sort((p, q) => p - q);
  for (let i = 0; i < n; i++) max += sa[i]! * sb[i]!; // rearrangement inequality: the largest T
  const counts = new Float64Array(max + 1);
  let t = 0;
  for (let i = 0; i < n; i++) t += a[i]! * b[i]!;
  counts[t]!++;
  let total = 1;
  const c = new Int32Array(n);
  let i = 1;
  while (i < n) {
    if (c[i]! < i) {
      const j = i % 2 === 0 ? 0 : c[i]!;
      t += (a[i]! - a[j]!) * (b[j]! - b[i]!);
      const tmp = b[i]!;
      b[i] = b[j]!;
      b[j] = tmp;
      counts[t]!++;
      total++;
      c[i]!++;
      i = 1;
    } else {
      c[i] = 0;
      i++;
    }
  }
  return { counts, total };
}

/** AS 89's Edgeworth coefficients. */
const C = [0.2274, 0.2531, 0.1745, 0.0758, 0.1033, 0.3932, 0.0879, 0.0151, 0.0072, 0.0831, 0.0131, 4.6e-4] as const;

/** P(S ≥ is), or P(S < is) when `lower`, by the Edgeworth series (n ≥ 10, no ties). */
function edgeworth(n: number, is: number, lower: boolean): number {
  if (is <= 0) return lower ? 0 : 1;
  if (is > (n * (n * n - 1)) / 3) return lower ? 1 : 0;
  const [c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12] = C;
  const b = 1 / n;
  // the standardized statistic: -ρ·√(n-1) for S = is - 1
  const x = ((6 * (is - 1) * b) / (n * n - 1) - 1) * Math.sqrt(n - 1);
  const y = x * x;
  const u =
    x * b * (c1 + b * (c2 + c3 * b) + y * (-c4 + b * (c5 + c6 * b) - y * b * (c7 + c8 * b - y * (c9 - c10 * b + y * b * (c11 - c12 * y)))));
  const corr = u / Math.exp(y / 2);
  const p = (lower ? -corr : corr) + (lower ? normCdf(x) : normSf(x));
  return Math.min(1, Math.max(0, p));
}
