import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/scenario/errors.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { loadSuite } from '../../src/scenario/suite.js';

const tmp = mkdtempSync(join(tmpdir(), 'netab-pivot-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e.problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.path}: ${p.message}`);
    throw e;
  }
  throw new Error('expected an InputError');
}

const BASE = [
  'topology: dumbbell',
  'links: { bottleneck: { delay: 10ms, rate: 20mbit } }',
  'control: { cc: cubic }',
  'canary: { cc: bbr }',
  'workload: { type: bulk, duration: 1s }',
  'matrix:',
  '  links.bottleneck.delay: [10ms, 50ms]',
  '  links.bottleneck.rate: [5mbit, 50mbit]',
  '  canary.route.initcwnd: [10, 30]',
];
const withReport = (...lines: string[]) => [...BASE, 'report:', ...lines, ''].join('\n');

describe('report.pivot in a scenario file', () => {
  it('short names resolve to the full matrix keys, recorded on every expanded scenario', () => {
    const ss = loadScenarioText(withReport('  pivot: { rows: [delay, initcwnd], cols: [links.bottleneck.rate] }'), 'x.yaml');
    expect(ss).toHaveLength(8);
    for (const s of ss)
      expect(s.report).toEqual({ pivot: { rows: ['links.bottleneck.delay', 'canary.route.initcwnd'], cols: ['links.bottleneck.rate'] } });
    // presentation only: the scenario hash does not change
    const plain = loadScenarioText([...BASE, ''].join('\n'), 'x.yaml');
    expect(ss.map((s) => s.hash)).toEqual(plain.map((s) => s.hash));
    expect(plain[0]!.report).toBeUndefined();
  });

  it('unknown and repeated names are located input errors', () => {
    expect(problems(() => loadScenarioText(withReport('  pivot:', '    rows: [delay, bandwidth]', '    cols: [delay]'), 'x.yaml'))).toEqual(
      [
        'x.yaml:12:19 report.pivot.rows.1: "bandwidth" is not a matrix dimension (the dimensions are: links.bottleneck.delay (delay), links.bottleneck.rate (rate), canary.route.initcwnd (initcwnd))',
        'x.yaml:13:12 report.pivot.cols.0: dimension links.bottleneck.delay is already in report.pivot.rows',
      ],
    );
  });

  it('an ambiguous short name, a file without a matrix and a bad shape are refused', () => {
    const two = [...BASE.slice(0, 6), '  links.bottleneck.forward.delay: [1ms, 2ms]', '  links.bottleneck.reverse.delay: [1ms, 2ms]'];
    expect(problems(() => loadScenarioText([...two, 'report: { pivot: { rows: [delay] } }', ''].join('\n'), 'x.yaml'))).toEqual([
      'x.yaml:9:27 report.pivot.rows.0: "delay" is ambiguous: it ends links.bottleneck.forward.delay, links.bottleneck.reverse.delay; write the full matrix key',
    ]);
    expect(
      problems(() => loadScenarioText([...BASE.slice(0, 5), 'report: { pivot: { cols: [delay] } }', ''].join('\n'), 'x.yaml')),
    ).toEqual(['x.yaml:6:18 report.pivot: a pivot needs matrix dimensions: this file has no matrix']);
    expect(problems(() => loadScenarioText(withReport('  pivot: { row: [delay] }'), 'x.yaml'))).toEqual([
      'x.yaml:11:12 report.pivot.row: unknown field "row"',
    ]);
  });

  it('netab validate exits 2 with the located message', () => {
    const f = join(tmp, 'bad-pivot.yaml');
    writeFileSync(f, withReport('  pivot: { cols: [size] }'));
    const r = spawnSync(process.execPath, ['bin/netab.js', 'validate', f], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${f}:11:19: report.pivot.cols.0: "size" is not a matrix dimension`);
  });
});

describe('report.pivot in a suite file', () => {
  const file = (name: string, matrix: string) => writeFileSync(join(tmp, name), [...BASE.slice(0, 6), matrix, ''].join('\n'));

  it('names a dimension of any of its scenarios; recorded in the suite info', () => {
    file('a.yaml', '  links.bottleneck.delay: [10ms, 50ms]');
    file('b.yaml', '  links.bottleneck.rate: [5mbit, 50mbit]');
    writeFileSync(join(tmp, 'ok.suite.yaml'), 'files: [a.yaml, b.yaml]\nreport: { pivot: { rows: [rate], cols: [delay] } }\n');
    const s = loadSuite([join(tmp, 'ok.suite.yaml')]);
    expect(s.suite.report).toEqual({ pivot: { rows: ['links.bottleneck.rate'], cols: ['links.bottleneck.delay'] } });
  });

  it('an unknown name is located in the suite file', () => {
    file('a.yaml', '  links.bottleneck.delay: [10ms, 50ms]');
    const suite = join(tmp, 'bad.suite.yaml');
    writeFileSync(suite, 'files: [a.yaml]\nreport:\n  pivot:\n    cols: [loss]\n');
    expect(problems(() => loadSuite([suite]))).toEqual([
      `${suite}:4:12 report.pivot.cols.0: "loss" is not a matrix dimension (the dimensions are: links.bottleneck.delay (delay))`,
    ]);
  });
});
