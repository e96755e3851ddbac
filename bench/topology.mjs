#!/usr/bin/env zx
// Time to set up and tear down the dumbbell topology (median of N, default 10), per engine available
// here, side by side with Mininet from Debian's packages (issue 18, item 5).
//
// Fairness: both are timed in-process (netab's createTestbed + teardown; Mininet's Python API
// Mininet(...).start() + stop(), Linux bridge switches, no controller), so neither pays its
// interpreter's start-up; runs alternate netab / Mininet so a busy spell of the shared machine hits
// both. Mininet's topology is its own closest match: LinearTopo(k=2, n=2), two switches joined by one
// link with two hosts each (netab's dumbbell: two routers joined by the bottleneck, a sender and a
// receiver per arm). Addresses come from 198.18.0.0/15 like netab's.
//
// Figures (2-core shared Debian box, n=5, load average ~3): netab netns (userspace engine) set-up 682 ms,
// tear-down 65 ms; Mininet 557 / 313 ms: netab 1.17x faster over both (before the set-up was batched:
// 968 / 135 ms, 1.34x slower). Most of netab's set-up is now the relay's start-up (~0.4 s, a Node
// process and its sender thread); 20 processes per set-up + tear-down instead of 52.
// Then the relay stopped loading yaml and zod (its import 115-157 -> 21-29 ms), n=7, load ~1.5:
// netab 524 / 54 ms, Mininet 503 / 278 ms: netab 1.35x faster. Where the 0.52 s go now (one set-up
// timed per step): namespaces, sysctls and host veths 0-50 ms, per-namespace batches 55-270 ms, the
// relay spawned at ~160 ms gets its config at ~315 ms (once its link namespace has addresses) and
// says ready at ~535 ms (binding, its sender thread's start), two chrt 535-565 ms, router routes to
// ~590 ms. 10x (~80 ms) would need in-process netlink and a relay that starts in milliseconds.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenarioFile } from '../dist/scenario/load.js';
import { netnsBackend } from '../dist/topology/netns/index.js';
import { NetemEngine, probeNetem } from '../dist/impairment/index.js';
import { UserspaceEngine } from '../dist/impairment/userspace/engine.js';
import { Resources, newRunId } from '../dist/exec/resources.js';

const N = Number(argv.n ?? 10);
const [scenario] = loadScenarioFile('scenarios/quickstart.yaml');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const MININET = `
import json, sys, time
from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge
from mininet.topo import LinearTopo
setLogLevel('error')
t0 = time.perf_counter()
net = Mininet(topo=LinearTopo(k=2, n=2), switch=LinuxBridge, controller=None, ipBase='198.18.200.0/24', autoSetMacs=True)
net.start()
t1 = time.perf_counter()
net.stop()
t2 = time.perf_counter()
print(json.dumps({'up': (t1 - t0) * 1000, 'down': (t2 - t1) * 1000}))
`;

/** Mininet lives in Debian's python3 (/usr/bin/python3), not in a pyenv shim's. */
function mininetAvailable() {
  if (!existsSync('/usr/bin/python3')) return 'no /usr/bin/python3';
  const r = spawnSync('/usr/bin/python3', ['-c', 'import mininet.net, mininet.nodelib'], { encoding: 'utf8' });
  if (r.status !== 0) return 'Mininet is not installed (apt-get install mininet bridge-utils)';
  const b = spawnSync('brctl', ['--version'], { encoding: 'utf8' });
  if (b.error) return 'brctl is missing (apt-get install bridge-utils): Mininet needs it for Linux bridge switches';
  return null;
}

async function netabOnce(engine) {
  const runId = newRunId();
  const resources = new Resources(runId);
  const t0 = performance.now();
  let up = Number.NaN;
  let t1 = t0;
  try {
    await netnsBackend.create({ scenario, engine, runId, resources, seed: 1, log: () => {} });
    up = performance.now() - t0;
  } finally {
    t1 = performance.now();
    await resources.close();
  }
  return { up, down: performance.now() - t1 };
}

function mininetOnce(script) {
  const r = spawnSync('/usr/bin/python3', [script], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`mininet: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const engines = [new UserspaceEngine()];
if ((await probeNetem(newRunId())).ok) engines.unshift(new NetemEngine());
const noMininet = mininetAvailable();
const tmp = mkdtempSync(join(tmpdir(), 'netab-mn-'));
const script = join(tmp, 'mn.py');
writeFileSync(script, MININET);
const times = Object.fromEntries(engines.map((e) => [e.name, { up: [], down: [] }]));
const mn = { up: [], down: [] };
try {
  for (let i = 0; i < N; i++) {
    for (const engine of engines) {
      const t = await netabOnce(engine);
      times[engine.name].up.push(t.up);
      times[engine.name].down.push(t.down);
    }
    if (!noMininet) {
      const t = mininetOnce(script);
      mn.up.push(t.up);
      mn.down.push(t.down);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const rows = engines.map((e) => ({
  tool: `netab netns (${e.name} engine)`,
  'setup ms (median)': median(times[e.name].up).toFixed(0),
  'teardown ms (median)': median(times[e.name].down).toFixed(0),
  runs: N,
}));
if (!noMininet)
  rows.push({
    tool: 'Mininet 2.3 (LinuxBridge, no controller)',
    'setup ms (median)': median(mn.up).toFixed(0),
    'teardown ms (median)': median(mn.down).toFixed(0),
    runs: N,
  });
console.log('\n## dumbbell topology: set up and tear down, netab vs Mininet');
console.table(rows);
if (noMininet) console.log(`Mininet side-by-side skipped: ${noMininet}`);
else {
  const mnTotal = median(mn.up) + median(mn.down);
  for (const e of engines) {
    const total = median(times[e.name].up) + median(times[e.name].down);
    const ratio = mnTotal / total;
    console.log(
      `netab (${e.name}) set-up + tear-down ${total.toFixed(0)} ms vs Mininet ${mnTotal.toFixed(0)} ms: ` +
        (ratio >= 1 ? `netab is ${ratio.toFixed(2)}x faster` : `Mininet is ${(1 / ratio).toFixed(2)}x faster`) +
        ` (speed ratio netab/Mininet ${ratio.toFixed(2)}; goal: >= 10)`,
    );
  }
}
