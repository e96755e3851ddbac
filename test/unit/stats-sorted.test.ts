/**
 * The O(n)-after-sorting forms of the rank statistics (src/stats) against the per-value
 * computations they replaced, kept here as the reference: identical results (Object.is) on
 * randomized inputs with ties, zeros, signed zeros and shifts equal to data values.
 */
import { describe, expect, it } from 'vitest';
import { midranks, mulberry32, normCdf, normSf, signedRankTest, tieSum } from '../../src/stats/index.js';
import type { Alternative } from '../../src/stats/signedrank.js';

/** The signed-rank test's normal approximation as computed before (midranks of |x - mu|). */
function signedRankNormalRef(x: readonly number[], mu: number, alternative: Alternative) {
  const shifted = x.map((v) => v - mu);
  const nonZero = shifted.filter((v) => v !== 0);
  const zeros = shifted.length - nonZero.length;
  const n = nonZero.length;
  const { ranks, ties } = midranks(nonZero.map(Math.abs));
  let v = 0;
  for (let i = 0; i < n; i++) if (nonZero[i]! > 0) v += ranks[i]!;
  if (n === 0) return { statistic: 0, n: 0, p: 1, method: 'normal', z: null, zeros, ties: false };
  let z = v - (n * (n + 1)) / 4;
  const sigma = Math.sqrt((n * (n + 1) * (2 * n + 1)) / 24 - tieSum(ties) / 48);
  const corr = alternative === 'two-sided' ? Math.sign(z) * 0.5 : alternative === 'greater' ? 0.5 : -0.5;
  z = (z - corr) / sigma;
  const p = alternative === 'less' ? normCdf(z) : alternative === 'greater' ? normSf(z) : Math.min(1, 2 * Math.min(normCdf(z), normSf(z)));
  return { statistic: v, n, p, method: 'normal', z, zeros, ties: ties.length > 0 };
}

/** Random differences as the judge meets them: rounded (ties), zeros, signed zeros, constant runs. */
function sample(seed: number, n: number): number[] {
  const u = mulberry32(seed);
  const kind = seed % 5;
  return Array.from({ length: n }, () => {
    const g = (u() + u() + u() - 1.5) * 2;
    if (kind === 0) return g;
    if (kind === 1) return Math.round(g * 20) / 20; // heavy ties
    if (kind === 2) return u() < 0.3 ? (u() < 0.5 ? -0 : 0) : Math.round(g * 1000) / 1000; // zeros of both signs
    if (kind === 3) return u() < 0.8 ? 0.25 : g; // mostly one value
    return Math.round(g * 3); // a few integers
  });
}

const same = (a: unknown, b: unknown) => {
  for (const [k, v] of Object.entries(a as Record<string, unknown>))
    if (!Object.is(v, (b as Record<string, unknown>)[k])) throw new Error(`${k}: ${v} != ${(b as Record<string, unknown>)[k]}`);
};

describe('signed-rank test from a sorted copy', () => {
  it('equals the midrank computation (normal approximation, every alternative, shifts at data values)', () => {
    let checked = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const n = 50 + ((seed * 53) % 700);
      const x = sample(seed, n);
      const u = mulberry32(seed ^ 0x5eed);
      for (const mu of [0, x[Math.floor(u() * n)]!, -0.02, u() - 0.5, -0])
        for (const alternative of ['two-sided', 'less', 'greater'] as const) {
          same(signedRankTest(x, { mu, alternative }), signedRankNormalRef(x, mu, alternative));
          same(signedRankTest(x, { mu, alternative, method: 'normal' }), signedRankNormalRef(x, mu, alternative));
          checked++;
        }
    }
    expect(checked).toBe(3000);
  });
});
