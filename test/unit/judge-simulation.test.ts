/**
 * Seeded calibration of the whole judge (judgeRecords on synthetic runs): false-rollback rate under
 * A/A, power against a 10 % regression, and sequential mode. The same computation is printed by
 * bench/judge.mjs.
 */
import { describe, expect, it } from 'vitest';
import { simulate, simulateSequential } from '../../src/judge/index.js';

const ALPHA = 0.05;

describe('fixed-n calibration (20 pairs, CV 5 %)', () => {
  it('A/A, lognormal: false-ROLLBACK rate ≤ α over 1500 comparisons', () => {
    const r = simulate({ runs: 1500, pairs: 20, cv: 0.05, ratio: 1, seed: 101 });
    expect(r.runs).toBe(1500);
    expect(r.rollbackRate).toBeLessThanOrEqual(ALPHA);
  });

  it('A/A, normal: false-ROLLBACK rate ≤ α over 1000 comparisons', () => {
    const r = simulate({ runs: 1000, pairs: 20, cv: 0.05, ratio: 1, seed: 102, distribution: 'normal' });
    expect(r.rollbackRate).toBeLessThanOrEqual(ALPHA);
  });

  it('A/A exactly at the boundary (margin 0): ROLLBACK rate still ≤ α (exact one-sided test)', () => {
    const r = simulate({ runs: 1000, pairs: 20, cv: 0.05, ratio: 1, seed: 103, margin: 0 });
    expect(r.rollbackRate).toBeLessThanOrEqual(ALPHA);
    expect(r.rollbackRate).toBeGreaterThan(0); // the test is not vacuous: at the boundary it does reject sometimes
  });

  it('10 % regression, lognormal: ROLLBACK in ≥ 90 % of 1000 comparisons', () => {
    const r = simulate({ runs: 1000, pairs: 20, cv: 0.05, ratio: 0.9, seed: 104 });
    expect(r.rollbackRate).toBeGreaterThanOrEqual(0.9);
    expect(r.decisions.promote).toBe(0);
  });

  it('10 % regression, normal: ROLLBACK in ≥ 90 % of 1000 comparisons', () => {
    const r = simulate({ runs: 1000, pairs: 20, cv: 0.05, ratio: 0.9, seed: 105, distribution: 'normal' });
    expect(r.rollbackRate).toBeGreaterThanOrEqual(0.9);
  });
});

describe('sequential mode (4 looks × 10 pairs, CV 5 %)', () => {
  const plan = { looks: 4, pairsPerLook: 10 };

  it('A/A: false-ROLLBACK rate ≤ α under repeated looks, also at the boundary', () => {
    expect(simulateSequential({ runs: 500, pairs: 40, cv: 0.05, ratio: 1, seed: 201, sequential: plan }).rollbackRate).toBeLessThanOrEqual(ALPHA);
    expect(simulateSequential({ runs: 500, pairs: 40, cv: 0.05, ratio: 1, seed: 202, margin: 0, sequential: plan }).rollbackRate).toBeLessThanOrEqual(ALPHA);
  });

  it('clear-cut regression: ROLLBACK ≥ 95 % using well under the fixed 40 pairs, offline replay agrees', () => {
    const r = simulateSequential({ runs: 300, pairs: 40, cv: 0.05, ratio: 0.9, seed: 203, sequential: plan }, true);
    expect(r.rollbackRate).toBeGreaterThanOrEqual(0.95);
    expect(r.meanPairs).toBeLessThan(25);
  });

  it('clear-cut improvement with expectImprovement: PROMOTE ≥ 95 %, mean pairs < 25', () => {
    const r = simulateSequential({ runs: 300, pairs: 40, cv: 0.05, ratio: 1.1, seed: 204, expectImprovement: true, sequential: plan }, true);
    expect(r.promoteRate).toBeGreaterThanOrEqual(0.95);
    expect(r.meanPairs).toBeLessThan(25);
  });
});
