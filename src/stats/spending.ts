/**
 * Alpha-spending for sequential looks (Lan & DeMets 1983).
 *
 * A spending function f(t, α) is non-decreasing in the information fraction t ∈ [0, 1] with
 * f(0) = 0 and f(1) = α. netab spends it with a Bonferroni split: look k of K is tested at the
 * nominal one-sided level α_k = f(k/K) - f((k-1)/K). Because Σ α_k = α, the union bound makes the
 * probability of *ever* crossing a boundary under H0 at most α, whatever the correlation between
 * looks and without relying on the joint normality of interim statistics (our tests are exact or
 * rank-based, where that joint law is only asymptotic). The price is some conservatism at the last
 * look compared with boundaries from recursive numerical integration.
 */
import { normCdf, normIsf } from './normal.js';

export type SpendingFunction = (t: number, alpha: number) => number;

/**
 * Hwang-Shih-DeCani family: f(t) = α(1 - e^{-γt})/(1 - e^{-γ}); γ = 0 is linear (αt).
 * γ = -4 is O'Brien-Fleming-like (little α early), γ = 1 Pocock-like.
 */
export function hwangShihDeCani(gamma: number): SpendingFunction {
  return (t, alpha) => {
    const u = Math.min(1, Math.max(0, t));
    if (gamma === 0) return alpha * u;
    return (alpha * -Math.expm1(-gamma * u)) / -Math.expm1(-gamma);
  };
}

/** Lan-DeMets O'Brien-Fleming-type: f(t) = 2(1 - Φ(z_{1-α/2}/√t)). */
export const obrienFleming: SpendingFunction = (t, alpha) => {
  const u = Math.min(1, Math.max(0, t));
  if (u === 0) return 0;
  return 2 * normCdf(-normIsf(alpha / 2) / Math.sqrt(u));
};

/** netab's default: Hwang-Shih-DeCani with γ = -4. */
export const defaultSpending: SpendingFunction = hwangShihDeCani(-4);

/**
 * Nominal one-sided level of look `index` (1-based) out of `planned` equally spaced looks:
 * f(index/planned) - f((index-1)/planned). Looks beyond the plan get 0 (no α left).
 */
export function lookAlpha(alpha: number, index: number, planned: number, spending: SpendingFunction = defaultSpending): number {
  if (!(planned >= 1) || !(index >= 1)) throw new Error(`lookAlpha: invalid look ${index} of ${planned}`);
  if (index > planned) return 0;
  if (planned === 1) return alpha;
  const hi = index === planned ? alpha : spending(index / planned, alpha);
  const lo = spending((index - 1) / planned, alpha);
  return Math.max(0, hi - lo);
}
