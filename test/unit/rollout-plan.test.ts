import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildPlan, parseDuration, parseStages, rolloutPlanCommand, samplesPerArm } from '../../src/rollout/plan.js';
import { readRecords } from '../../src/results/store.js';
import type { TrialRecord } from '../../src/results/types.js';
import { readLabRun } from '../../src/rollout/rundir.js';
import { fixtureRun } from './rollout-fixture.js';

/** Spread every metric value of a scenario around its arm's mean by a factor f (variance × f²). */
function scaleSpread(dir: string, f: number): void {
  const recs = readRecords(dir);
  const groups = new Map<string, number[]>();
  const key = (r: TrialRecord, m: string) => `${r.scenario}|${r.arm}|${m}`;
  const logish = (m: string) => m !== 'retrans_ratio';
  for (const r of recs)
    for (const [m, v] of Object.entries(r.metrics))
      if (typeof v === 'number' && v > 0)
        (groups.get(key(r, m)) ?? groups.set(key(r, m), []).get(key(r, m))!).push(logish(m) ? Math.log(v) : v);
  const mean = new Map([...groups].map(([k, xs]) => [k, xs.reduce((a, b) => a + b, 0) / xs.length]));
  for (const r of recs)
    for (const [m, v] of Object.entries(r.metrics)) {
      if (typeof v !== 'number' || v <= 0) continue;
      const mu = mean.get(key(r, m))!;
      r.metrics[m] = logish(m) ? Math.exp(mu + f * (Math.log(v) - mu)) : mu + f * (v - mu);
    }
  writeFileSync(join(dir, 'results.jsonl'), recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

describe('netab rollout plan', () => {
  it('stages, guardrails from the lab metrics, expectation and sample sizes', async () => {
    const dir = fixtureRun('promote', { keepScenarios: 1 });
    let text = '';
    expect(
      await rolloutPlanCommand(dir, { stages: [1, 10, 50, 100], bakeS: 3600, print: (s) => (text += s), now: '2025-01-01T00:00:00Z' }),
    ).toBe(0);
    expect(text).toContain('| goodput | higher | 2 % | yes |');
    expect(text).toMatch(/stage 1: 1 %/);
    const y = parse(readFileSync(join(dir, 'rollout', 'plan.yaml'), 'utf8'));
    expect(y.stages.map((s: { percent: number }) => s.percent)).toEqual([1, 10, 50, 100]);
    expect(y.stages[0].bake).toBe('1h');
    const g = y.guardrails.find((x: { name: string }) => x.name === 'goodput');
    expect(g.direction).toBe('higher');
    expect(g.margin).toBe('2%');
    expect(g.critical).toBe(true);
    expect(g.min_samples_per_arm).toBeGreaterThan(1);
    expect(g.expectation[0].ci_pct).toHaveLength(2);
    const r = y.guardrails.find((x: { name: string }) => x.name === 'retrans_ratio');
    expect(r.query).toContain('node_netstat_Tcp_RetransSegs{$SELECTOR}');
  });

  it('twice the variance asks for about twice the samples', () => {
    const a = fixtureRun('promote', { keepScenarios: 1 });
    const b = fixtureRun('promote', { keepScenarios: 1 });
    scaleSpread(a, 4); // a spread where the rounding up of n does not matter
    scaleSpread(b, 4 * Math.SQRT2);
    const pa = readLabRun(a);
    const pb = readLabRun(b);
    const na = buildPlan(pa.manifest, pa.verdict, readRecords(a));
    const nb = buildPlan(pb.manifest, pb.verdict, readRecords(b));
    for (const name of ['goodput', 'rtt_p50']) {
      const x = na.guardrails.find((g) => g.name === name)!;
      const y = nb.guardrails.find((g) => g.name === name)!;
      expect(y.sd! / x.sd!).toBeCloseTo(Math.SQRT2, 6);
      expect(x.minSamplesPerArm!).toBeGreaterThan(50);
      expect(y.minSamplesPerArm! / x.minSamplesPerArm!, name).toBeGreaterThan(1.8);
      expect(y.minSamplesPerArm! / x.minSamplesPerArm!, name).toBeLessThan(2.2);
    }
  });

  it('the sample-size formula', () => {
    // (π/3)·2·(1.645+0.8416)²·σ²/τ² with σ = 0.05, τ = ln 0.98
    const n = samplesPerArm(0.05, Math.log(0.98), 0.05, 0.8);
    expect(n).toBe(Math.ceil(((Math.PI / 3) * 2 * (1.6448536 + 0.8416212) ** 2 * 0.0025) / Math.log(0.98) ** 2));
    expect(samplesPerArm(0.1, Math.log(0.98), 0.05, 0.8) / n).toBeCloseTo(4, 1);
  });

  it('flags', () => {
    expect(parseStages('1,10,50,100')).toEqual([1, 10, 50, 100]);
    expect(() => parseStages('10,5')).toThrow(/larger/);
    expect(() => parseStages('0,200')).toThrow();
    expect(parseDuration('1h')).toBe(3600);
    expect(parseDuration('30m')).toBe(1800);
    expect(() => parseDuration('soon')).toThrow(/duration/);
  });
});
