import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/scenario/errors.js';
import { loadScenarioFile, loadScenarioText, pathLinks, loadTopology } from '../../src/scenario/load.js';
import { expandMatrix, pointId } from '../../src/scenario/matrix.js';
import { jsonSchema } from '../../src/scenario/schema.js';

const F = 'test/fixtures/scenarios';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e.problems.map((p) => `${p.line}:${p.col} ${p.path}: ${p.message}`);
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('scenario loading', () => {
  it('the quickstart loads and normalises', () => {
    const [s] = loadScenarioFile('scenarios/quickstart.yaml');
    expect(s!.id).toBe('quickstart');
    expect(s!.links.bottleneck).toEqual({
      forward: { delayMs: 20, loss: 0.01, rateBps: 50e6, bufferBytes: 250000 },
      reverse: { delayMs: 20, rateBps: 50e6, bufferBytes: 250000 },
    });
    expect(s!.path).toEqual({ rttMs: 40, rateMbit: 50, loss: 0.01, bufferBytes: 250000, mss: 1448 });
    expect(s!.control.cc).toBe('cubic');
    expect(s!.canary.cc).toBe('bbr');
    expect(s!.judge.metrics.map((m) => m.name)).toEqual(['goodput', 'rtt_p50']);
    expect(s!.judge.metrics[1]!.margin).toEqual({ kind: 'relative', value: 0.5 });
    expect(s!.fidelity.latenessSuspectMs).toBe(4);
    expect(s!.hash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('three mistakes give three located messages', () => {
    expect(problems(() => loadScenarioFile(`${F}/three-mistakes.yaml`))).toEqual([
      '5:12 links.bottleneck.delay: needs a unit or a quoted value (got the bare number 20)',
      '6:11 links.bottleneck.rate: unknown rate unit "mbits" in "50mbits"; use one of bit, kbit, mbit, gbit, tbit, bps, kbps, mbps, gbps',
      '12:7 canary.cc: must be one of cubic, bbr, reno',
    ]);
  });

  it('unknown fields, missing fields and unknown links are located', () => {
    const src = ['topology: dumbbell', 'links:', '  middle: { delay: 5ms }', 'control: { cc: cubic, colour: red }', 'workload: { type: bulk }', ''].join('\n');
    expect(problems(() => loadScenarioText(src, 'x.yaml'))).toEqual([
      '4:23 control.colour: unknown field "colour"',
      '1:1 canary: is required (object)',
    ]);
    const src2 = ['topology: dumbbell', 'links:', '  middle: { delay: 5ms }', 'control: { cc: cubic }', 'canary: { cc: bbr }', 'workload: { type: bulk }', ''].join('\n');
    expect(problems(() => loadScenarioText(src2, 'x.yaml'))).toEqual([
      '3:3 links.middle: topology "dumbbell" has no link "middle" (it has: bottleneck)',
    ]);
  });

  it('cross-field rules: buffer needs rate, reorder needs delay, pairs >= min_pairs', () => {
    const base = ['topology: dumbbell', 'control: { cc: cubic }', 'canary: { cc: bbr }', 'workload: { type: bulk }'];
    expect(problems(() => loadScenarioText([...base, 'links: { bottleneck: { buffer: 1bdp } }'].join('\n'), 'x.yaml'))).toEqual([
      '5:32 links.bottleneck.buffer: buffer needs a rate (the queue forms at the bottleneck)',
    ]);
    expect(problems(() => loadScenarioText([...base, 'trials: { pairs: 3 }'].join('\n'), 'x.yaml'))).toEqual([
      '5:18 trials.pairs: 3 pairs is fewer than judge.min_pairs (5): the run could never reach a decision',
    ]);
  });

  it('a bad matrix value is reported at the matrix entry', () => {
    expect(problems(() => loadScenarioFile(`${F}/bad-matrix.yaml`))).toEqual([
      '6:34 links.bottleneck.delay: cannot read time "fast": expected a number and a unit, e.g. "20ms" (from matrix links.bottleneck.delay = "fast")',
    ]);
  });

  it('YAML syntax errors are located', () => {
    const p = problems(() => loadScenarioText('topology: dumbbell\ncontrol: [a, b\n', 'x.yaml'));
    expect(p.length).toBeGreaterThan(0);
    expect(p[0]).toMatch(/^\d+:\d+ : YAML: /);
  });

  it('the matrix expands to the cartesian product', () => {
    const all = loadScenarioFile(`${F}/grid.yaml`);
    expect(all.map((s) => s.id)).toEqual([
      'grid[delay=10ms,loss=0%]',
      'grid[delay=10ms,loss=1%]',
      'grid[delay=10ms,loss=2%]',
      'grid[delay=50ms,loss=0%]',
      'grid[delay=50ms,loss=1%]',
      'grid[delay=50ms,loss=2%]',
    ]);
    expect(all[4]!.links.bottleneck!.forward).toEqual({ delayMs: 50, loss: 0.01, rateBps: 20e6, bufferBytes: 250000 });
    expect(all[4]!.params).toEqual({ 'links.bottleneck.delay': '50ms', 'links.bottleneck.forward.loss': '1%' });
    expect(new Set(all.map((s) => s.hash)).size).toBe(6);
  });

  it('expandMatrix and pointId', () => {
    const pts = expandMatrix({ a: { b: 1 }, matrix: { 'a.b': [1, 2], 'c.b': ['x'] } }, { 'a.b': [1, 2], 'c.b': ['x'] });
    expect(pts.map((p) => p.doc)).toEqual([
      { a: { b: 1 }, c: { b: 'x' } },
      { a: { b: 2 }, c: { b: 'x' } },
    ]);
    expect(pointId('s', pts[1]!.params)).toBe('s[a.b=2,c.b=x]');
    expect(expandMatrix({ a: 1 }, undefined)).toEqual([{ params: {}, indices: {}, doc: { a: 1 } }]);
  });

  it('topologies: path from sender to receiver', () => {
    expect(pathLinks(loadTopology('topologies/dumbbell.yaml'))).toEqual([{ name: 'bottleneck', forward: true }]);
    expect(pathLinks(loadTopology('topologies/parking-lot.yaml'))).toEqual([
      { name: 'hop1', forward: true },
      { name: 'hop2', forward: true },
    ]);
  });

  it('exports a JSON Schema', () => {
    const s = jsonSchema() as { properties: Record<string, unknown>; required: string[] };
    expect(s.required).toEqual(['topology', 'control', 'canary', 'workload']);
    expect(Object.keys(s.properties)).toContain('matrix');
  });
});
