/**
 * Rank procedures vs R (wilcox.test, psignrank, pwilcox, ...) and scipy (wilcoxon, mannwhitneyu).
 * Reference values: test/fixtures/stats/*.json, produced by scripts/stats-fixtures.py.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  cliffsDelta,
  hodgesLehmannOneSample,
  hodgesLehmannTwoSample,
  rankSumCdf,
  rankSumInterval,
  rankSumQuantile,
  rankSumTest,
  signedRankCdf,
  signedRankInterval,
  signedRankQuantile,
  signedRankTest,
  walshAverages,
} from '../../src/stats/index.js';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/stats/${name}`, import.meta.url), 'utf8'));
const num = (v: number | string): number => (v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : Number(v));

/** |a - b| ≤ tol · max(1, |b|) */
function close(actual: number, expected: number, tol = 1e-9): void {
  if (!Number.isFinite(expected)) {
    expect(actual).toBe(expected);
    return;
  }
  const err = Math.abs(actual - expected) / Math.max(1, Math.abs(expected));
  expect(err, `${actual} vs ${expected}`).toBeLessThanOrEqual(tol);
}
/** relative agreement for probabilities (which can be tiny) */
function closeRel(actual: number, expected: number, tol = 1e-9): void {
  if (expected === 0) {
    expect(Math.abs(actual)).toBeLessThan(1e-300);
    return;
  }
  expect(Math.abs(actual - expected) / Math.abs(expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(tol);
}

interface RankCase {
  name: string;
  kind: 'paired' | 'unpaired';
  d?: number[];
  x?: number[];
  y?: number[];
  alpha: number;
  conf: number;
  tau: number;
  methodCI: 'exact' | 'normal';
  methodP: 'exact' | 'normal';
  p: number;
  pMargin: number;
  pGreater: number;
  hl: number;
  ci: Array<number | string>;
  ciReachable: boolean;
  cliffsDelta?: number;
}

const cases: RankCase[] = fixture('rank-procedures.json').cases;
const paired = cases.filter((c) => c.kind === 'paired');
const unpaired = cases.filter((c) => c.kind === 'unpaired');

describe('fixture coverage', () => {
  it('has at least 20 datasets covering ties, small n, n = 50, paired and unpaired', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    expect(paired.length).toBeGreaterThanOrEqual(10);
    expect(unpaired.length).toBeGreaterThanOrEqual(10);
    expect(cases.some((c) => c.name.includes('ties'))).toBe(true);
    expect(paired.some((c) => c.d!.length === 50)).toBe(true);
    expect(unpaired.some((c) => c.x!.length === 50)).toBe(true);
  });
});

describe('Wilcoxon signed-rank (paired) vs scipy.stats.wilcoxon and R wilcox.test', () => {
  for (const c of paired) {
    it(`${c.name}: p-values (two-sided, vs -margin, greater)`, () => {
      const two = signedRankTest(c.d!, { alternative: 'two-sided' });
      expect(two.method).toBe(c.methodP);
      closeRel(two.p, c.p, 1e-9);
      closeRel(signedRankTest(c.d!, { mu: c.tau, alternative: 'less' }).p, c.pMargin, 1e-9);
      closeRel(signedRankTest(c.d!, { alternative: 'greater' }).p, c.pGreater, 1e-9);
    });
    it(`${c.name}: Hodges-Lehmann estimate and ${Math.round(c.conf * 100)} % interval`, () => {
      close(hodgesLehmannOneSample(c.d!), c.hl, 1e-12);
      const ci = signedRankInterval(c.d!, c.conf);
      expect(ci.method).toBe(c.methodCI);
      close(ci.estimate, c.hl, 1e-12);
      if (c.ciReachable) {
        close(ci.lower, num(c.ci[0]!), 1e-9);
        close(ci.upper, num(c.ci[1]!), 1e-9);
      } else {
        // R returns the extreme Walsh averages with a warning; we return an unbounded interval
        expect([ci.lower, ci.upper]).toEqual([-Infinity, Infinity]);
      }
    });
  }

  it('drops zeros and reports them (Wilcoxon zero method)', () => {
    const r = signedRankTest([0, 0, 1, 2, -0.5, 3]);
    expect(r.zeros).toBe(2);
    expect(r.n).toBe(4);
    expect(r.method).toBe('normal');
    expect(r.statistic).toBe(9); // ranks of |.|: 0.5→1, 1→2, 2→3, 3→4; positives 2+3+4
  });

  it('returns p = 1 when every difference is zero', () => {
    expect(signedRankTest([0, 0, 0]).p).toBe(1);
  });

  it('Walsh averages of [1, 2, 4] are 1, 1.5, 2, 2.5, 3, 4', () => {
    expect(walshAverages([4, 1, 2])).toEqual([1, 1.5, 2, 2.5, 3, 4]);
  });
});

describe('Mann-Whitney (unpaired) vs scipy.stats.mannwhitneyu and R wilcox.test', () => {
  for (const c of unpaired) {
    it(`${c.name}: p-values (two-sided, vs -margin, greater)`, () => {
      const two = rankSumTest(c.x!, c.y!);
      expect(two.method).toBe(c.methodP);
      closeRel(two.p, c.p, 1e-9);
      closeRel(rankSumTest(c.x!, c.y!, { mu: c.tau, alternative: 'less' }).p, c.pMargin, 1e-9);
      closeRel(rankSumTest(c.x!, c.y!, { alternative: 'greater' }).p, c.pGreater, 1e-9);
    });
    it(`${c.name}: Hodges-Lehmann shift, ${Math.round(c.conf * 100)} % interval, Cliff's delta`, () => {
      close(hodgesLehmannTwoSample(c.x!, c.y!), c.hl, 1e-12);
      const ci = rankSumInterval(c.x!, c.y!, c.conf);
      expect(ci.method).toBe(c.methodCI);
      if (c.ciReachable) {
        close(ci.lower, num(c.ci[0]!), 1e-9);
        close(ci.upper, num(c.ci[1]!), 1e-9);
      } else {
        expect([ci.lower, ci.upper]).toEqual([-Infinity, Infinity]);
      }
      close(cliffsDelta(c.x!, c.y!), c.cliffsDelta!, 1e-15);
    });
  }

  it("Cliff's delta counts ties as zero", () => {
    expect(cliffsDelta([1, 2, 3], [2, 2])).toBe(0); // 1<2 twice (-2), 2=2 twice (0), 3>2 twice (+2)
    expect(cliffsDelta([5, 6], [1, 2, 3])).toBe(1);
    expect(cliffsDelta([1], [1, 2])).toBe(-0.5);
  });
});

describe('exact null distributions vs R', () => {
  const dist = fixture('distributions.json');
  for (const { n, cdf } of dist.signedRankCdf as Array<{ n: number; cdf: number[] }>) {
    it(`psignrank(0:${cdf.length - 1}, ${n})`, () => {
      cdf.forEach((p, v) => closeRel(signedRankCdf(v, n), p, 1e-13));
    });
  }
  it('qsignrank', () => {
    for (const { p, n, q } of dist.signedRankQuantile as Array<{ p: number; n: number; q: number }>)
      expect(signedRankQuantile(p, n), `q(${p}, ${n})`).toBe(q);
  });
  for (const { nx, ny, cdf } of dist.rankSumCdf as Array<{ nx: number; ny: number; cdf: number[] }>) {
    it(`pwilcox(0:${cdf.length - 1}, ${nx}, ${ny})`, () => {
      cdf.forEach((p, u) => closeRel(rankSumCdf(u, nx, ny), p, 1e-11));
    });
  }
  it('qwilcox', () => {
    for (const { p, nx, ny, q } of dist.rankSumQuantile as Array<{ p: number; nx: number; ny: number; q: number }>)
      expect(rankSumQuantile(p, nx, ny), `q(${p}, ${nx}, ${ny})`).toBe(q);
  });
});
