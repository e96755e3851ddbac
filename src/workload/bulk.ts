/**
 * Bulk throughput with iperf3: a one-off server (-1) in the receiver namespace, the client in the
 * sender namespace, JSON output. Metrics per trial: goodput (Mbit/s received), retransmitted/sent
 * segments (kernel counters of the sender namespace), RTT p50/p99 under load (the sender's smoothed
 * RTT sampled every interval).
 */
import { readNsProcNet, run, spawn, type ChildProcess } from '../exec/index.js';
import type { BulkWorkload } from '../scenario/workloads.js';
import { quantileSorted } from './util.js';

export const IPERF_PORT = 5201;
const SERIES_MSS = 1448;

export interface BulkEndpoints {
  senderNs: string;
  receiverNs: string;
  receiverAddr: string;
}

export interface TrialOutput {
  metrics: Record<string, number | null>;
  series?: Record<string, number[]>;
  extra?: Record<string, unknown>;
}

/** TCP counters of a namespace from /proc/net/snmp, read by a process inside it. */
export async function tcpCounters(ns: string): Promise<Record<string, number>> {
  return parseSnmp(await readNsProcNet(ns, 'snmp'), 'Tcp');
}

export function parseSnmp(text: string, proto: string): Record<string, number> {
  const lines = text.split('\n').filter((l) => l.startsWith(`${proto}:`));
  if (lines.length < 2) return {};
  const names = lines[0]!.split(/\s+/).slice(1);
  const values = lines[1]!.split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, values[i]!]));
}

export async function flushTcpMetrics(ns: string): Promise<void> {
  await run(['ip', '-n', ns, 'tcp_metrics', 'flush', 'all'], { reject: false });
}

/** Wait until something listens on TCP `port` in `ns`. */
export async function waitListening(ns: string, port: number, timeoutMs = 5000, signal?: AbortSignal): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (signal?.aborted) throw new Error('aborted');
    const r = await run(['ss', '-Hltn', `sport = :${port}`], { netns: ns, reject: false });
    if (r.stdout.trim()) return;
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error(`nothing listens on port ${port} in ${ns} after ${timeoutMs} ms`);
}

interface IperfJson {
  error?: string;
  intervals?: { sum: { start: number; end: number; bits_per_second: number }; streams: { rtt?: number; snd_cwnd?: number }[] }[];
  end?: {
    sum_received?: { bits_per_second: number; bytes: number };
    sum_sent?: { bits_per_second: number; bytes: number; retransmits?: number };
    streams?: { sender?: { mean_rtt?: number; min_rtt?: number; max_rtt?: number } }[];
    sender_tcp_congestion?: string;
    receiver_tcp_congestion?: string;
  };
}

/** Reduce iperf3's JSON to trial metrics (pure; unit-tested). */
export function reduceIperf(j: IperfJson, counters?: { outSegs: number; retransSegs: number }): TrialOutput {
  if (j.error) throw new Error(`iperf3: ${j.error}`);
  const end = j.end ?? {};
  const goodput = end.sum_received ? end.sum_received.bits_per_second / 1e6 : null;
  const rtts: number[] = [];
  const t: number[] = [];
  const gp: number[] = [];
  const cwnd: number[] = [];
  const rttSeries: number[] = [];
  for (const iv of j.intervals ?? []) {
    t.push(+iv.sum.end.toFixed(3));
    gp.push(+(iv.sum.bits_per_second / 1e6).toFixed(3));
    const srtts = iv.streams.map((s) => s.rtt).filter((x): x is number => typeof x === 'number' && x > 0);
    for (const r of srtts) rtts.push(r / 1000);
    rttSeries.push(srtts.length ? +(srtts.reduce((a, b) => a + b, 0) / srtts.length / 1000).toFixed(3) : NaN);
    const cw = iv.streams.map((s) => s.snd_cwnd).filter((x): x is number => typeof x === 'number');
    // iperf3 reports snd_cwnd in bytes; the series is in full-size segments
    cwnd.push(cw.length ? +(cw.reduce((a, b) => a + b, 0) / SERIES_MSS).toFixed(1) : NaN);
  }
  rtts.sort((a, b) => a - b);
  const retrans =
    counters && counters.outSegs > 0 ? counters.retransSegs / counters.outSegs : null;
  return {
    metrics: {
      goodput,
      retrans,
      rtt_p50: rtts.length ? quantileSorted(rtts, 0.5) : null,
      rtt_p99: rtts.length ? quantileSorted(rtts, 0.99) : null,
    },
    series: { t, goodput: gp, rtt: rttSeries, cwnd },
    extra: {
      bytesReceived: end.sum_received?.bytes,
      retransmits: end.sum_sent?.retransmits,
      meanRttMs: end.streams?.[0]?.sender?.mean_rtt !== undefined ? end.streams[0].sender.mean_rtt / 1000 : undefined,
      minRttMs: end.streams?.[0]?.sender?.min_rtt !== undefined ? end.streams[0].sender.min_rtt / 1000 : undefined,
      senderCongestion: end.sender_tcp_congestion,
      receiverCongestion: end.receiver_tcp_congestion,
      outSegs: counters?.outSegs,
      retransSegs: counters?.retransSegs,
    },
  };
}

/**
 * iperf3 servers that stay up for a scenario's trials (one per receiver), instead of a one-off
 * server per trial: a process start and a listen-wait less per trial (0.5-1 s inside an emulated
 * VM). iperf3's server resets between tests; a server whose test failed is replaced before the next.
 */
export class IperfServers {
  private readonly servers = new Map<string, ChildProcess>();
  constructor(private readonly onStart: (pid: number) => void = () => {}) {}

  async ensure(ns: string, addr: string, signal?: AbortSignal): Promise<void> {
    const key = `${ns} ${addr}`;
    const cur = this.servers.get(key);
    if (cur && !cur.exited) return;
    const server = spawn(['iperf3', '-s', '-p', String(IPERF_PORT), '-B', addr], { netns: ns });
    this.servers.set(key, server);
    if (server.pid !== undefined) this.onStart(server.pid);
    try {
      await waitListening(ns, IPERF_PORT, 10000, signal);
    } catch (e) {
      await this.drop(ns, addr);
      throw e;
    }
  }

  /** Stop the server of this receiver (after a failed test; the next ensure() starts a new one). */
  async drop(ns: string, addr: string): Promise<void> {
    const key = `${ns} ${addr}`;
    const s = this.servers.get(key);
    this.servers.delete(key);
    if (s && !s.exited) await s.stop(300);
  }

  async close(): Promise<void> {
    const all = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(all.map((s) => (s.exited ? null : s.stop(300))));
  }
}

export async function runBulkTrial(
  ep: BulkEndpoints,
  w: BulkWorkload,
  opts: { timeoutMs: number; signal?: AbortSignal; expectCC?: string; servers?: IperfServers },
): Promise<TrialOutput> {
  await Promise.all([flushTcpMetrics(ep.senderNs), flushTcpMetrics(ep.receiverNs)]);
  if (opts.servers) {
    let ok = false;
    try {
      await opts.servers.ensure(ep.receiverNs, ep.receiverAddr, opts.signal);
      const out = await bulkClient(ep, w, opts);
      ok = true;
      return out;
    } finally {
      if (!ok) await opts.servers.drop(ep.receiverNs, ep.receiverAddr);
    }
  }
  const server = spawn(['iperf3', '-s', '-1', '-p', String(IPERF_PORT), '-B', ep.receiverAddr], { netns: ep.receiverNs });
  const onAbort = () => void server.stop(200);
  opts.signal?.addEventListener('abort', onAbort);
  try {
    await waitListening(ep.receiverNs, IPERF_PORT, 5000, opts.signal);
    return await bulkClient(ep, w, opts);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    if (!server.exited) await server.stop(500);
  }
}

async function bulkClient(
  ep: BulkEndpoints,
  w: BulkWorkload,
  opts: { timeoutMs: number; signal?: AbortSignal; expectCC?: string },
): Promise<TrialOutput> {
  const before = await tcpCounters(ep.senderNs);
  const client = await run(
    [
      'iperf3', '-c', ep.receiverAddr, '-p', String(IPERF_PORT), '-J',
      '-t', String(w.durationS + w.omitS), '-O', String(w.omitS), '-P', String(w.flows),
      '-i', String(w.intervalS), '--connect-timeout', '3000',
    ],
    { netns: ep.senderNs, timeoutMs: opts.timeoutMs, reject: false, signal: opts.signal },
  );
  const after = await tcpCounters(ep.senderNs);
  let json: IperfJson;
  try {
    json = JSON.parse(client.stdout) as IperfJson;
  } catch {
    throw new Error(
      client.timedOut
        ? `iperf3 client timed out after ${opts.timeoutMs} ms`
        : `iperf3 client exit ${client.exitCode}: ${(client.stderr || client.stdout).trim().slice(0, 300)}`,
    );
  }
  const out = reduceIperf(json, {
    outSegs: (after.OutSegs ?? 0) - (before.OutSegs ?? 0),
    retransSegs: (after.RetransSegs ?? 0) - (before.RetransSegs ?? 0),
  });
  if (opts.expectCC && json.end?.sender_tcp_congestion && json.end.sender_tcp_congestion !== opts.expectCC)
    throw new Error(`sender used ${json.end.sender_tcp_congestion}, the profile says ${opts.expectCC}`);
  return out;
}
