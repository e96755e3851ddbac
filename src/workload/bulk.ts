/**
 * Bulk throughput with iperf3: a one-off server (-1) in the receiver namespace, the client in the
 * sender namespace, JSON output. Metrics per trial: goodput (Mbit/s received), retransmitted/sent
 * segments (kernel counters of the sender namespace), RTT p50/p99 under load (the sender's smoothed
 * RTT sampled every interval).
 */
import { run, spawn } from '../exec/index.js';
import { inVm } from '../host.js';
import { WORKLOAD_METRICS } from '../scenario/metrics.js';
import type { BulkWorkload } from '../scenario/workloads.js';
import { bulkEnds, ccOf } from './hosts.js';
import { IPERF_PORT, iperfServerArgv, type IperfServers } from './iperf.js';
import { waitListening } from '../exec/listen.js';
import { flushTcpMetrics, tcpCounters } from './tcp.js';
import { sampleRxBytes, sampleSs, ssSeries } from './telemetry.js';
import type { BulkEndpoints, TrialOutput, WorkloadDef } from './types.js';
import { quantileSorted } from '../stats/quantile.js';

const SERIES_MSS = 1448;

interface IperfInterval {
  sum: { start: number; end: number; bits_per_second: number; omitted?: boolean };
  streams: { rtt?: number; snd_cwnd?: number }[];
}

interface IperfJson {
  error?: string;
  intervals?: IperfInterval[];
  end?: {
    sum_received?: { bits_per_second: number; bytes: number };
    sum_sent?: { bits_per_second: number; bytes: number; retransmits?: number };
    streams?: { sender?: { mean_rtt?: number; min_rtt?: number; max_rtt?: number } }[];
    sender_tcp_congestion?: string;
    receiver_tcp_congestion?: string;
  };
  /** the server's own report (client --get-server-output, server -J): receiver-side intervals */
  server_output_json?: { intervals?: IperfInterval[] };
}

/**
 * Seconds since the test started at the end of each interval: iperf3 restarts its clock after the
 * omitted (-O) intervals, so the later ones are shifted by the end of the last omitted one.
 */
function intervalEnds(ivs: IperfInterval[]): number[] {
  let omitEnd = 0;
  return ivs.map((iv) => {
    if (iv.sum.omitted) omitEnd = iv.sum.end;
    return +((iv.sum.omitted ? 0 : omitEnd) + iv.sum.end).toFixed(3);
  });
}

/** Reduce iperf3's JSON to trial metrics (pure; unit-tested). */
export function reduceIperf(j: IperfJson, counters?: { outSegs: number; retransSegs: number }): TrialOutput {
  if (j.error) throw new Error(`iperf3: ${j.error}`);
  const end = j.end ?? {};
  const goodput = end.sum_received ? end.sum_received.bits_per_second / 1e6 : null;
  const rtts: number[] = [];
  const ivs = j.intervals ?? [];
  const t = intervalEnds(ivs);
  const cwnd: number[] = [];
  const rttSeries: number[] = [];
  for (const iv of ivs) {
    const srtts = iv.streams.map((s) => s.rtt).filter((x): x is number => typeof x === 'number' && x > 0);
    for (const r of srtts) rtts.push(r / 1000);
    rttSeries.push(srtts.length ? +(srtts.reduce((a, b) => a + b, 0) / srtts.length / 1000).toFixed(3) : NaN);
    const cw = iv.streams.map((s) => s.snd_cwnd).filter((x): x is number => typeof x === 'number');
    // iperf3 reports snd_cwnd in bytes; the series is in full-size segments
    cwnd.push(cw.length ? +(cw.reduce((a, b) => a + b, 0) / SERIES_MSS).toFixed(1) : NaN);
  }
  rtts.sort((a, b) => a - b);
  // goodput over time where it is delivered: the server's intervals count bytes the receiver read.
  // (The client's count bytes written into the socket buffer: bursts of 2-7x the link rate.)
  const rx = j.server_output_json?.intervals ?? [];
  const rxSeries: Record<string, number[]> = rx.length
    ? { rx_t: intervalEnds(rx), rx_goodput: rx.map((iv) => +(iv.sum.bits_per_second / 1e6).toFixed(3)) }
    : {};
  const retrans = counters && counters.outSegs > 0 ? counters.retransSegs / counters.outSegs : null;
  return {
    metrics: {
      goodput,
      retrans,
      rtt_p50: rtts.length ? quantileSorted(rtts, 0.5) : null,
      rtt_p99: rtts.length ? quantileSorted(rtts, 0.99) : null,
    },
    series: { t, rtt: rttSeries, cwnd, ...rxSeries },
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

export async function runBulkTrial(
  ep: BulkEndpoints,
  w: BulkWorkload,
  opts: {
    timeoutMs: number;
    signal?: AbortSignal;
    expectCC?: string;
    servers?: IperfServers;
    started?: (trigger?: 'data') => Promise<void>;
  },
): Promise<TrialOutput> {
  const flushed = Promise.all([flushTcpMetrics(ep.senderNs), flushTcpMetrics(ep.receiverNs)]);
  if (opts.servers) {
    let ok = false;
    try {
      // the kept-up server (a check when it runs) while the namespaces' tcp_metrics are flushed
      await Promise.all([flushed, opts.servers.ensure(ep.receiverNs, ep.receiverAddr, opts.signal, w.intervalS)]);
      const out = await bulkClient(ep, w, opts);
      ok = true;
      return out;
    } finally {
      if (!ok) await opts.servers.drop(ep.receiverNs, ep.receiverAddr);
    }
  }
  await flushed;
  const server = spawn(iperfServerArgv(ep.receiverAddr, w.intervalS, true), { netns: ep.receiverNs });
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
  opts: { timeoutMs: number; signal?: AbortSignal; expectCC?: string; started?: (trigger?: 'data') => Promise<void> },
): Promise<TrialOutput> {
  const before = await tcpCounters(ep.senderNs);
  // scheduled links: time zero is iperf3's first data segment (its test clock starts then), not
  // the client's start, which precedes it by the control handshake (a few RTTs)
  await opts.started?.('data');
  const t0 = performance.now();
  const client = await run(
    [
      'iperf3',
      '-c',
      ep.receiverAddr,
      '-p',
      String(IPERF_PORT),
      '-J',
      '-t',
      String(w.durationS + w.omitS),
      '-O',
      String(w.omitS),
      '-P',
      String(w.flows),
      '-i',
      String(w.intervalS),
      '--connect-timeout',
      '3000',
      '--get-server-output',
    ],
    { netns: ep.senderNs, timeoutMs: opts.timeoutMs, reject: false, signal: opts.signal },
  );
  const clientMs = Math.round(performance.now() - t0);
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
  // the client's wall time: the test plus iperf3's own exchanges over the path (about 7 round trips)
  out.extra = { ...out.extra, clientMs };
  if (opts.expectCC && json.end?.sender_tcp_congestion && json.end.sender_tcp_congestion !== opts.expectCC)
    throw new Error(`sender used ${json.end.sender_tcp_congestion}, the profile says ${opts.expectCC}`);
  return out;
}

/** The registry entry: iperf3 from the arm's sender to its receiver, `ss -tin` sampled every 100 ms. */
export const bulk: WorkloadDef<BulkWorkload> = {
  type: 'bulk',
  metrics: WORKLOAD_METRICS.bulk!,
  async trial(w, c) {
    const h = c.hosts[c.arm];
    const signal = c.signal;
    const ends = bulkEnds(h);
    const o = { timeoutMs: c.s.trials.timeoutMs, signal, expectCC: ccOf(c.profiles[c.arm]), servers: c.servers?.iperf, started: c.started };
    // what arrives at the receiver, every interval: the goodput-over-time chart's series
    const rx = sampleRxBytes(h.receiver.ns, Math.round(w.intervalS * 1000), signal);
    const withRx = async (out: TrialOutput) => {
      const r = await rx.stop();
      return r.t.length ? { ...out, series: { ...out.series, wire_t: r.t, wire_rx: r.mbit } } : out;
    };
    try {
      // Inside the emulated VM every ss snapshot is a process start (~0.8 s there): a handful of
      // samples per trial, taken on the CPUs the flows need. There, iperf3's own per-interval
      // RTT/cwnd series (from the same tcp_info) stand alone.
      if (inVm()) return await withRx(await runBulkTrial(ends, w, o));
      // iperf3's data connections (not its control connection, which carries a few hundred bytes)
      const sampler = sampleSs(h.sender.ns, ['dport', '=', `:${IPERF_PORT}`], 100, signal);
      try {
        const out = await runBulkTrial(ends, w, o);
        const ss = ssSeries(await sampler.stop(), (x) => (x.bytesAcked ?? 0) > 65536);
        for (const [k, v] of Object.entries(ss)) if (v.length) out.series = { ...out.series, [`ss_${k}`]: v };
        return await withRx(out);
      } finally {
        await sampler.stop();
      }
    } finally {
      await rx.stop();
    }
  },
};
