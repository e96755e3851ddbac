/**
 * Small-sample exact procedures and input guards: Fisher's exact test vs scipy, the signed-rank and
 * rank-sum tests conditional on ties vs brute-force enumeration, the judge's gatekeeping adjustment
 * vs a brute-force closed test, and NaN / ±Infinity rejection.
 * Reference values: test/fixtures/stats/exact-small.json (scripts/stats-fixtures.py --exact-small).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  cliffsDelta,
  consecutiveBonferroni,
  fisherExact,
  hodgesLehmannOneSample,
  hodgesLehmannTwoSample,
  holm,
  median,
  midranks,
  pairwiseDifferences,
  rankSumInterval,
  rankSumTest,
  sampleSd,
  signedRankInterval,
  signedRankTest,
  spearman,
  theilSenSlope,
  walshAverages,
} from '../../src/stats/index.js';
import { gatekeeping } from '../../src/judge/plan.js';

const fx = JSON.parse(readFileSync(new URL('../fixtures/stats/exact-small.json', import.meta.url), 'utf8'));

function closeRel(actual: number, expected: number, tol = 1e-12): void {
  if (expected === 0) {
    expect(actual).toBe(0);
    return;
  }
  expect(Math.abs(actual - expected) / Math.abs(expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(tol);
}

describe("Fisher's exact test vs scipy.stats.fisher_exact", () => {
  for (const row of fx.fisher as Array<{
    table: [number, number, number, number];
    greater: { p: number; pMin: number };
    less: { p: number; pMin: number };
  }>) {
    it(`[[${row.table[0]}, ${row.table[1]}], [${row.table[2]}, ${row.table[3]}]]`, () => {
      const [a, b, c, d] = row.table;
      const g = fisherExact(a, b, c, d, 'greater');
      const l = fisherExact(a, b, c, d, 'less');
      closeRel(g.p, row.greater.p, 1e-11);
      closeRel(g.pMin, row.greater.pMin, 1e-11);
      closeRel(l.p, row.less.p, 1e-11);
      closeRel(l.pMin, row.less.pMin, 1e-11);
    });
  }

  it('the issue cases: 3 of 10 vs 0 of 10 is p = 120/1140, 8 of 20 vs 0 of 20 is C(20,8)/C(40,8)', () => {
    closeRel(fisherExact(3, 7, 0, 10).p, 120 / 1140);
    closeRel(fisherExact(8, 12, 0, 20).p, 125970 / 76904685);
  });

  it('rejects counts that are not non-negative integers', () => {
    expect(() => fisherExact(-1, 2, 3, 4)).toThrow(RangeError);
    expect(() => fisherExact(1.5, 2, 3, 4)).toThrow(RangeError);
    expect(() => fisherExact(Number.NaN, 2, 3, 4)).toThrow(RangeError);
  });
});

describe('signed-rank test conditional on ties vs enumeration of all sign patterns', () => {
  for (const c of fx.signedRankConditional as Array<{
    name: string;
    d: number[];
    mu0: Record<string, number>;
    muMinus: Record<string, number>;
  }>) {
    it(c.name, () => {
      for (const [mu, ref] of [
        [0, c.mu0],
        [-0.25, c.muMinus],
      ] as const) {
        const less = signedRankTest(c.d, { mu, alternative: 'less', method: 'exact' });
        expect(less.method).toBe('exact');
        expect(less.statistic).toBe(ref.statistic);
        closeRel(less.p, ref.less!);
        closeRel(signedRankTest(c.d, { mu, alternative: 'greater', method: 'exact' }).p, ref.greater!);
        closeRel(signedRankTest(c.d, { mu, method: 'exact' }).p, ref.two!);
      }
    });
  }

  it('four identical pairs: the normal approximation says 0.036, the exact test 1/16', () => {
    const d = [-0.3, -0.3, -0.3, -0.3];
    expect(signedRankTest(d, { alternative: 'less' }).p).toBeCloseTo(0.0359303, 6); // auto: normal with ties
    expect(signedRankTest(d, { alternative: 'less', method: 'exact' }).p).toBe(1 / 16);
  });
});

describe('rank-sum test conditional on ties vs enumeration of all assignments', () => {
  for (const c of fx.rankSumConditional as Array<{
    name: string;
    x: number[];
    y: number[];
    mu0: Record<string, number>;
    muMinus: Record<string, number>;
  }>) {
    it(c.name, () => {
      for (const [mu, ref] of [
        [0, c.mu0],
        [-0.5, c.muMinus],
      ] as const) {
        const less = rankSumTest(c.x, c.y, { mu, alternative: 'less', method: 'exact' });
        expect(less.statistic).toBe(ref.statistic);
        closeRel(less.p, ref.less!);
        closeRel(rankSumTest(c.x, c.y, { mu, alternative: 'greater', method: 'exact' }).p, ref.greater!);
        closeRel(rankSumTest(c.x, c.y, { mu, method: 'exact' }).p, ref.two!);
      }
    });
  }
});

describe('gatekeeping adjustment vs a brute-force closed test', () => {
  for (const c of fx.gatekeeping as Array<{
    name: string;
    p: Array<number | null>;
    groups: Array<[number, 'c' | 'o']>;
    shares: number[];
    adjusted: Array<number | null>;
  }>) {
    it(c.name, () => {
      const tests = c.p.map((p, i) => ({ scenario: c.groups[i]![0], critical: c.groups[i]![1] === 'c', p }));
      const adj = gatekeeping(tests, c.shares);
      adj.forEach((v, i) => {
        if (c.adjusted[i] === null) expect(v).toBeNull();
        else closeRel(v!, c.adjusted[i]!, 1e-12);
      });
    });
  }

  it('equal weights are Holm', () => {
    const p = [0.2, 0.2, 0.01, 0.5, 0.04];
    const eq = consecutiveBonferroni(p, (open) => {
      const k = open.filter(Boolean).length;
      return open.map((o) => (o ? 1 / k : 0));
    });
    const h = holm(p);
    eq.forEach((v, i) => closeRel(v!, h[i]!, 1e-15));
  });
});

describe('NaN and ±Infinity are rejected, not sorted somewhere', () => {
  const bad = [Number.NaN, Infinity, -Infinity];
  for (const v of bad) {
    it(`${v}`, () => {
      const x = [0.1, v, -0.2, 0.3, 0.05, 0.4];
      const y = [1, 2, 3, 4, 5, 6];
      expect(() => signedRankTest(x)).toThrow(RangeError);
      expect(() => signedRankTest(y, { mu: v })).toThrow(RangeError);
      expect(() => signedRankInterval(x, 0.9)).toThrow(RangeError);
      expect(() => walshAverages(x)).toThrow(RangeError);
      expect(() => hodgesLehmannOneSample(x)).toThrow(RangeError);
      expect(() => rankSumTest(x, y)).toThrow(RangeError);
      expect(() => rankSumTest(y, x)).toThrow(RangeError);
      expect(() => rankSumTest(y, y, { mu: v })).toThrow(RangeError);
      expect(() => rankSumInterval(y, x, 0.9)).toThrow(RangeError);
      expect(() => pairwiseDifferences(x, y)).toThrow(RangeError);
      expect(() => hodgesLehmannTwoSample(y, x)).toThrow(RangeError);
      expect(() => cliffsDelta(x, y)).toThrow(RangeError);
      expect(() => midranks(x)).toThrow(RangeError);
      expect(() => median(x)).toThrow(RangeError);
      expect(() => sampleSd(x)).toThrow(RangeError);
      expect(() => spearman(y, x)).toThrow(RangeError);
      expect(() => theilSenSlope(y, x)).toThrow(RangeError);
      expect(() => holm([0.01, v])).toThrow(RangeError);
    });
  }

  it('confidence levels outside (0, 1) are rejected', () => {
    expect(() => signedRankInterval([1, 2, 3], 1)).toThrow(RangeError);
    expect(() => rankSumInterval([1, 2], [3, 4], Number.NaN)).toThrow(RangeError);
  });
});
