/**
 * The O(n)-after-sorting forms of the rank statistics (src/stats) against the per-value
 * computations they replaced, kept here as the reference: identical results (Object.is) on
 * randomized inputs with ties, zeros, signed zeros and shifts equal to data values.
 */
import { describe, expect, it } from 'vitest';
import { cliffsDelta, median, medianSorted, midranks, mulberry32, normCdf, normSf, signedRankTest, tieSum } from '../../src/stats/index.js';
import { midranksFrom, sortedShared } from '../../src/stats/ranks.js';
import { nth } from '../../src/stats/select.js';
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

/** Cliff's delta as computed before: a binary search in the sorted y per x value. */
function cliffsRef(x: readonly number[], y: readonly number[]): number {
  if (x.length === 0 || y.length === 0) return NaN;
  const ys = Array.from(Float64Array.from(y).sort());
  const bound = (v: number, strict: boolean): number => {
    let lo = 0;
    let hi = ys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (strict ? ys[mid]! <= v : ys[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  let score = 0;
  for (const v of x) score += bound(v, false) - (ys.length - bound(v, true));
  return score / (x.length * ys.length);
}

/** Midranks as computed before: two binary searches per value in the sorted copy. */
function midranksRef(values: readonly number[], base: number): { ranks: number[]; ties: number[] } {
  const n = values.length;
  const s = Float64Array.from(values).sort();
  const ties: number[] = [];
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && s[j] === s[i]) j++;
    if (j - i > 1) ties.push(j - i);
    i = j;
  }
  const count = (v: number, strict: boolean) => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (strict ? s[mid]! <= v : s[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return { ranks: values.map((v) => (count(v, false) + count(v, true) - 1) / 2 + base), ties };
}

describe("Cliff's delta, midranks and the median from sorted copies", () => {
  it('equal the per-value binary searches and the sorted array median', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const x = sample(seed, 1 + ((seed * 31) % 300));
      const y = sample(seed * 7 + 1, 1 + ((seed * 17) % 200));
      expect(Object.is(cliffsDelta(x, y), cliffsRef(x, y))).toBe(true);
      expect(Object.is(median(x), medianSorted(Array.from(Float64Array.from(x).sort())))).toBe(true);
      // ascending inputs (pair indices, with gaps and fractions) take the shortcut; others the search
      const steps = mulberry32(seed);
      const ascending: number[] = [];
      for (let i = 0, v = -5; i < x.length; i++) ascending.push((v += seed % 3 === 0 ? 1 : Math.ceil(steps() * 4) / 2));
      for (const v of [x, ascending, [...ascending, ascending[ascending.length - 1]!]])
        for (const base of [0, 1]) expect(midranksFrom(v, base)).toEqual(midranksRef(v, base));
    }
  });
});

describe('the k-th element by partitioning', () => {
  it('equals the sorted array element, signed zeros included', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const u = mulberry32(seed);
      const n = 1 + Math.floor(u() * (seed % 4 === 0 ? 5000 : 300));
      const x = sample(seed, n);
      if (seed % 3 === 0) for (let i = 0; i < n; i += 2) x[i] = u() < 0.5 ? -0 : 0; // many zeros of both signs
      const sorted = Float64Array.from(x).sort();
      for (let s = 0; s < 8; s++) {
        const k = Math.floor(u() * n);
        expect(Object.is(nth(Float64Array.from(x), k), sorted[k])).toBe(true);
      }
    }
  });
});

describe('the shared sorted copy', () => {
  it('is the sorted array of the values the array holds now, also after they change', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const u = mulberry32(seed);
      const x = sample(seed, 1 + Math.floor(u() * 400));
      for (let round = 0; round < 4; round++) {
        const want = Float64Array.from(x).sort();
        const got = sortedShared(x);
        expect(got.length).toBe(want.length);
        for (let i = 0; i < want.length; i++) expect(Object.is(got[i], want[i])).toBe(true);
        expect(sortedShared(x)).toBe(got); // unchanged values: the same copy
        // change one value (a zero's sign, another value) or the length
        const k = Math.floor(u() * x.length);
        if (round === 0) x[k] = Object.is(x[k], -0) ? 0 : x[k] === 0 ? -0 : -x[k]!;
        else if (round === 1) x.push(u());
        else x[k] = u() - 0.5;
      }
    }
  });
});
