/**
 * Theil-Sen slope by selection (src/stats/theilsen.ts) against the brute force that lists and
 * sorts every slope: bit for bit equal, on random inputs with ties in y, equal x, exact-zero
 * clusters, constant inputs, and with a small window so that the narrowing rounds run.
 */
import { describe, expect, it } from 'vitest';
import { theilSenListed, theilSenSelected } from '../../src/stats/theilsen.js';
import { theilSenSlope } from '../../src/stats/index.js';
import { mulberry32, normalSource } from '../../src/stats/random.js';

function dataset(seed: number, n: number): { x: number[]; y: number[] } {
  const u = mulberry32(seed);
  const z = normalSource(u);
  const kind = seed % 6;
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    // x: pair indices (distinct), with repeats, or a few distinct values
    const xi = kind === 1 ? Math.floor(u() * (n / 3)) : kind === 2 ? Math.floor(u() * 4) : kind === 5 ? i * 0.1 : i;
    const drift = seed % 3 === 0 ? 0.01 * xi : seed % 3 === 1 ? -0.003 * xi : 0;
    let yi = 100 + drift + 5 * z();
    if (kind === 3)
      yi = Math.round(yi); // heavy ties in y: many exact zero slopes
    else if (kind === 4)
      yi = u() < 0.7 ? 0 : Math.round(u() * 3); // mostly zeros (a count metric)
    else yi = Math.round(yi * 1000) / 1000; // values as netab stores them
    x.push(xi);
    y.push(yi);
  }
  return { x, y };
}

const same = (a: number, b: number): boolean => Object.is(a, b);

describe('theilSenSlope by selection', () => {
  it('equals the listed slopes bit for bit on random inputs (ties, equal x, zero clusters)', () => {
    let checked = 0;
    for (let seed = 1; seed <= 240; seed++) {
      const n = 3 + ((seed * 37) % 400);
      const { x, y } = dataset(seed, n);
      const want = theilSenListed(x, y);
      for (const opts of [{}, { windowMax: 64, sample: 256, seed }]) {
        const got = theilSenSelected(x, y, opts);
        if (!same(got, want)) throw new Error(`seed ${seed} n ${n} ${JSON.stringify(opts)}: ${got} != ${want}`);
        checked++;
      }
    }
    expect(checked).toBe(480);
  });

  it('runs the narrowing rounds on a thousand points and still matches', () => {
    for (const seed of [6, 7, 9, 10, 11, 13, 14, 15, 16, 17]) {
      const { x, y } = dataset(seed, 1200);
      const want = theilSenListed(x, y);
      expect(Object.is(theilSenSelected(x, y, { windowMax: 2048, sample: 512 }), want)).toBe(true);
    }
    const { x, y } = dataset(7, 2100); // n > 2048: theilSenSlope itself takes the selection
    expect(Object.is(theilSenSlope(x, y), theilSenListed(x, y))).toBe(true);
  });

  it('handles constant y, constant x and two points', () => {
    const x = Array.from({ length: 3000 }, (_, i) => i);
    expect(
      Object.is(
        theilSenSlope(
          x,
          x.map(() => 7),
        ),
        0,
      ),
    ).toBe(true);
    expect(theilSenSlope(x, x)).toBe(1);
    expect(
      theilSenSlope(
        x.map(() => 1),
        x,
      ),
    ).toBeNaN();
    expect(theilSenSelected([0, 1], [1, 3])).toBe(2);
    expect(theilSenSelected([0, 0], [1, 3])).toBeNaN();
  });

  it('takes 50,000 points in O(n log n) memory', () => {
    const { x, y } = dataset(7, 50_000);
    const s = theilSenSlope(x, y);
    expect(Number.isFinite(s)).toBe(true);
    expect(Math.abs(s)).toBeLessThan(0.01);
  });
});
