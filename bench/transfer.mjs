#!/usr/bin/env node
// The transfer tool's own overhead: short flows over a plain veth between two namespaces (no
// emulation, ~0.01 ms kernel RTT), so whatever the tool reports is its own cost (two Node event
// loops, syscalls, the veth). Prints p50/p99 per workload; also how long a trial takes end to end
// (server + client process start, counters, ss snapshot). Run: `npm run build && node bench/transfer.mjs [--n 200]`.
import { run } from '../dist/exec/index.js';
import { Resources, newRunId } from '../dist/exec/resources.js';
import { deleteNamespace, nsName } from '../dist/topology/netns/index.js';
import { runFctTrial, runPageloadTrial, runRrTrial } from '../dist/workload/transfer.js';

const argIdx = process.argv.indexOf('--n');
const N = argIdx > 0 ? Number(process.argv[argIdx + 1]) : 200;
const runId = newRunId();
const res = new Resources(runId);
const S = nsName(runId, 'bench-srv');
const C = nsName(runId, 'bench-cli');
const rows = [];
try {
  for (const ns of [S, C]) {
    await run(['ip', 'netns', 'add', ns]);
    res.record((s) => s.namespaces.push(ns));
    res.defer(`delete ${ns}`, () => deleteNamespace(ns));
    await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  await run(['ip', 'link', 'add', 'eth0', 'netns', S, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', C]);
  for (const [ns, a] of [
    [S, '198.18.250.1/24'],
    [C, '198.18.250.2/24'],
  ]) {
    await run(['ip', '-n', ns, 'addr', 'add', a, 'dev', 'eth0']);
    await run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
  }
  const ep = { serverNs: S, serverAddr: '198.18.250.1', clientNs: C };
  const opts = { timeoutMs: 120_000 };
  // warm-up (page cache, JIT of the server and client)
  await runFctTrial(ep, { type: 'fct', sizes: [{ bytes: 10_000, weight: 1 }], transfers: 20, gapMs: 0, requestBytes: 100 }, opts);

  let t = performance.now();
  const fct = await runFctTrial(
    ep,
    { type: 'fct', sizes: [{ bytes: 10_000, weight: 1 }], transfers: N, gapMs: 0, requestBytes: 100 },
    opts,
  );
  const fctWall = performance.now() - t;
  rows.push({
    workload: `fct 10 KB x${N} (fresh connection each)`,
    metric: 'fct (request -> last byte)',
    'p50 ms': fct.metrics.fct_p50,
    'p99 ms': fct.metrics.fct_p99,
  });
  rows.push({ workload: '', metric: 'ttfb', 'p50 ms': fct.metrics.ttfb_p50, 'p99 ms': '' });
  rows.push({ workload: '', metric: 'connect', 'p50 ms': fct.extra.connectP50, 'p99 ms': '' });
  rows.push({ workload: '', metric: 'total (connect -> last byte)', 'p50 ms': fct.extra.totalP50, 'p99 ms': fct.extra.totalP99 });

  t = performance.now();
  const rr = await runRrTrial(ep, { type: 'rr', requestBytes: 100, responseBytes: 1000, count: 5 * N, gapMs: 0 }, opts);
  const rrWall = performance.now() - t;
  rows.push({
    workload: `rr 100 B -> 1 KB x${5 * N} (one connection)`,
    metric: 'exchange latency',
    'p50 ms': rr.metrics.rr_p50,
    'p99 ms': rr.metrics.rr_p99,
  });

  t = performance.now();
  const pl = await runPageloadTrial(
    ep,
    { type: 'pageload', objects: Array(12).fill(10_000), connections: 6, pages: 20, gapMs: 0, requestBytes: 300 },
    opts,
  );
  const plWall = performance.now() - t;
  rows.push({ workload: 'pageload 12 x 10 KB over 6 connections x20', metric: 'page load time', 'p50 ms': pl.extra.pltP50, 'p99 ms': '' });

  const ping = await run(['ping', '-c', '20', '-i', '0.01', '-q', '198.18.250.1'], { netns: C, reject: false });
  const kernel = /= [\d.]+\/([\d.]+)\//.exec(ping.stdout)?.[1];

  console.log(`\n## transfer tool overhead on a plain veth between two namespaces (Node ${process.version})`);
  console.table(rows);
  console.log(
    `host load average (1 min) during the bench: ${(await import('node:os')).loadavg()[0].toFixed(2)} on ${(await import('node:os')).cpus().length} cores`,
  );
  console.log(`kernel RTT on the same veth (ping, avg): ${kernel ?? '?'} ms`);
  console.log(
    `trial wall time incl. process start, counters and ss snapshot: fct x${N} ${fctWall.toFixed(0)} ms, rr x${5 * N} ${rrWall.toFixed(0)} ms, pageload x20 ${plWall.toFixed(0)} ms`,
  );
} finally {
  const errs = await res.close();
  if (errs.length) console.error(`cleanup: ${errs.join('; ')}`);
}
