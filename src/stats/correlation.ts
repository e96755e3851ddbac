/**
 * Spearman rank correlation with the p-value scipy.stats.spearmanr reports: ρ is Pearson's r of the
 * midranks (simple-statistics' sampleRankCorrelation), and the two-sided p-value uses
 * t = ρ·√((n-2)/((1+ρ)(1-ρ))) with n - 2 degrees of freedom. Used by the judge's drift gate.
 */
import { sampleCorrelation } from 'simple-statistics';
import { studentTSf } from './special.js';
import { midranksFrom } from './ranks.js';
import { assertFinite } from './check.js';

export interface CorrelationTest {
  rho: number;
  p: number;
  n: number;
}

/** Spearman's ρ and its two-sided p-value; ρ = 0, p = 1 when either input is constant or n < 3. */
export function spearman(x: readonly number[], y: readonly number[]): CorrelationTest {
  const n = x.length;
  if (n !== y.length) throw new Error('spearman: x and y must have the same length');
  assertFinite('spearman', 'x', x);
  assertFinite('spearman', 'y', y);
  if (n < 3) return { rho: 0, p: 1, n };
  // simple-statistics' sampleRankCorrelation is sampleCorrelation of its 0-based midranks; the same
  // ranks (exact half-integers) come from a typed sort here, without an array pair per value
  const rho = sampleCorrelation(midranksFrom(x, 0).ranks, midranksFrom(y, 0).ranks);
  if (!Number.isFinite(rho)) return { rho: 0, p: 1, n };
  const df = n - 2;
  const denom = (1 + rho) * (1 - rho);
  if (denom <= 0) return { rho, p: 0, n };
  const t = rho * Math.sqrt(df / denom);
  return { rho, p: Math.min(1, 2 * studentTSf(Math.abs(t), df)), n };
}
