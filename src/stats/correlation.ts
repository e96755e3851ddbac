/**
 * Spearman rank correlation: ρ is Pearson's r of the midranks (simple-statistics'
 * sampleRankCorrelation, as scipy.stats.spearmanr), and the two-sided p-value is R's
 * cor.test(method = "spearman"): exact for n ≤ 9 (ties included), AS 89's Edgeworth series up to
 * n = 1290 without ties, the t approximation otherwise (see spearman-null.ts). Used by the judge's
 * drift gate, whose false-alarm rate in a stable run must stay at most its level however few pairs.
 */
import { sampleCorrelation } from 'simple-statistics';
import { midranksFrom } from './ranks.js';
import { assertFinite } from './check.js';
import { spearmanP } from './spearman-null.js';

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
  const rx = midranksFrom(x, 0);
  const ry = midranksFrom(y, 0);
  const rho = sampleCorrelation(rx.ranks, ry.ranks);
  if (!Number.isFinite(rho)) return { rho: 0, p: 1, n };
  return { rho, p: spearmanP(rx.ranks, ry.ranks, rho, rx.ties.length + ry.ties.length > 0), n };
}
