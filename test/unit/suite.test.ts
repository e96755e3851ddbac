import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeRuns } from '../../src/results/merge.js';
import { readRecords } from '../../src/results/store.js';
import type { RunManifest, TrialRecord } from '../../src/results/types.js';
import { InputError } from '../../src/scenario/errors.js';
import { estimateSeconds, loadSuite, parseShard, resolvePaths, shardScenarios } from '../../src/scenario/suite.js';

const SUITE = 'test/fixtures/suite';

describe('suites', () => {
  it('a folder with suite.yaml is the suite; defaults fill what files leave out', () => {
    const { scenarios, suite } = loadSuite([SUITE]);
    expect(scenarios.map((s) => s.id)).toEqual(['a-lossy', 'b-lossier', 'c-longer']);
    expect(suite.name).toBe('it-suite');
    expect(suite.files).toEqual([`${SUITE}/a-lossy.yaml`, `${SUITE}/b-lossier.yaml`, `${SUITE}/c-longer.yaml`]);
    expect(suite.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(scenarios[1]!.canary.cc).toBe('bbr');
    expect(scenarios[1]!.trials).toEqual({ pairs: 6, warmup: 0, timeoutMs: 36600, replaceBudget: 0.25 });
    expect(scenarios[1]!.links.bottleneck!.forward.loss).toBe(0.05);
  });

  it('files, globs and filters', () => {
    expect(resolvePaths([`${SUITE}/?-loss*.yaml`]).files).toEqual([`${SUITE}/a-lossy.yaml`, `${SUITE}/b-lossier.yaml`]);
    expect(resolvePaths(['nope/*.yaml']).problems[0]!.message).toBe('no file matches this pattern');
    expect(loadSuite([SUITE], { filter: 'loss' }).scenarios.map((s) => s.id)).toEqual(['a-lossy', 'b-lossier']);
    expect(() => loadSuite([SUITE], { filter: 'zzz' })).toThrow(InputError);
  });

  it('shards are deterministic, disjoint, complete and balanced', () => {
    const { scenarios } = loadSuite(['scenarios/edge-suite']);
    const s1 = shardScenarios(scenarios, 1, 2).map((s) => s.id);
    const s2 = shardScenarios(scenarios, 2, 2).map((s) => s.id);
    expect(s1).toEqual(['transcontinental']);
    expect(s2).toEqual(['home-broadband', 'mobile']);
    expect(shardScenarios(scenarios, 1, 2).map((s) => s.id)).toEqual(s1);
    expect(shardScenarios(scenarios, 1, 1).map((s) => s.id)).toEqual(scenarios.map((s) => s.id));
    expect(shardScenarios(scenarios, 4, 4)).toEqual([]);
    expect(Math.round(estimateSeconds(scenarios[2]!))).toBe(175);
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    expect(() => parseShard('4/3')).toThrow(InputError);
  });
});

function fakeShard(dir: string, suiteHash: string, index: number, count: number, ids: string[], all: string[]): void {
  mkdirSync(join(dir, 'telemetry'), { recursive: true });
  const m = {
    format: 'netab-run/1',
    runId: `r${index}`,
    netabVersion: '0.1.0',
    createdAt: 'x',
    command: [],
    sourceFile: 's',
    seed: 1,
    backend: 'netns',
    aa: false,
    environment: { kernel: 'k', hostname: 'h', node: 'v20', netem: false },
    scenarios: ids.map((id) => ({ id, name: id, params: {}, hash: `h-${id}`, scenario: {}, judge: {} })),
    suite: { name: 'x', hash: suiteHash, files: [], scenarioIds: all, shard: { index, count } },
  } as unknown as RunManifest;
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
  const recs = ids.map(
    (id) => ({ type: 'trial', scenario: id, trial: `${id}#0-control`, pair: 0, arm: 'control', status: 'ok' }) as TrialRecord,
  );
  writeFileSync(join(dir, 'results.jsonl'), recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

describe('merge', () => {
  const all = ['a', 'b', 'c'];
  function setup() {
    const root = mkdtempSync(join(tmpdir(), 'netab-merge-'));
    fakeShard(join(root, 's1'), 'H', 1, 2, ['a', 'c'], all);
    fakeShard(join(root, 's2'), 'H', 2, 2, ['b'], all);
    return root;
  }
  const msgs = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return (e as InputError).problems.map((p) => p.message);
    }
    return [];
  };

  it('combines shards in suite order', () => {
    const root = setup();
    const m = mergeRuns([join(root, 's2'), join(root, 's1')], join(root, 'out'));
    expect(m.scenarios.map((s) => s.id)).toEqual(['a', 'b', 'c']);
    expect(m.suite!.shard).toBeUndefined();
    expect(m.suite!.mergedFrom).toHaveLength(2);
    expect(readRecords(join(root, 'out')).map((r) => r.scenario)).toEqual(['a', 'c', 'b']);
  });

  it('refuses other suites, missing and duplicated shards', () => {
    const root = setup();
    fakeShard(join(root, 'other'), 'OTHER', 2, 2, ['b'], all);
    expect(msgs(() => mergeRuns([join(root, 's1'), join(root, 'other')], join(root, 'o1')))[0]).toMatch(
      /belongs to suite "x" \(hash OTHER\), not "x" \(hash H\)/,
    );
    expect(msgs(() => mergeRuns([join(root, 's1')], join(root, 'o2')))).toEqual(['shard 2/2 is missing']);
    expect(msgs(() => mergeRuns([join(root, 's1'), join(root, 's1')], join(root, 'o3')))[0]).toMatch(/shard 1\/2 is already given by/);
  });
});
