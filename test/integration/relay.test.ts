/**
 * The userspace relay end to end: real namespaces (nbt-<random>{a,l,b}), real VXLAN, the built relay
 * from dist/, real ping and iperf3. Needs `npx tsc -p tsconfig.json` first (npm test builds).
 * Outside CI a missing prerequisite skips the suite; under CI=true it fails it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/exec/index.js';
import { TB, Testbed } from '../../src/impairment/userspace/testbed.js';
import { RelayClient } from '../../src/impairment/userspace/client.js';
import type { RelayStats } from '../../src/impairment/userspace/protocol.js';
import { missingPrereqs } from '../helpers.js';

const RELAY = join(process.cwd(), 'dist', 'impairment', 'userspace', 'relay-main.js');

function prereqs(): boolean {
  const missing = missingPrereqs(['ip', 'iperf3', 'ethtool', 'ping', 'nstat', 'chrt', 'sysctl']);
  if (!existsSync(RELAY)) missing.push(`${RELAY} (run npx tsc -p tsconfig.json)`);
  if (missing.length === 0) return true;
  if (process.env.CI) throw new Error(`relay integration prerequisites missing under CI: ${missing.join(', ')}`);
  return false;
}

const enabled = prereqs();

/** Exact two-sided binomial interval holding >= 99 % of the mass. */
function binomial99(n: number, p: number): [number, number] {
  const pmf: number[] = [];
  let logC = 0;
  for (let k = 0; k <= n; k++) {
    if (k > 0) logC += Math.log(n - k + 1) - Math.log(k);
    pmf.push(Math.exp(logC + k * Math.log(p) + (n - k) * Math.log1p(-p)));
  }
  let lo = 0;
  let acc = 0;
  while (acc + pmf[lo]! < 0.005) acc += pmf[lo++]!;
  let hi = n;
  acc = 0;
  while (acc + pmf[hi]! < 0.005) acc += pmf[hi--]!;
  return [lo, hi];
}

interface Ping {
  sent: number;
  received: number;
  duplicates: number;
  times: number[];
  seqs: number[];
}

async function ping(tb: Testbed, count: number, interval: string): Promise<Ping> {
  const r = await run(['ping', '-n', '-c', String(count), '-i', interval, '-W', '2', TB.b.overlay], {
    netns: tb.nsA,
    reject: false,
    timeoutMs: 120_000,
  });
  const m = /(\d+) packets transmitted, (\d+) received(?:, \+(\d+) duplicates)?/.exec(r.stdout);
  if (!m) throw new Error(`unexpected ping output:\n${r.stdout}\n${r.stderr}`);
  const times: number[] = [];
  const seqs: number[] = [];
  for (const line of r.stdout.split('\n')) {
    const s = /icmp_seq=(\d+) .*time=([\d.]+) ms/.exec(line);
    if (s && !line.includes('DUP!')) {
      seqs.push(Number(s[1]));
      times.push(Number(s[2]));
    }
  }
  return { sent: Number(m[1]), received: Number(m[2]), duplicates: Number(m[3] ?? 0), times, seqs };
}

function _median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

async function nstat(ns: string): Promise<Record<string, number>> {
  const r = await run(['nstat', '-a', '-z', '-j'], { netns: ns });
  const j = JSON.parse(r.stdout) as { kernel: Record<string, number> };
  return j.kernel;
}

describe.runIf(enabled)('userspace relay over real namespaces', () => {
  let tb: Testbed;
  const stderr: string[] = [];

  beforeAll(async () => {
    tb = await Testbed.create({ script: RELAY, seed: 42, onRelayStderr: (l) => stderr.push(l) });
  }, 60_000);

  afterAll(async () => {
    await tb?.destroy();
    if (tb) {
      const left = (await run(['ip', 'netns', 'list'])).stdout;
      expect(left).not.toContain(tb.prefix);
    }
  }, 60_000);

  async function configure(forward: object, reverse: object, seed = 42): Promise<void> {
    await tb.relay!.set(forward, reverse, seed);
    await tb.relay!.stats(true);
  }

  /**
   * Mean RTT with microsecond resolution: ping's summary line (kernel timestamps; its per-packet lines
   * print 0.1 ms steps at 10-99 ms and whole ms from 100 ms).
   */
  async function meanRtt(count: number): Promise<{ min: number; avg: number; sent: number; received: number }> {
    const r = await run(['ping', '-n', '-q', '-c', String(count), '-i', '0.01', '-W', '2', TB.b.overlay], {
      netns: tb.nsA,
      reject: false,
      timeoutMs: 120_000,
    });
    const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
    const a = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\//.exec(r.stdout);
    if (!m || !a) throw new Error(`unexpected ping output:\n${r.stdout}\n${r.stderr}`);
    return { min: Number(a[1]), avg: Number(a[2]), sent: Number(m[1]), received: Number(m[2]) };
  }

  it('both relay threads run SCHED_FIFO 10, set by the starter (the relay starts no process)', async () => {
    const st = await tb.relay!.stats(false);
    expect(st.scheduling).toBe('fifo:10');
    // the policy of every thread of the relay process: the main and sender threads are FIFO (1)
    const pid = tb.relay!.pid!;
    const policies = (await run(['ps', '-L', '-o', 'tid=,cls=', '-p', String(pid)])).stdout;
    expect(policies.split('\n').filter((l) => /\bFF\b/.test(l)).length).toBe(2);
    expect(stderr.filter((l) => /SCHED_FIFO/.test(l))).toEqual([]);
  });

  it('a relay waiting for its config (configLater) exits 0 quietly when stopped first', async () => {
    const errs: string[] = [];
    const r = new RelayClient(
      tb.nsL,
      { a: { listen: '198.19.0.2', peer: '198.19.0.1' }, b: { listen: '198.19.0.6', peer: '198.19.0.5' } },
      {
        script: RELAY,
        configLater: true,
        onStderr: (l) => errs.push(l),
      },
    );
    expect(await r.stop()).toBe(0);
    expect(errs).toEqual([]);
  });

  let baseRtt = 0;
  let baseMin = 0;
  it('unimpaired relay path: its own round trip is small', async () => {
    await configure({}, {});
    const b = await meanRtt(200);
    baseRtt = b.avg;
    baseMin = b.min;
    // two extra veth hops, VXLAN and the relay's receive-to-send path, both ways
    expect(baseRtt).toBeLessThan(2);
  });

  // The added delay is checked on the floors (min above min: a scheduling spike on this 2-core host,
  // in either measurement, only ever adds), the typical RTT on the means with a looser bound (the
  // unimpaired mean was taken earlier, under whatever load the host had then).
  it.each([10, 40, 100])('%i ms configured RTT: within 0.5 ms of configured (above the unimpaired path)', async (rtt) => {
    await configure({ delayMs: rtt / 2 }, { delayMs: rtt / 2 });
    const p = await meanRtt(rtt >= 100 ? 150 : 200);
    const s = await tb.relay!.stats(true);
    expect(p.received).toBe(p.sent);
    const why = `min ${p.min} / mean ${p.avg} ms; unimpaired min ${baseMin} / mean ${baseRtt} ms; relay lateness p99 ${s.forward.latenessMs.p99} / ${s.reverse.latenessMs.p99} ms`;
    expect(Math.abs(p.min - baseMin - rtt), why).toBeLessThanOrEqual(0.5);
    // The mean: 1.5 ms, plus the lateness the relay itself measured and reports at p99 in each direction
    // (a CPU-starved moment on this shared host; netab's runs flag a trial only beyond max(2 ms, 10 % of
    // the RTT)). Seen in CI: mean 102.3 ms at 100 ms with relay lateness p99 4.5 ms, floor within 0.24 ms.
    const spikes = s.forward.latenessMs.p99 + s.reverse.latenessMs.p99;
    expect(p.avg - baseRtt - rtt, why).toBeGreaterThanOrEqual(-1.5);
    expect(p.avg - baseRtt - rtt, why).toBeLessThanOrEqual(1.5 + spikes);
  });

  it.each([0.01, 0.05])('%s random loss: ping loss inside the binomial 99 %% interval, relay counts agree', async (loss) => {
    await configure({ loss }, {}, 7);
    const n = 3000;
    const p = await ping(tb, n, '0.001');
    const s = await tb.relay!.stats(true);
    const lost = p.sent - p.received;
    const [lo, hi] = binomial99(p.sent, loss);
    expect(lost, `lost ${lost} of ${p.sent}, 99 % interval [${lo}, ${hi}]`).toBeGreaterThanOrEqual(lo);
    expect(lost).toBeLessThanOrEqual(hi);
    expect(s.forward.drops.loss).toBe(lost);
    expect(s.forward.drops.kernel).toBe(0);
    expect(s.reverse.drops.loss).toBe(0);
  });

  it('Gilbert-Elliott loss: mean burst length near 1/r', async () => {
    const ge = { p: 0.02, r: 0.25, lossBad: 1, lossGood: 0 };
    await configure({ gemodel: ge }, {}, 3);
    const p = await ping(tb, 5000, '0.001');
    const got = new Set(p.seqs);
    const bursts: number[] = [];
    let run_ = 0;
    for (let seq = 1; seq <= p.sent; seq++) {
      if (!got.has(seq)) run_++;
      else if (run_ > 0) {
        bursts.push(run_);
        run_ = 0;
      }
    }
    if (run_ > 0) bursts.push(run_);
    const mean = bursts.reduce((a, b) => a + b, 0) / bursts.length;
    // ~90 bursts of geometric length (mean 4, sd 3.5): standard error ~0.37
    expect(bursts.length).toBeGreaterThan(50);
    expect(mean, `${bursts.length} bursts, mean ${mean}`).toBeGreaterThan(3);
    expect(mean).toBeLessThan(5);
    const lossRate = (p.sent - p.received) / p.sent;
    expect(lossRate).toBeGreaterThan(0.04);
    expect(lossRate).toBeLessThan(0.12); // p/(p+r) = 0.074
  });

  it("duplicates: ping's DUP! count inside the binomial 99 % interval", async () => {
    await configure({ duplicate: 0.05 }, {}, 5);
    const p = await ping(tb, 2000, '0.001');
    const s = await tb.relay!.stats(true);
    const [lo, hi] = binomial99(p.sent, 0.05);
    expect(p.received).toBe(p.sent);
    expect(p.duplicates).toBeGreaterThanOrEqual(lo);
    expect(p.duplicates).toBeLessThanOrEqual(hi);
    expect(s.forward.duplicates).toBe(p.duplicates);
    expect(s.forward.packetsOut).toBe(p.sent + p.duplicates);
  });

  it("reordering: the receiver's TCP sees out-of-order segments", async () => {
    await configure({ delayMs: 5, reorder: 0.25 }, { delayMs: 5 }, 9);
    const before = await nstat(tb.nsB);
    await run(['iperf3', '-s', '-1', '-D', '-B', TB.b.overlay], { netns: tb.nsB });
    await new Promise((r) => setTimeout(r, 300));
    await run(['iperf3', '-c', TB.b.overlay, '-t', '2', '-J'], { netns: tb.nsA, timeoutMs: 30_000 });
    const after = await nstat(tb.nsB);
    const s = await tb.relay!.stats(true);
    const ofo = (after.TcpExtTCPOFOQueue ?? 0) - (before.TcpExtTCPOFOQueue ?? 0);
    expect(s.forward.reorders).toBeGreaterThan(100);
    expect(s.forward.reorders / s.forward.packetsIn).toBeGreaterThan(0.2);
    expect(s.forward.reorders / s.forward.packetsIn).toBeLessThan(0.3);
    expect(ofo, 'TcpExtTCPOFOQueue on the receiver').toBeGreaterThan(0);
  });

  it('corruption: flipped bits are dropped by the receiver, relay counts them', async () => {
    await configure({ corrupt: 0.2 }, {}, 13);
    const before = await nstat(tb.nsB);
    const p = await ping(tb, 1000, '0.001');
    const after = await nstat(tb.nsB);
    const s = await tb.relay!.stats(true);
    const [lo, hi] = binomial99(1000, 0.2);
    expect(s.forward.corruptions).toBeGreaterThanOrEqual(lo);
    expect(s.forward.corruptions).toBeLessThanOrEqual(hi);
    // every corrupted request is lost or answered; most flips hit the payload or a checksum
    const lost = p.sent - p.received;
    expect(lost).toBeGreaterThan(s.forward.corruptions * 0.5);
    expect(lost).toBeLessThanOrEqual(s.forward.corruptions);
    const csum =
      (after.IcmpInCsumErrors ?? 0) - (before.IcmpInCsumErrors ?? 0) + (after.IpExtInCsumErrors ?? 0) - (before.IpExtInCsumErrors ?? 0);
    expect(csum).toBeGreaterThan(0);
  });

  it('50 Mbit/s bottleneck delivers 95-100 % of its rate to iperf3', async () => {
    const rate = 50e6;
    // 10 ms RTT, 2 BDP of buffer: cubic keeps the link busy through its sawtooth
    await configure({ delayMs: 5, rateBps: rate, bufferBytes: 125_000 }, { delayMs: 5 }, 1);
    await run(['iperf3', '-s', '-1', '-D', '-B', TB.b.overlay], { netns: tb.nsB });
    await new Promise((r) => setTimeout(r, 300));
    const c = await run(['iperf3', '-c', TB.b.overlay, '-t', '5', '-O', '1', '-J'], { netns: tb.nsA, timeoutMs: 60_000 });
    const s: RelayStats = await tb.relay!.stats(true);
    expect(s.kind).toBe('relay'); // how a trial tells relay telemetry from a kernel link's
    const j = JSON.parse(c.stdout) as { start: { tcp_mss_default: number }; end: { sum_received: { bits_per_second: number } } };
    const goodput = j.end.sum_received.bits_per_second;
    const mss = j.start.tcp_mss_default; // 1448 with timestamps
    // the rate counts inner Ethernet frames (netem's accounting): mss + 12 (TS) + 20 + 20 + 14 per segment
    const frameShare = mss / (mss + 66);
    const delivered = goodput / frameShare / rate;
    expect(
      delivered,
      `goodput ${(goodput / 1e6).toFixed(2)} Mbit/s, ${(delivered * 100).toFixed(1)} % of the rate in frame bytes`,
    ).toBeGreaterThanOrEqual(0.95);
    // Above 1 only by iperf3's own clock: the relay's limiter has no burst allowance, so the excess
    // is how much shorter the receiver's timed 5 s window (its timers, from the end of the omitted
    // second to the end message) came out than the data it counted. Allowance: 50 ms of timer
    // lateness over 5 s = 1 %. Measured with a CPU-bound job beside the test: 0.99995-1.00266 in 10
    // runs (8 of them within 0.00006 of 1), and 1.0054 once in 6 earlier runs (the old bound 1.005
    // failed on it).
    expect(delivered).toBeLessThanOrEqual(1.01);
    expect(goodput / rate).toBeGreaterThan(0.9);
    expect(s.forward.maxBacklogBytes).toBeGreaterThan(0);
    expect(s.forward.maxBacklogBytes).toBeLessThanOrEqual(125_000);
    // sojourn <= (buffer + one frame) / rate
    expect(s.forward.queueDelayMs.max).toBeLessThanOrEqual(((125_000 + 1514) * 8 * 1000) / rate);
    // the relay's own timing error is reported (not asserted: it depends on what else the host runs)
    expect(s.forward.latenessMs.count).toBe(s.forward.packetsOut);
  });

  it('the relay exits by itself when its stdin closes, and on SIGTERM', async () => {
    const r = tb.relay!;
    r.proc.closeStdin();
    const t0 = Date.now();
    const res = await Promise.race([r.proc.wait(), new Promise<null>((res_) => setTimeout(() => res_(null), 5000))]);
    expect(res, 'relay still running 5 s after stdin closed').not.toBeNull();
    expect(res!.exitCode).toBe(0);
    expect(Date.now() - t0).toBeLessThan(3000);
    tb.relay = null;
    // a fresh one, stopped with SIGTERM only
    const r2 = new RelayClient(tb.nsL, tb.relayConfig(), { script: RELAY });
    await r2.ready;
    const res2 = await r2.proc.stop(3000); // SIGTERM, SIGKILL only after 3 s
    expect(res2.exitCode).toBe(0);
    const pids = (await run(['ip', 'netns', 'pids', tb.nsL])).stdout.trim();
    expect(pids).toBe('');
  });
});
