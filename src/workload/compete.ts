/**
 * `compete`: both arms' bulk flows at the same time through the shared bottleneck (each arm has its
 * own sender and receiver hosts behind the same routers), plus a control-alone baseline in the same
 * trial. iperf3 as for bulk: one server per receiver (control port 5201, canary 5202, each a one-off
 * server started with -J so the client's --get-server-output carries the receiver-side intervals).
 *
 * A trial:
 *   1. baseline: control's flows alone for `duration`
 *   2. compete: control's flows start at 0 and run stagger + duration; canary's flows start after
 *      `stagger` and run `duration`
 * Goodputs are receiver-side bytes inside the measurement window (the overlap, minus `omit` at its
 * start), prorated over iperf3's receiver intervals. Metrics:
 *   share_canary   canary goodput / (canary + control goodput) while competing
 *   jain           Jain's fairness index over every flow's goodput (both arms) while competing
 *   control_harm   1 - control goodput with the canary present / control goodput alone (lower is better)
 */
import { run, spawn } from '../exec/index.js';
import { WORKLOAD_METRICS } from '../scenario/metrics.js';
import type { CompeteWorkload } from '../scenario/workloads.js';
import { bulkEnds, ccOf } from './hosts.js';
import { waitListening } from '../exec/listen.js';
import { flushTcpMetrics, tcpCounters } from './tcp.js';
import type { BulkEndpoints, TrialOutput, WorkloadDef } from './types.js';

export const COMPETE_PORTS = { control: 5201, canary: 5202 } as const;

export interface CompeteArms {
  control: BulkEndpoints;
  canary: BulkEndpoints;
}

export interface CompeteOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** congestion control each arm's sender must report (a mismatch fails the trial) */
  expectCC?: { control?: string; canary?: string };
}

/** Jain's fairness index (Σx)² / (n·Σx²): 1 = equal shares, 1/n = one flow takes everything. */
export function jainIndex(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = xs.reduce((a, b) => a + b, 0);
  const s2 = xs.reduce((a, b) => a + b * b, 0);
  return s2 > 0 ? (s * s) / (xs.length * s2) : null;
}

interface IvStream {
  socket?: number;
  start: number;
  end: number;
  bytes: number;
}
export interface IperfRun {
  error?: string;
  start?: { connected?: { socket: number }[] };
  end?: {
    sender_tcp_congestion?: string;
    streams?: { receiver?: { socket?: number; bytes: number; seconds?: number; bits_per_second: number } }[];
  };
  server_output_json?: { error?: string; intervals?: { streams: IvStream[] }[] };
}

/**
 * Per-flow receiver-side goodput (Mbit/s) within [from, to] seconds of the run (pure; unit-tested):
 * bytes of each receiver interval are counted in proportion to its overlap with the window. Without
 * server intervals, falls back to the receiver summary of the whole run.
 */
export function flowGoodputs(j: IperfRun, from: number, to: number): number[] {
  const ivs = j.server_output_json?.intervals;
  if (ivs?.length && to > from) {
    const bytes = new Map<number, number>();
    for (const iv of ivs)
      for (const [idx, s] of iv.streams.entries()) {
        const key = s.socket ?? idx;
        const len = s.end - s.start;
        const ov = Math.max(0, Math.min(to, s.end) - Math.max(from, s.start));
        const add = len > 0 ? (s.bytes * ov) / len : 0;
        bytes.set(key, (bytes.get(key) ?? 0) + add);
      }
    return [...bytes.values()].map((b) => (b * 8) / (to - from) / 1e6);
  }
  return (j.end?.streams ?? []).map((s) => (s.receiver ? s.receiver.bits_per_second / 1e6 : 0));
}

/** Per-interval arm totals (Mbit/s) from the receiver intervals, shifted by `offset` s: a chart series. */
export function armSeries(j: IperfRun, offset: number): { t: number[]; mbit: number[] } {
  const t: number[] = [];
  const mbit: number[] = [];
  for (const iv of j.server_output_json?.intervals ?? []) {
    if (!iv.streams.length) continue;
    const s0 = iv.streams[0]!;
    const secs = s0.end - s0.start;
    if (secs <= 0) continue;
    t.push(+(s0.end + offset).toFixed(3));
    mbit.push(+((iv.streams.reduce((a, s) => a + s.bytes, 0) * 8) / secs / 1e6).toFixed(3));
  }
  return { t, mbit };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** Compete metrics from per-flow goodputs (pure; unit-tested). */
export function reduceCompete(control: number[], canary: number[], controlAlone: number[] | null): TrialOutput['metrics'] {
  const c = sum(control);
  const k = sum(canary);
  const alone = controlAlone ? sum(controlAlone) : null;
  return {
    share_canary: c + k > 0 ? r4(k / (c + k)) : null,
    jain: (() => {
      const j = jainIndex([...control, ...canary]);
      return j === null ? null : r4(j);
    })(),
    control_harm: alone !== null && alone > 0 ? r4(1 - c / alone) : null,
    goodput_control: r4(c),
    goodput_canary: r4(k),
    goodput_control_alone: alone === null ? null : r4(alone),
  };
}

async function startServer(ep: BulkEndpoints, port: number, intervalS: string, signal?: AbortSignal) {
  const server = spawn(['iperf3', '-s', '-1', '-J', '-i', intervalS, '-p', String(port), '-B', ep.receiverAddr], {
    netns: ep.receiverNs,
    signal,
  });
  try {
    await waitListening(ep.receiverNs, port, 5000, signal);
  } catch (e) {
    await server.stop(200);
    throw e;
  }
  return server;
}

async function iperfClient(
  ep: BulkEndpoints,
  port: number,
  seconds: number,
  flows: number,
  intervalS: string,
  opts: CompeteOptions,
): Promise<IperfRun> {
  const r = await run(
    [
      'iperf3',
      '-c',
      ep.receiverAddr,
      '-p',
      String(port),
      '-J',
      '--get-server-output',
      '-t',
      seconds.toFixed(3),
      '-P',
      String(flows),
      '-i',
      intervalS,
      '--connect-timeout',
      '3000',
    ],
    { netns: ep.senderNs, timeoutMs: opts.timeoutMs, reject: false, signal: opts.signal },
  );
  let j: IperfRun;
  try {
    j = JSON.parse(r.stdout) as IperfRun;
  } catch {
    throw new Error(
      r.timedOut
        ? `iperf3 client timed out after ${opts.timeoutMs} ms`
        : `iperf3 client exit ${r.exitCode}: ${(r.stderr || r.stdout).trim().slice(0, 300)}`,
    );
  }
  if (j.error) throw new Error(`iperf3 (port ${port}): ${j.error}`);
  return j;
}

const delay = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((res, rej) => {
    if (signal?.aborted) return rej(new Error('aborted'));
    const t = setTimeout(res, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        rej(new Error('aborted'));
      },
      { once: true },
    );
  });

// Long by design: alone, then together, then the measurements, in the order the trial runs them.
export async function runCompeteTrial(arms: CompeteArms, w: CompeteWorkload, opts: CompeteOptions): Promise<TrialOutput> {
  const ivS = (Math.max(100, w.intervalMs) / 1000).toFixed(3);
  const dur = w.durationMs / 1000;
  const stagger = w.staggerMs / 1000;
  const omit = Math.min(w.omitMs / 1000, dur);
  const nss = [arms.control.senderNs, arms.control.receiverNs, arms.canary.senderNs, arms.canary.receiverNs];
  const flush = () => Promise.all(nss.map((ns) => flushTcpMetrics(ns)));

  // 1. control alone
  let alone: number[] | null = null;
  let aloneRun: IperfRun | null = null;
  if (w.baseline) {
    await flush();
    const srv = await startServer(arms.control, COMPETE_PORTS.control, ivS, opts.signal);
    try {
      aloneRun = await iperfClient(arms.control, COMPETE_PORTS.control, dur, w.flowsPerArm, ivS, opts);
      alone = flowGoodputs(aloneRun, omit, dur);
    } finally {
      if (!srv.exited) await srv.stop(500);
    }
  }

  // 2. both arms
  await flush();
  const servers = [
    await startServer(arms.control, COMPETE_PORTS.control, ivS, opts.signal),
    await startServer(arms.canary, COMPETE_PORTS.canary, ivS, opts.signal),
  ];
  try {
    const before = await Promise.all([tcpCounters(arms.control.senderNs), tcpCounters(arms.canary.senderNs)]);
    const ctl = iperfClient(arms.control, COMPETE_PORTS.control, stagger + dur, w.flowsPerArm, ivS, opts);
    ctl.catch(() => {});
    const can = (async () => {
      if (stagger > 0) await delay(w.staggerMs, opts.signal);
      return iperfClient(arms.canary, COMPETE_PORTS.canary, dur, w.flowsPerArm, ivS, opts);
    })();
    can.catch(() => {});
    const [cj, kj] = await Promise.all([ctl, can]);
    const after = await Promise.all([tcpCounters(arms.control.senderNs), tcpCounters(arms.canary.senderNs)]);
    for (const [arm, j] of [
      ['control', cj],
      ['canary', kj],
    ] as const) {
      const want = opts.expectCC?.[arm];
      const got = j.end?.sender_tcp_congestion;
      if (want && got && want !== got) throw new Error(`${arm} sender used ${got}, the profile says ${want}`);
    }
    const control = flowGoodputs(cj, stagger + omit, stagger + dur);
    const canary = flowGoodputs(kj, omit, dur);
    const metrics = reduceCompete(control, canary, alone);
    const cs = armSeries(cj, 0);
    const ks = armSeries(kj, stagger);
    const retrans = (i: 0 | 1) => {
      const o = (after[i].OutSegs ?? 0) - (before[i].OutSegs ?? 0);
      const r = (after[i].RetransSegs ?? 0) - (before[i].RetransSegs ?? 0);
      return o > 0 ? r / o : null;
    };
    const aloneSeries = aloneRun ? armSeries(aloneRun, 0) : null;
    return {
      metrics,
      series: {
        flow_goodput_control: control.map((x) => +x.toFixed(3)),
        flow_goodput_canary: canary.map((x) => +x.toFixed(3)),
        t_control: cs.t,
        goodput_control: cs.mbit,
        t_canary: ks.t,
        goodput_canary: ks.mbit,
        ...(aloneSeries ? { t_alone: aloneSeries.t, goodput_alone: aloneSeries.mbit } : {}),
      },
      extra: {
        flowsPerArm: w.flowsPerArm,
        window: { control: [stagger + omit, stagger + dur], canary: [omit, dur] },
        controlAloneFlows: alone?.map((x) => +x.toFixed(3)),
        retransControl: retrans(0),
        retransCanary: retrans(1),
        senderCongestion: { control: cj.end?.sender_tcp_congestion, canary: kj.end?.sender_tcp_congestion },
      },
    };
  } finally {
    for (const s of servers) if (!s.exited) await s.stop(500);
  }
}

/**
 * The registry entry: control's flows share the bottleneck with a competitor: in the control trial a
 * second control-profile pair (the peer hosts), in the canary trial the canary arm; so control_harm
 * compares "harm by the canary" with "harm by a control peer".
 */
export const compete: WorkloadDef<CompeteWorkload> = {
  type: 'compete',
  metrics: WORKLOAD_METRICS.compete!,
  async trial(w, c) {
    const competitor = c.arm === 'canary' ? c.hosts.canary : c.peer!;
    const out = await runCompeteTrial({ control: bulkEnds(c.hosts.control), canary: bulkEnds(competitor) }, w, {
      timeoutMs: c.s.trials.timeoutMs,
      signal: c.signal,
      expectCC: { control: ccOf(c.profiles.control), canary: ccOf(c.arm === 'canary' ? c.profiles.canary : c.profiles.control) },
    });
    out.extra = { ...out.extra, competitor: c.arm === 'canary' ? 'canary arm' : 'control-profile peer' };
    return out;
  },
};
