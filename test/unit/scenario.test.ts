import { problems } from '../helpers.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile, loadScenarioText, pathLinks, loadTopology } from '../../src/scenario/load.js';
import { expandMatrix, matrixSize, pointId, setPath } from '../../src/scenario/matrix.js';
import { jsonSchema } from '../../src/scenario/schema.js';

const F = 'test/fixtures/scenarios';

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
    const src = [
      'topology: dumbbell',
      'links:',
      '  middle: { delay: 5ms }',
      'control: { cc: cubic, colour: red }',
      'workload: { type: bulk }',
      '',
    ].join('\n');
    expect(problems(() => loadScenarioText(src, 'x.yaml'))).toEqual([
      '4:23 control.colour: unknown field "colour"',
      '1:1 canary: is required (object)',
    ]);
    const src2 = [
      'topology: dumbbell',
      'links:',
      '  middle: { delay: 5ms }',
      'control: { cc: cubic }',
      'canary: { cc: bbr }',
      'workload: { type: bulk }',
      '',
    ].join('\n');
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

  it('judge.drift_alpha: a level in [0, 0.5), kept in the judge settings; anything else is located', () => {
    const base = ['topology: dumbbell', 'control: { cc: cubic }', 'canary: { cc: bbr }', 'workload: { type: bulk }'];
    const level = (v: string) => loadScenarioText([...base, `judge: { drift_alpha: ${v} }`].join('\n'), 'x.yaml')[0]!.judge.driftAlpha;
    expect(level('0')).toBe(0);
    expect(level('0.001')).toBe(0.001);
    expect(loadScenarioText(base.join('\n'), 'x.yaml')[0]!.judge.driftAlpha).toBeUndefined();
    for (const v of ['-0.01', '0.5', '.inf', '.nan', '"0.05"', '[0.05]']) {
      const p = problems(() => level(v));
      expect(p, v).toHaveLength(1);
      expect(p[0], v).toMatch(/^5:\d+ judge\.drift_alpha: /);
    }
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

describe('no code from data (issue #13)', () => {
  const base = ['topology: dumbbell', 'control: { cc: cubic }', 'canary: { cc: bbr }', 'workload: { type: bulk }'];

  it('setPath never walks into a prototype', () => {
    const doc = Object.create(null) as Record<string, unknown>;
    expect(() => setPath(doc, ['__proto__', 'shell'], true)).toThrow(/refusing the key "__proto__"/);
    expect(() => setPath(doc, ['constructor', 'prototype', 'shell'], true)).toThrow(/refusing the key "constructor"/);
    const plain: Record<string, unknown> = { a: 1 };
    setPath(plain, ['toString', 'x'], 1);
    expect(Object.getPrototypeOf(plain.toString)).toBe(null);
    expect(({} as Record<string, unknown>).shell).toBeUndefined();
    expect(typeof ({} as Record<string, unknown>).toString).toBe('function');
  });

  it('the reproducer is refused at the YAML key, with the sysctl value', () => {
    const src = 'canary: { cc: bbr, sysctls: { net.ipv4.tcp_ecn: "1; id -un > PWNED #" } }\nmatrix: { __proto__.shell: [true] }\n';
    expect(problems(() => loadScenarioText(src, 'x.yaml'))).toEqual([
      '2:11 matrix.__proto__.shell: "__proto__.shell" is not allowed as a key or path segment (__proto__, constructor and prototype are refused everywhere)',
      '1:1 topology: is required (string)',
      '1:1 control: is required (object)',
      '1:49 canary.sysctls.net.ipv4.tcp_ecn: must be an integer or integers separated by spaces, as the kernel reads this key (got "1; id -un > PWNED #")',
      '1:1 workload: is required (object)',
    ]);
    expect(({} as Record<string, unknown>).shell).toBeUndefined();
  });

  it('matrix paths resolve against the schema and the topology; sysctl keys keep their dots', () => {
    const grid = (m: string) => loadScenarioText([...base, 'matrix:', m].join('\n'), 'x.yaml');
    expect(grid('  canary.sysctls.net.ipv4.tcp_ecn: [0, 2]').map((s) => s.canary.sysctls['net.ipv4.tcp_ecn'])).toEqual(['0', '2']);
    expect(problems(() => grid('  links.nolink.delay: [1ms]'))).toEqual([
      '6:3 matrix.links.nolink.delay: topology "dumbbell" has no link "nolink" (it has: bottleneck)',
    ]);
    expect(problems(() => grid('  links.bottleneck.colour: [red]'))[0]).toMatch(
      /^6:3 matrix\.links\.bottleneck\.colour: not a field of a scenario: "links\.bottleneck" has no field "colour" \(it has: delay, jitter/,
    );
    expect(problems(() => grid('  links.bottleneck.delay.x: [1]'))).toEqual([
      '6:3 matrix.links.bottleneck.delay.x: not a field of a scenario: "links.bottleneck.delay" is a value: it has no field "x"',
    ]);
  });

  it('the matrix size is the product of the list lengths, refused before expanding', () => {
    const big = Array.from({ length: 100 }, (_, i) => i);
    const m = { a: big, b: big, c: big };
    expect(matrixSize(m)).toBe(1_000_000);
    expect(() => expandMatrix({}, m)).toThrow('matrix expands to 1000000 points (limit 10000)');
    const rates = `[${Array.from({ length: 100 }, (_, i) => `${i + 1}mbit`).join(', ')}]`;
    const src = [
      ...base,
      'matrix:',
      `  links.bottleneck.rate: ${rates}`,
      `  links.bottleneck.delay: [${Array.from({ length: 101 }, (_, i) => `${i}ms`).join(', ')}]`,
    ].join('\n');
    expect(problems(() => loadScenarioText(src, 'x.yaml'))).toEqual([
      '6:3 matrix: expands to 10100 scenarios (100 x 101); the limit is 10000',
    ]);
  });

  it('values: rate 0 is an error, sysctl values are integers or names, names are safe', () => {
    const one = (line: string) => problems(() => loadScenarioText([...base, line].join('\n'), 'x.yaml'));
    expect(one('links: { bottleneck: { rate: 0mbit } }')).toEqual([
      '5:30 links.bottleneck.rate: a rate must be at least 1kbit and at most 100gbit (got "0mbit")',
    ]);
    expect(one('endpoints: { sysctls: { net.ipv4.tcp_congestion_control: htcp } }')).toEqual([
      '5:58 endpoints.sysctls.net.ipv4.tcp_congestion_control: must be one of cubic, bbr, reno (got "htcp")',
    ]);
    expect(one('endpoints: { sysctls: { net.ipv4.tcp_rmem: "4096\\n1" } }')).toEqual([
      '5:44 endpoints.sysctls.net.ipv4.tcp_rmem: must not contain control characters (newlines, NUL, escapes)',
    ]);
    expect(one('name: ../../../../tmp/x')).toEqual([
      '5:7 name: must be 1-64 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit (it becomes part of file names and ids; got "../../../../tmp/x")',
    ]);
    expect(one('x: 1e400')).toEqual(['5:4 x: "1e400" is not a finite number']);
    expect(one('trials: { pairs: 5 }\nx: 1\nx: 2')).toEqual([
      '7:1 x: duplicate key "x" (first at line 6): each key may appear once',
      '6:1 x: unknown field "x"',
    ]);
  });

  it('a congestion control on the receiver only cannot take effect', () => {
    const src = [
      'topology: dumbbell',
      'control: { cc: bbr }',
      'canary: { cc: cubic, apply_to: receiver }',
      'workload: { type: bulk }',
    ].join('\n');
    expect(problems(() => loadScenarioText(src, 'x.yaml'))).toEqual([
      '3:32 canary.apply_to: cc: cubic with apply_to: receiver cannot take effect: the congestion control that matters is the data sender\'s, and with apply_to: receiver the sender keeps the host default (every trial would fail "sender used ..., the profile says cubic"). Write apply_to: sender (the default) or apply_to: both, or leave the congestion control out of this profile',
    ]);
    const ok = loadScenarioText(src.replace('apply_to: receiver', 'apply_to: both'), 'x.yaml');
    expect(ok[0]!.canary.applyTo).toBe('both');
    // a receiver-only profile without a congestion control is fine (the 32 KB receive buffer case)
    const rcv = loadScenarioText(
      src.replace('cc: cubic, apply_to: receiver', 'sysctls: { net.ipv4.tcp_rmem: "4096 32768 32768" }, apply_to: receiver'),
      'x.yaml',
    );
    expect(rcv[0]!.canary.applyTo).toBe('receiver');
  });

  it('files that are not regular files are refused without blocking', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netab-fifo-'));
    const fifo = join(dir, 'f.yaml');
    execFileSync('mkfifo', [fifo]);
    expect(problems(() => loadScenarioFile(fifo))).toEqual(['undefined:undefined : is a FIFO: a scenario file must be a regular file']);
    expect(problems(() => loadScenarioFile('/dev/zero'))).toEqual([
      'undefined:undefined : is a character device: a scenario file must be a regular file',
    ]);
    expect(problems(() => loadScenarioFile(dir))).toEqual(['undefined:undefined : is a directory, not a scenario file']);
  });
});
