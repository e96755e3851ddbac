/**
 * Every scenario of a suite or a multi-file run keeps its own seed (issue #15 part 4): a file's
 * `seed:`, else the suite's default, else the run's seed; `--seed` overrides all. The runner hands
 * each scenario its own seed and the manifest records it per scenario. runOneScenario is replaced by
 * a recorder (no namespaces), so this runs without root.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { RunManifest } from '../../src/results/types.js';
import { loadSuite, runSeed, scenarioSeed } from '../../src/scenario/suite.js';
import { runScenarios } from '../../src/trial/runner.js';
import { trialPlan } from '../../src/trial/schedule.js';

const seen: { id: string; seed: number; first: string[] }[] = [];
vi.mock('../../src/trial/setup.js', () => ({
  runOneScenario: async (s: { id: string }, _ms: unknown, ctx: { todo: { arm: string }[] }, _store: unknown, opts: { seed: number }) => {
    seen.push({ id: s.id, seed: opts.seed, first: ctx.todo.slice(0, 8).map((t) => t.arm) });
  },
}));
vi.mock('../../src/impairment/index.js', () => ({ probeNetem: async () => ({ ok: false, detail: 'test' }) }));

const dir = mkdtempSync(join(tmpdir(), 'netab-seed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const scenario = (name: string, seed?: number) =>
  [
    `name: ${name}`,
    'topology: dumbbell',
    'links: { bottleneck: { delay: 5ms, rate: 10mbit } }',
    'control: { cc: cubic }',
    'canary: { cc: bbr }',
    'workload: { type: bulk, duration: 1s }',
    'trials: { pairs: 6, warmup: 0 }',
    ...(seed !== undefined ? [`seed: ${seed}`] : []),
  ].join('\n') + '\n';

writeFileSync(join(dir, 'a.yaml'), scenario('a', 11));
writeFileSync(join(dir, 'b.yaml'), scenario('b', 22));
writeFileSync(join(dir, 'c.yaml'), scenario('c'));
mkdirSync(join(dir, 'suite'));
writeFileSync(join(dir, 'suite', 'suite.yaml'), 'name: s\nfiles: [d.yaml, e.yaml]\ndefaults: { seed: 5 }\n');
writeFileSync(join(dir, 'suite', 'd.yaml'), scenario('d'));
writeFileSync(join(dir, 'suite', 'e.yaml'), scenario('e', 9));

const files = ['a.yaml', 'b.yaml', 'c.yaml'].map((f) => join(dir, f));
const silent = { scenario() {}, step() {}, trial() {}, warn() {} };

async function runAll(paths: string[], cli?: number, out = 'run') {
  seen.length = 0;
  const { scenarios, suite } = loadSuite(paths, { seed: cli });
  const seed = runSeed(scenarios, cli, () => 777);
  const runDir = join(dir, out);
  await runScenarios(scenarios, { runDir, seed, aa: false, command: ['netab'], sourceFile: 'x', progress: silent, suite });
  return { seed, manifest: JSON.parse(readFileSync(join(runDir, 'manifest.json'), 'utf8')) as RunManifest };
}

describe('per-scenario seeds', () => {
  it('a multi-file run: each file its own seed, the run seed only for a file without one', async () => {
    const { seed, manifest } = await runAll(files);
    expect(seed).toBe(777); // the files disagree: a random run seed (the stub's)
    expect(manifest.seed).toBe(777);
    expect(manifest.scenarios.map((m) => [m.id, m.seed])).toEqual([
      ['a', 11],
      ['b', 22],
      ['c', 777],
    ]);
    expect(seen.map((x) => [x.id, x.seed])).toEqual([
      ['a', 11],
      ['b', 22],
      ['c', 777],
    ]);
  });

  it('the pair order each scenario runs is the one its own seed gives', async () => {
    await runAll(files, undefined, 'run2');
    const { scenarios } = loadSuite(files);
    for (const s of scenarios) {
      const want = trialPlan(s, scenarioSeed(s, 777))
        .slice(0, 8)
        .map((t) => t.arm);
      expect(seen.find((x) => x.id === s.id)!.first).toEqual(want);
    }
    // b alone with its own seed runs the same order as inside the multi-file run
    const alone = loadSuite([files[1]!]).scenarios[0]!;
    expect(trialPlan(alone, runSeed([alone]))).toEqual(trialPlan(scenarios[1]!, 22));
  });

  it('a suite: the defaults seed where a file sets none, the file seed where it does', async () => {
    const { seed, manifest } = await runAll([join(dir, 'suite')], undefined, 'run3');
    expect(seed).toBe(777);
    expect(manifest.scenarios.map((m) => [m.id, m.seed])).toEqual([
      ['d', 5],
      ['e', 9],
    ]);
    expect(seen.map((x) => x.seed)).toEqual([5, 9]);
  });

  it('--seed overrides every scenario and is the run seed', async () => {
    const { seed, manifest } = await runAll(files, 3, 'run4');
    expect(seed).toBe(3);
    expect(manifest.scenarios.map((m) => m.seed)).toEqual([3, 3, 3]);
    expect(seen.map((x) => x.seed)).toEqual([3, 3, 3]);
  });

  it('one seed shared by every scenario is the run seed (no random draw)', () => {
    expect(runSeed([{ seed: 4 }, { seed: 4 }], undefined, () => 1)).toBe(4);
    expect(runSeed([{ seed: 4 }, { seed: undefined }], undefined, () => 1)).toBe(1);
    expect(runSeed([], 8, () => 1)).toBe(8);
  });
});
