/**
 * Normal and t distributions, Spearman, Holm and alpha spending vs R and scipy
 * (test/fixtures/stats/normal.json and other.json, produced by scripts/stats-fixtures.py).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cumulativeStdNormalProbability, probit } from 'simple-statistics';
import {
  holm,
  lookAlpha,
  normCdf,
  theilSenSlope,
  normIsf,
  normPdf,
  normQuantile,
  normSf,
  obrienFleming,
  spearman,
  studentTSf,
} from '../../src/stats/index.js';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/stats/${name}`, import.meta.url), 'utf8'));

function rel(actual: number, expected: number): number {
  if (expected === 0) return Math.abs(actual);
  if (!Number.isFinite(expected)) return actual === expected ? 0 : Infinity;
  return Math.abs(actual - expected) / Math.abs(expected);
}

describe('standard normal vs R pnorm/qnorm and scipy.stats.norm', () => {
  const f = fixture('normal.json');
  it('CDF and survival function, relative error ≤ 1e-13 vs R, ≤ 1e-12 vs scipy, over x ∈ [-38, 37]', () => {
    (f.x as number[]).forEach((x, i) => {
      expect(rel(normCdf(x), f.cdfR[i]), `cdf(${x})`).toBeLessThanOrEqual(1e-13);
      expect(rel(normSf(x), f.sfR[i]), `sf(${x})`).toBeLessThanOrEqual(1e-13);
      expect(rel(normPdf(x), f.pdfR[i]), `pdf(${x})`).toBeLessThanOrEqual(1e-13);
      // scipy's ndtr rounds x/√2 first, so its own deep-tail precision is ~1e-13
      expect(rel(normCdf(x), f.cdfScipy[i]), `cdf(${x}) scipy`).toBeLessThanOrEqual(1e-12);
      expect(rel(normSf(x), f.sfScipy[i]), `sf(${x}) scipy`).toBeLessThanOrEqual(1e-12);
    });
  });
  it('quantile and inverse survival function, relative error ≤ 1e-13 (p from 1e-300 to 1 - 1e-10)', () => {
    (f.p as number[]).forEach((p, i) => {
      expect(rel(normQuantile(p), f.quantileR[i]), `q(${p})`).toBeLessThanOrEqual(1e-13);
      // R's upper-tail qnorm forms 1 - p internally (rel. error 5e-10 at p = 0.4999999): compare with scipy
      expect(rel(normIsf(p), f.isfScipy[i]), `isf(${p})`).toBeLessThanOrEqual(1e-12);
      expect(rel(normQuantile(p), f.quantileScipy[i]), `q(${p}) scipy`).toBeLessThanOrEqual(1e-12);
    });
  });
  it('edge values', () => {
    expect(normQuantile(0)).toBe(-Infinity);
    expect(normQuantile(1)).toBe(Infinity);
    expect(normQuantile(0.5)).toBe(0);
    expect(normQuantile(1.5)).toBeNaN();
    expect(normCdf(-Infinity)).toBe(0);
    expect(normCdf(Infinity)).toBe(1);
    expect(normCdf(0)).toBe(0.5);
  });
  it('is not the simple-statistics table (which saturates) nor its probit (0.34 % error)', () => {
    expect(cumulativeStdNormalProbability(-5)).toBe(0.001); // the trap: p < 0.001 is impossible there
    expect(rel(normCdf(-5), 2.866515718791939e-7)).toBeLessThan(1e-13);
    expect(rel(probit(0.001), -3.090232306167813)).toBeGreaterThan(1e-6);
    expect(rel(normQuantile(0.001), -3.090232306167813)).toBeLessThan(1e-14);
  });
});

describe('Student t survival function vs scipy.stats.t.sf and R pt', () => {
  for (const { t, df, sf, sfR } of fixture('other.json').studentT as Array<{ t: number; df: number; sf: number; sfR: number }>) {
    it(`t = ${t}, df = ${df}`, () => {
      expect(rel(studentTSf(t, df), sf)).toBeLessThanOrEqual(1e-11);
      expect(rel(studentTSf(t, df), sfR)).toBeLessThanOrEqual(1e-11);
    });
  }
});

describe('Spearman rank correlation: ρ vs scipy.stats.spearmanr, p vs R cor.test', () => {
  for (const c of fixture('other.json').spearman as Array<{
    name: string;
    x: number[];
    y: number[];
    rho: number;
    p: number;
    pSource: string;
    theilSen: number;
  }>) {
    it(`${c.name}: p from ${c.pSource} (and the Theil-Sen slope vs scipy.stats.theilslopes)`, () => {
      expect(Math.abs(theilSenSlope(c.x, c.y) - c.theilSen)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(c.theilSen)));
      const r = spearman(c.x, c.y);
      expect(Math.abs(r.rho - c.rho)).toBeLessThanOrEqual(1e-12);
      if (c.p === 0)
        expect(r.p).toBe(0); // R: the Edgeworth series clamped at 0
      else expect(rel(r.p, c.p)).toBeLessThanOrEqual(1e-9);
    });
  }
  it('a constant series has no correlation', () => {
    expect(spearman([0, 1, 2, 3], [5, 5, 5, 5])).toEqual({ rho: 0, p: 1, n: 4 });
  });
  /** Every order of `ys` against 0..n-1: the share whose p-value is at most alpha. */
  function falseAlarms(ys: number[], alpha: number): number {
    const x = ys.map((_, i) => i);
    let hits = 0;
    let total = 0;
    const perm = (a: number[], k: number): void => {
      if (k === a.length) {
        total++;
        if (spearman(x, a).p <= alpha) hits++;
        return;
      }
      for (let i = k; i < a.length; i++) {
        [a[k], a[i]] = [a[i]!, a[k]!];
        perm(a, k + 1);
        [a[k], a[i]] = [a[i]!, a[k]!];
      }
    };
    perm([...ys], 0);
    return hits / total;
  }
  it('a stable series trips p ≤ α in at most α of its orders (every order of n = 5..8, with and without ties)', () => {
    // exact counts: the t approximation alone (scipy) gave p < 0.05 for 10 of the 120 orders at n = 5
    expect(falseAlarms([1, 2, 3, 4, 5], 0.05)).toBe(2 / 120);
    for (const ys of [
      [1, 2, 3, 4, 5, 6],
      [1, 2, 3, 4, 5, 6, 7],
      [1, 2, 3, 4, 5, 6, 7, 8],
      [0, 0, 0, 1, 2, 3],
      [0, 0, 1, 1, 2, 2, 3],
      [0, 0, 0, 0, 0, 0.5, 1, 2],
    ])
      for (const alpha of [0.01, 0.05, 0.1]) expect(falseAlarms(ys, alpha), `${ys} at ${alpha}`).toBeLessThanOrEqual(alpha);
  });
});

describe('Holm adjustment vs R p.adjust(method = "holm")', () => {
  for (const { p, adjusted } of fixture('other.json').holm as Array<{ p: number[]; adjusted: number[] }>) {
    it(`[${p.join(', ')}]`, () => {
      const got = holm(p);
      got.forEach((v, i) => expect(Math.abs((v as number) - adjusted[i]!)).toBeLessThanOrEqual(1e-15));
    });
  }
  it('keeps nulls out of the family', () => {
    expect(holm([0.01, null, 0.04])).toEqual([0.02, null, 0.04]);
  });
});

describe('alpha spending', () => {
  for (const s of fixture('other.json').spending as Array<{ alpha: number; planned: number; hsdMinus4: number[]; obf: number[] }>) {
    it(`HSD(-4) Bonferroni split, ${s.planned} looks at α = ${s.alpha}`, () => {
      let total = 0;
      s.hsdMinus4.forEach((a, i) => {
        const got = lookAlpha(s.alpha, i + 1, s.planned);
        expect(Math.abs(got - a)).toBeLessThanOrEqual(1e-15);
        total += got;
      });
      expect(Math.abs(total - s.alpha)).toBeLessThanOrEqual(1e-15);
      s.obf.forEach((v, i) => expect(rel(obrienFleming((i + 1) / s.planned, s.alpha), v)).toBeLessThanOrEqual(1e-12));
    });
  }
  it('a look beyond the plan gets no alpha', () => {
    expect(lookAlpha(0.05, 5, 4)).toBe(0);
    expect(lookAlpha(0.05, 1, 1)).toBe(0.05);
  });
});
