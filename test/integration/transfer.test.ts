/**
 * Short flows and compete on real namespaces: the lead's dumbbell (engine chosen with 'auto': netem
 * where the kernel has it, else the userspace relay), 50 ms one-way delay (100 ms RTT), 20 Mbit/s,
 * a shallow 0.25-BDP buffer. Needs root, iproute2, iperf3, ss, ethtool and a built dist/
 * (`npx tsc -p tsconfig.json`). Under CI=true a missing prerequisite fails the suite.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/exec/index.js';
import { Resources, newRunId } from '../../src/exec/resources.js';
import { chooseEngine } from '../../src/impairment/index.js';
import { projectRoot } from '../../src/paths.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { createTestbed } from '../../src/topology/netns/index.js';
import type { Testbed } from '../../src/topology/types.js';
import { applyProfile, ensureAllowed } from '../../src/tuning/index.js';
import { runCompeteTrial } from '../../src/workload/compete.js';
import { startCrossTraffic } from '../../src/workload/cross.js';
import { sampleSs } from '../../src/workload/telemetry.js';
import { runFctTrial, runPageloadTrial, runRrTrial, type TransferEndpoints } from '../../src/workload/transfer.js';
import { TransferClients } from '../../src/workload/transfer-client.js';
import { TransferServers } from '../../src/workload/transfer-server.js';
import { requirePrereqs } from '../helpers.js';

const built = existsSync(join(projectRoot(), 'dist', 'workload', 'transfer-main.js'));
if (!built && process.env.CI) throw new Error('dist/ is not built: run `npx tsc -p tsconfig.json` before the integration tests');
const go = requirePrereqs(['ip', 'iperf3', 'ethtool', 'ss']) && built;

const RTT = 100;
const SCENARIO = `
name: it-transfer
topology: dumbbell
links:
  bottleneck:
    delay: 50ms
    rate: 20mbit
    buffer: 0.25bdp
control: { cc: cubic }
canary: { cc: bbr }
workload: { type: bulk }
`;

describe.runIf(go)('transfer tool and compete on real namespaces', () => {
  let tb: Testbed;
  let resources: Resources;
  let ctl: TransferEndpoints;
  const log: string[] = [];

  beforeAll(async () => {
    const runId = newRunId();
    resources = new Resources(runId, (m) => log.push(m));
    const [s] = loadScenarioText(SCENARIO, join(projectRoot(), 'scenarios', 'it-transfer.yaml'));
    const { engine } = await chooseEngine('auto', runId);
    await ensureAllowed(['cubic', 'bbr'], resources);
    tb = await createTestbed({ scenario: s!, engine, runId, resources, seed: 7, log: (m) => log.push(m) });
    for (const arm of ['control', 'canary'] as const)
      for (const role of ['sender', 'receiver'] as const) {
        const h = tb.hosts[arm][role];
        await applyProfile({ ns: h.ns, gateway: h.gateway, dev: h.dev }, role === 'sender' ? s![arm] : null, {});
      }
    const h = tb.hosts.control;
    ctl = { serverNs: h.sender.ns, serverAddr: h.sender.addr, clientNs: h.receiver.ns };
  }, 120_000);

  afterAll(async () => {
    const errs = await resources?.close();
    expect(errs ?? []).toEqual([]);
    if (tb) {
      const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
      for (const ns of tb.namespaces) expect(left).not.toContain(ns);
    }
  }, 60_000);

  it('fct: 45 KB with initcwnd 30 takes one round trip less than with initcwnd 10', async () => {
    const w = { type: 'fct' as const, sizes: [{ bytes: 45000, weight: 1 }], transfers: 5, gapMs: 0, requestBytes: 100 };
    const h = tb.hosts.control.sender;
    const route = (extra: string[]) => run(['ip', '-n', h.ns, 'route', 'replace', 'default', 'via', h.gateway, 'dev', 'eth0', ...extra]);
    const ten = await runFctTrial(ctl, w, { timeoutMs: 30_000 });
    await route(['initcwnd', '30']);
    const thirty = await runFctTrial(ctl, w, { timeoutMs: 30_000 });
    await route([]);
    console.log(
      `fct 45 KB, RTT ${RTT} ms: initcwnd 10 p50 ${ten.metrics.fct_p50} ms (total incl. handshake ${ten.extra!.totalP50}), ` +
        `initcwnd 30 p50 ${thirty.metrics.fct_p50} ms (total ${thirty.extra!.totalP50})`,
    );
    // request -> last byte: 10 + 20 + 2 segments = 3 RTT with initcwnd 10; 30 + 2 = 2 RTT with 30, plus
    // 45 KB at 20 Mbit/s = 18 ms: theory 318 ms and 218 ms. Measured (15 runs, 2 cores, five other
    // jobs' builds and tests alongside): initcwnd 10 308-333 ms, initcwnd 30 206-226 ms. The upper
    // bounds sit below one more round trip (>= 418 / 318 ms), so they still catch a lost round trip.
    expect(ten.metrics.fct_p50).toBeGreaterThan(2.8 * RTT);
    expect(ten.metrics.fct_p50).toBeLessThan(3.8 * RTT);
    expect(thirty.metrics.fct_p50).toBeGreaterThan(1.9 * RTT);
    expect(thirty.metrics.fct_p50).toBeLessThan(2.8 * RTT);
    expect(ten.metrics.ttfb_p50).toBeGreaterThan(0.95 * RTT);
    expect(ten.metrics.ttfb_p50).toBeLessThan(1.5 * RTT);
    expect(ten.extra!.connectP50 as number).toBeGreaterThan(0.95 * RTT);
    expect(ten.metrics.retrans).toBe(0);
    expect(ten.series!.fct).toHaveLength(5);
    // the snapshot of the held last connection, taken on the sending side
    const ss = thirty.extra!.ss as { cwnd?: number; rttMs?: number; bytesAcked?: number; cc?: string; sendQ: number }[];
    expect(ss.length).toBe(1);
    expect(ss[0]!.cc).toBe('cubic');
    expect(ss[0]!.bytesAcked).toBeGreaterThanOrEqual(45000);
    expect(ss[0]!.sendQ).toBe(0);
    expect(ss[0]!.rttMs).toBeGreaterThan(0.9 * RTT);
  });

  it('a kept-up transfer server serves trial after trial; each trial gets its own counters', async () => {
    const w = { type: 'fct' as const, sizes: [{ bytes: 20000, weight: 1 }], transfers: 3, gapMs: 0, requestBytes: 100 };
    const pids: number[] = [];
    const pool = new TransferServers((pid) => pids.push(pid));
    try {
      const a = await runFctTrial(ctl, w, { timeoutMs: 30_000, servers: pool });
      const b = await runRrTrial(
        ctl,
        { type: 'rr', requestBytes: 100, responseBytes: 1000, count: 4, gapMs: 0 },
        { timeoutMs: 30_000, servers: pool },
      );
      const c = await runFctTrial(ctl, w, { timeoutMs: 30_000, servers: pool });
      expect(pids).toHaveLength(1); // one server process for the three trials
      for (const [out, requests, connections] of [
        [a, 3, 3],
        [b, 4, 1],
        [c, 3, 3],
      ] as const) {
        expect(out.extra!.server).toEqual({ connections, requests, bytesSent: out === b ? 4000 : 60000, errors: 0 });
      }
      expect(c.series!.fct).toHaveLength(3);
    } finally {
      await pool.close();
    }
    // closed: nothing of it left in the namespace
    expect(pids.every((p) => !existsSync(`/proc/${p}`))).toBe(true);
  });

  it('a kept-up transfer client runs trial after trial in one process; a failed one is replaced', async () => {
    const w = { type: 'fct' as const, sizes: [{ bytes: 20000, weight: 1 }], transfers: 3, gapMs: 0, requestBytes: 100 };
    const clientPids: number[] = [];
    const servers = new TransferServers();
    const clients = new TransferClients((pid) => clientPids.push(pid));
    const opts = { timeoutMs: 30_000, servers, clients };
    const established = async () =>
      (await run(['ss', '-Htn', 'state', 'established'], { netns: ctl.clientNs })).stdout.trim().split('\n').filter(Boolean).length;
    try {
      const a = await runFctTrial(ctl, w, opts);
      const b = await runRrTrial(ctl, { type: 'rr', requestBytes: 100, responseBytes: 1000, count: 4, gapMs: 0 }, opts);
      const c = await runPageloadTrial(
        ctl,
        { type: 'pageload', objects: [14000, 14000], connections: 2, pages: 1, gapMs: 0, requestBytes: 100 },
        opts,
      );
      expect(clientPids).toHaveLength(1); // one client process for the three trials
      expect(a.series!.fct).toHaveLength(3);
      expect(b.series!.rr).toHaveLength(4);
      expect(c.metrics.plt).toBeGreaterThan(1.96 * RTT); // connect, then request: two round trips at least
      // the snapshot's held connections were released after each trial
      expect(await established()).toBe(0);
      // a job that fails (a 0-byte response is refused by the client): the trial fails, the client
      // is stopped, and the next trial starts a new one
      const bad = runRrTrial(ctl, { type: 'rr', requestBytes: 100, responseBytes: 0, count: 1, gapMs: 0 }, opts);
      await expect(bad).rejects.toThrow(/at least 1 byte/);
      const d = await runFctTrial(ctl, w, opts);
      expect(d.series!.fct).toHaveLength(3);
      expect(clientPids).toHaveLength(2);
      expect(existsSync(`/proc/${clientPids[0]}`)).toBe(false);
    } finally {
      await Promise.all([clients.close(), servers.close()]);
    }
    expect(clientPids.every((p) => !existsSync(`/proc/${p}`))).toBe(true);
  });

  it('rr: latency of a persistent connection is one round trip', async () => {
    const out = await runRrTrial(ctl, { type: 'rr', requestBytes: 100, responseBytes: 1000, count: 20, gapMs: 0 }, { timeoutMs: 30_000 });
    console.log(`rr 100 B / 1000 B: p50 ${out.metrics.rr_p50} ms, p99 ${out.metrics.rr_p99} ms`);
    // theory: 1 RTT + 0.4 ms for 1000 B at 20 Mbit/s. Measured p50 105.6-130.0 ms over 15 runs on a
    // loaded 2-core host (the excess is the transfer tool's and the relay's scheduling); the bound
    // allows twice the largest excess seen and still catches a second round trip (>= 200 ms)
    expect(out.metrics.rr_p50).toBeGreaterThan(0.98 * RTT);
    expect(out.metrics.rr_p50).toBeLessThan(1.6 * RTT);
    expect(out.metrics.rr_p99).toBeGreaterThanOrEqual(out.metrics.rr_p50!);
    expect(out.series!.rr).toHaveLength(20);
  });

  it('cross traffic: on/off sources through the bottleneck queue up behind a persistent connection', async () => {
    const k = tb.hosts.canary;
    const cross = await startCrossTraffic(
      { serverNs: k.sender.ns, serverAddr: k.sender.addr, clientNs: k.receiver.ns },
      { sources: 2, meanOnMs: 1500, shape: 1.5, meanOffMs: 100, requestBytes: 100 },
      4000,
      3,
    );
    const rr = await runRrTrial(ctl, { type: 'rr', requestBytes: 100, responseBytes: 1000, count: 30, gapMs: 0 }, { timeoutMs: 30_000 });
    const st = await cross.stop();
    console.log(`rr under cross traffic: p50 ${rr.metrics.rr_p50} ms, p99 ${rr.metrics.rr_p99} ms; cross ${JSON.stringify(st)}`);
    expect(st!.periods).toBeGreaterThan(0);
    expect(st!.bytes).toBeGreaterThan(100_000);
    expect(st!.sources).toBe(2);
    // the 0.25-BDP queue (62.5 KB at 20 Mbit/s: up to 25 ms) fills behind the cross flows
    expect(rr.metrics.rr_p99).toBeGreaterThan(1.05 * RTT);
  });

  it('pageload: three 14 KB objects over three connections beat one 42 KB object over one', async () => {
    // 5 pages per trial (plt is their mean): with 2 the difference below came within 2.5 ms of its bound
    const base = { type: 'pageload' as const, pages: 5, gapMs: 0, requestBytes: 300 };
    const three = await runPageloadTrial(ctl, { ...base, objects: [14000, 14000, 14000], connections: 3 }, { timeoutMs: 30_000 });
    const one = await runPageloadTrial(ctl, { ...base, objects: [42000], connections: 1 }, { timeoutMs: 30_000 });
    console.log(`pageload: 3 x 14 KB on 3 connections ${three.metrics.plt} ms, 1 x 42 KB on 1 connection ${one.metrics.plt} ms`);
    // handshake + 1 RTT (each object fits initcwnd 10) vs handshake + 2 RTT (10 + 20 segments), plus
    // 42 KB at 20 Mbit/s = 17 ms: theory 217 ms and 317 ms, difference 1 RTT. Measured with 2 pages
    // (15 runs, loaded 2-core host): three 230-311 ms, one 329-402 ms, difference 52-144 ms (median 94).
    // Upper bounds: the largest value seen + ~40 ms; the difference: 0.4 RTT, and 5 pages instead of 2.
    expect(three.metrics.plt).toBeGreaterThan(1.9 * RTT);
    expect(three.metrics.plt).toBeLessThan(3.5 * RTT);
    expect(three.metrics.plt!).toBeLessThan(one.metrics.plt! - 0.4 * RTT);
    expect(one.metrics.plt).toBeGreaterThan(2.9 * RTT);
    expect(one.metrics.plt).toBeLessThan(4.5 * RTT);
    expect(three.series!.plt).toHaveLength(5);
    expect(three.extra!.connectionsPerPage).toBe(3);
  });

  it('compete: bbr vs cubic over a shallow buffer reports share, Jain index and control harm; ss samples the canary', async () => {
    const arms = {
      control: {
        senderNs: tb.hosts.control.sender.ns,
        receiverNs: tb.hosts.control.receiver.ns,
        receiverAddr: tb.hosts.control.receiver.addr,
      },
      canary: { senderNs: tb.hosts.canary.sender.ns, receiverNs: tb.hosts.canary.receiver.ns, receiverAddr: tb.hosts.canary.receiver.addr },
    };
    const sampler = sampleSs(arms.canary.senderNs, 'dport = :5202', 100);
    const out = await runCompeteTrial(
      arms,
      { type: 'compete', flowsPerArm: 1, durationMs: 6000, staggerMs: 0, omitMs: 1000, intervalMs: 500, baseline: true },
      { timeoutMs: 60_000, expectCC: { control: 'cubic', canary: 'bbr' } },
    );
    const samples = await sampler.stop();
    const m = out.metrics;
    console.log(`compete bbr vs cubic: ${JSON.stringify(m)}; ${samples.length} ss samples of the canary`);
    expect(m.jain).toBeGreaterThan(0.5);
    expect(m.jain).toBeLessThanOrEqual(1);
    expect(m.share_canary).toBeGreaterThan(0);
    expect(m.share_canary).toBeLessThan(1);
    expect(m.control_harm).not.toBeNull();
    expect(m.control_harm).toBeGreaterThan(-0.5);
    expect(m.control_harm).toBeLessThan(1);
    // CUBIC alone over 1-6 s. Steady state fills the link (after a loss cwnd drops to 0.7 x 1.25 BDP
    // = 0.875 BDP and CUBIC's concave growth is back at 1 BDP within ~0.7 s of a ~5.4 s epoch: >= 99 %),
    // but 6 s hold little more than the start-up: HyStart may leave slow start as early as its 16-packet
    // floor (it reacts to RTT rises, and the relay's scheduling under load makes some), and from there
    // CUBIC's TCP-friendly growth (0.53 packet per RTT) plus its convex term reach only ~48 packets by
    // 6 s: a mean of ~35 packets per RTT over 1-6 s = 4.1 Mbit/s, the floor for a correct stack.
    // Measured (15 runs, loaded 2-core host): 6.7-17.0 Mbit/s, median 11.1; the old bound of 12 failed
    // 10 of 15. Bound: 3 Mbit/s (the 4.1 floor less 25 %).
    // Ceiling: 20 Mbit/s x 1448/1514 payload per frame = 19.1 Mbit/s; 20.5 leaves 7 % for iperf3
    // attributing bytes to interval boundaries.
    expect(m.goodput_control_alone).toBeGreaterThan(3);
    expect(m.goodput_control_alone).toBeLessThan(20.5);
    expect(m.goodput_control! + m.goodput_canary!).toBeLessThan(20.5);
    expect(out.series!.flow_goodput_canary).toHaveLength(1);
    // a flow of the canary (iperf3's data connection, bytes acked) sampled ~every 100 ms for ~6 s: ~55
    // samples once past 1 MB at best, but each sample is an `ss` process start: as few as 15 data
    // samples (loaded 2-core host). Bound: one per half second of the ~5.5 s past 1 MB.
    const data = samples.filter((s) => (s.bytesAcked ?? 0) > 1e6);
    expect(data.length).toBeGreaterThan(10);
    expect(data.every((s) => s.cc === 'bbr' && (s.cwnd ?? 0) > 0 && (s.rttMs ?? 0) > 0.9 * RTT)).toBe(true);
    expect(data.some((s) => (s.deliveryRateMbit ?? 0) > 1)).toBe(true);
  });
});
