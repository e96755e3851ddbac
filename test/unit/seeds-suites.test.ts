/**
 * The shipped seed suites (scenarios/seeds/*): every file validates through the programmatic API,
 * `validate` on the folder checks both suites and their quick variants, `plan` works on each, and
 * each quick suite's planned wall time is at most 20 minutes. The kernel sysctl check needs a
 * network namespace (root): `netab validate scenarios/seeds` covers it outside the unit tests.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { plan, validate } from '../../src/api.js';
import { validationUnits } from '../../src/scenario/suite.js';

const ROOT = 'scenarios/seeds';
const SUITES = ['edge-toolbox', 'tcp-survey'];
const QUICK_LIMIT_S = 20 * 60;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? yamlFiles(p) : n.endsWith('.yaml') ? [p] : [];
    });
}

const seeds = ROOT;

describe('scenarios/seeds', () => {
  const files = yamlFiles(ROOT).map((f) => relative(ROOT, f));

  it('holds both suites, each with a quick variant', () => {
    for (const s of SUITES) {
      expect(files).toContain(`${s}/suite.yaml`);
      expect(files).toContain(`${s}/quick/suite.yaml`);
    }
    expect(files.length).toBe(28);
  });

  it.each(files.filter((f) => !f.endsWith('suite.yaml')))('%s validates on its own and carries its own seed', async (f) => {
    const scenarios = await validate([join(seeds, f)], { kernel: false, warn: () => {} });
    expect(scenarios.length).toBeGreaterThan(0);
    expect(scenarios.every((s) => Number.isInteger(s.seed))).toBe(true);
    expect(readFileSync(join(ROOT, f), 'utf8')).toMatch(/^# /); // the header: the seed's claim and what is measured
  });

  it('seeds are distinct across the files of a suite', () => {
    for (const s of SUITES) {
      const own = files.filter((f) => f.startsWith(`${s}/`) && !f.includes('/quick/') && !f.endsWith('suite.yaml'));
      const seedsOf = own.map((f) => /^seed: (\d+)$/m.exec(readFileSync(join(ROOT, f), 'utf8'))![1]);
      expect(new Set(seedsOf).size).toBe(own.length);
    }
  });

  it('validate on the folder checks every suite below it, each on its own', async () => {
    expect(validationUnits([seeds])).toEqual(SUITES.flatMap((s) => [[join(seeds, s)], [join(seeds, s, 'quick')]]));
    const all = await validate([seeds], { kernel: false, warn: () => {} });
    // full grids: edge-toolbox 3 x 30 + 4 + 4 + 4, tcp-survey 2 x 45 + 4 + 1 + 3 + 3; quick: 6 + 6
    expect(all.length).toBe(102 + 101 + 6 + 6);
  });

  it.each(SUITES)('%s: plan works on the full suite and the quick suite fits in 20 minutes', (s) => {
    const full = plan([join(seeds, s)]);
    expect(full.suite.name).toBe(s);
    const quick = plan([join(seeds, s, 'quick')]);
    expect(quick.suite.name).toBe(`${s}-quick`);
    expect(quick.total.scenarios).toBe(6);
    expect(quick.total.seconds).toBeLessThanOrEqual(QUICK_LIMIT_S);
    // the quick suite is a subset of the full grid: the same scenario ids
    const ids = new Set(full.scenarios.map((x) => x.id));
    for (const q of quick.scenarios) expect(ids.has(q.id)).toBe(true);
  });

  it('the estimate counts time on the wire: 1 MB at 1.5 Mbit/s is 5.33 s per transfer, not 4 RTTs', () => {
    const p = plan([join(seeds, 'edge-toolbox/initcwnd.yaml')]);
    const one = p.scenarios.find((x) => x.id === 'initcwnd[size=1MB,delay=180ms,rate=1.5mbit]')!;
    // setup 4 s + fidelity 5 s + 26 trials x (1 s + 5 transfers x (4 x 0.18 s + 8e6 / 1.5e6 s + 0.02 s))
    expect(one.seconds).toBeCloseTo(9 + 26 * (1 + 5 * (0.72 + 8e6 / 1.5e6 + 0.02)), 6);
  });
});
