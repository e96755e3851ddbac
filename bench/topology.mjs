#!/usr/bin/env zx
// Time to set up and tear down the dumbbell topology (median of 10), per engine available here.
import { loadScenarioFile } from '../dist/scenario/load.js';
import { createTestbed } from '../dist/topology/netns/index.js';
import { chooseEngine, NetemEngine, probeNetem } from '../dist/impairment/index.js';
import { UserspaceEngine } from '../dist/impairment/userspace/engine.js';
import { Resources, newRunId } from '../dist/exec/resources.js';

const N = Number(argv.n ?? 10);
const [scenario] = loadScenarioFile('scenarios/quickstart.yaml');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const engines = [new UserspaceEngine()];
if ((await probeNetem(newRunId())).ok) engines.unshift(new NetemEngine());
const rows = [];
for (const engine of engines) {
  const up = [];
  const down = [];
  for (let i = 0; i < N; i++) {
    const runId = newRunId();
    const res = new Resources(runId);
    const t0 = performance.now();
    try {
      await createTestbed(scenario, engine, runId, res, 1, () => {});
      up.push(performance.now() - t0);
    } finally {
      const t1 = performance.now();
      await res.close();
      down.push(performance.now() - t1);
    }
  }
  rows.push({
    backend: 'netns',
    engine: engine.name,
    'setup ms (median)': median(up).toFixed(0),
    'teardown ms (median)': median(down).toFixed(0),
    runs: N,
  });
}
console.log('\n## dumbbell topology: set up and tear down');
console.table(rows);
void chooseEngine;
