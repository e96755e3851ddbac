import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gateCommand, judgeSamples } from '../../src/rollout/gate.js';
import { fillQuery } from '../../src/rollout/prometheus.js';
import { parseSamples, type Sample } from '../../src/rollout/samples.js';
import { mulberry } from './rollout-rng.js';

function samples(n: number, hosts: number, mean: number, sd: number, seed: number, failed = 0): Sample[] {
  const rnd = mulberry(seed);
  const out: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    out.push({
      host: `h${i % hosts}`,
      t: 1_700_000_000 + 60 * Math.floor(i / hosts),
      status: i < failed ? 'failed' : 'ok',
      metrics: { retrans: Math.max(0, mean + sd * z), goodput: 100 * Math.exp(0.03 * z) },
    });
  }
  return out;
}

function writeJsonl(dir: string, name: string, xs: Sample[]): string {
  const f = join(dir, name);
  writeFileSync(f, xs.map((s) => JSON.stringify({ host: s.host, t: s.t, status: s.status, metrics: s.metrics })).join('\n') + '\n');
  return f;
}

const SPEC = {
  alpha: 0.05,
  minSamples: 10,
  maxFailedFraction: 0.2,
  metrics: [
    {
      name: 'retrans',
      unit: 'ratio',
      direction: 'lower' as const,
      scale: 'linear' as const,
      margin: { kind: 'absolute' as const, value: 0.005 },
      critical: true,
      required: true,
    },
  ],
};

describe('netab gate (files)', () => {
  it('ROLLBACK when the canary retransmits beyond the margin, exit 1 and the metric named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netab-gate-'));
    const c = writeJsonl(dir, 'control.jsonl', samples(40, 4, 0.01, 0.002, 1));
    const k = writeJsonl(dir, 'canary.jsonl', samples(40, 4, 0.03, 0.002, 2));
    const lines: string[] = [];
    const out = join(dir, 'out');
    expect(await gateCommand({ control: c, canary: k, metrics: ['retrans'], out, print: (l) => lines.push(l) })).toBe(1);
    expect(lines[0]).toMatch(/^netab gate: ROLLBACK \(retrans regressed\)/);
    const v = JSON.parse(readFileSync(join(out, 'verdict.json'), 'utf8'));
    expect(v.decision).toBe('rollback');
    expect(v.gate.decision).toBe('ROLLBACK');
    expect(v.scenarios[0].metrics[0].analysis).toBe('unpaired');
    expect(existsSync(join(out, 'summary.md'))).toBe(true);
  });

  it('control vs control never rolls back (100 A/A stages)', () => {
    let rollbacks = 0;
    const seen: Record<string, number> = {};
    for (let i = 0; i < 100; i++) {
      const v = judgeSamples(SPEC, samples(30, 3, 0.01, 0.003, 100 + i), samples(30, 3, 0.01, 0.003, 1000 + i), { id: 't' });
      if (v.decision === 'rollback') rollbacks++;
      seen[v.decision] = (seen[v.decision] ?? 0) + 1;
    }
    expect(rollbacks).toBeLessThanOrEqual(1);
    expect(seen.promote).toBeGreaterThan(50);
  });

  it('no data is never ADVANCE: empty metric values and too few samples HOLD', () => {
    const none = samples(30, 3, 0.01, 0.003, 5).map((s) => ({ ...s, metrics: { retrans: null } }));
    expect(judgeSamples(SPEC, samples(30, 3, 0.01, 0.003, 4), none, { id: 't' }).decision).toBe('hold');
    expect(judgeSamples(SPEC, samples(4, 2, 0.01, 0.001, 4), samples(4, 2, 0.01, 0.001, 6), { id: 't' }).decision).toBe('hold');
  });

  it('a canary whose samples fail often is not advanced', () => {
    const v = judgeSamples(SPEC, samples(40, 4, 0.01, 0.002, 7), samples(40, 4, 0.01, 0.002, 8, 15), { id: 't' });
    expect(v.decision).not.toBe('promote');
  });

  it('CSV and JSONL formats, with located errors', () => {
    const csv = 'host,t,status,retrans,goodput\nweb-1,2025-01-01T00:00:00Z,ok,0.01,95.5\n"web,2",1735689600,failed,,\n';
    const s = parseSamples(csv, 'c.csv', 'csv');
    expect(s).toHaveLength(2);
    expect(s[0]).toEqual({ host: 'web-1', t: 1735689600, status: 'ok', metrics: { retrans: 0.01, goodput: 95.5 } });
    expect(s[1]!.host).toBe('web,2');
    expect(s[1]!.metrics.retrans).toBeNull();
    expect(() => parseSamples('host,retrans\nweb-1,abc\n', 'c.csv', 'csv')).toThrow(/c\.csv:2:1: retrans: not a number/);
    expect(parseSamples('{"host":"a","retrans":0.1}\n', 'x.jsonl', 'jsonl')[0]!.metrics).toEqual({ retrans: 0.1 });
    expect(() => parseSamples('{"host":"a","retrans":"x"}\n', 'x.jsonl', 'jsonl')).toThrow(/x\.jsonl:1:1/);
  });

  it('query templates', () => {
    expect(fillQuery('rate(x{$SELECTOR}[$STEP])', '{group="canary"}', 15)).toBe('rate(x{group="canary"}[15s])');
    expect(() => fillQuery('rate(x[1m])', 'a="b"', 15)).toThrow(/SELECTOR/);
  });
});
