#!/usr/bin/env zx
// Time to bring the dumbbell topology up and tear it down, Docker backend vs netns backend
// (median of 5 by default, same impairment engine for both). Needs `npm run build` and a Docker engine
// (`zx scripts/docker-engine.mjs`).
//   zx bench/docker.mjs [--n 5]
import { loadScenarioFile } from '../dist/scenario/load.js';
import { createTestbed } from '../dist/topology/netns/index.js';
import { buildEndpointImage, createDockerTestbed, pingDocker } from '../dist/topology/docker/index.js';
import { chooseEngine } from '../dist/impairment/index.js';
import { Resources, newRunId } from '../dist/exec/resources.js';

const N = Number(argv.n ?? 5);
const [scenario] = loadScenarioFile('scenarios/quickstart.yaml');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;
const { engine } = await chooseEngine('auto', newRunId());
const log = () => {};

try {
  await pingDocker();
} catch (e) {
  echo(`bench/docker: ${e.message}`);
  process.exit(3);
}
const img = await buildEndpointImage(log);
echo(`endpoint image ${img.tag}: ${img.built ? `built in ${img.ms.toFixed(0)} ms` : 'cached'}`);

const backends = {
  netns: (runId, res) => createTestbed(scenario, engine, runId, res, 1, log),
  docker: (runId, res) => createDockerTestbed(scenario, engine, runId, res, 1, log),
};
const rows = [];
for (const [backend, create] of Object.entries(backends)) {
  const up = [];
  const down = [];
  for (let i = 0; i < N; i++) {
    const runId = newRunId();
    const res = new Resources(runId);
    const t0 = performance.now();
    try {
      await create(runId, res);
      up.push(performance.now() - t0);
    } finally {
      const t1 = performance.now();
      const errs = await res.close();
      down.push(performance.now() - t1);
      if (errs.length) echo(`teardown errors: ${errs.join('; ')}`);
    }
  }
  rows.push({
    backend,
    engine: engine.name,
    'up ms (median)': median(up).toFixed(0),
    'up range': spread(up),
    'down ms (median)': median(down).toFixed(0),
    'down range': spread(down),
    runs: N,
  });
}
console.log(`\n## dumbbell topology (${scenario.topology.routers.length} routers, 4 hosts): bring up and tear down`);
console.table(rows);
