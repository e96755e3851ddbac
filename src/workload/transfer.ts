/**
 * Short-flow workloads on netab's own transfer tool (transfer-main.ts): the server runs in the
 * *sender* namespace (the tuned host that sends the data), the client in the *receiver* namespace.
 *
 *   fct       a fresh connection per transfer; request -> response of N bytes (fixed or drawn from a
 *             weighted size list); metrics fct_p50, fct_p99, ttfb_p50 (ms), retrans
 *   rr        request/response exchanges over one persistent connection; rr_p50, rr_p99 (ms), retrans
 *   pageload  n objects over k parallel fresh connections, time to the last byte; plt (ms), retrans
 *
 * Each trial flushes tcp_metrics in both namespaces, reads the server namespace's TCP counters
 * before and after (retrans = RetransSegs / OutSegs, as for bulk), and takes one `ss -tin` snapshot
 * of the last connection(s) on the server side before they close (extra.ss).
 */
import { spawn } from '../exec/index.js';
import { WORKLOAD_METRICS } from '../scenario/metrics.js';
import type { FctWorkload, PageloadWorkload, RrWorkload, SizeWeight } from '../scenario/workloads.js';
import { mulberry32 } from '../stats/random.js';
import { flushTcpMetrics, tcpCounters } from './tcp.js';
import { serverClientEnds } from './hosts.js';
import type { TransferClientPool, TransferServer, TransferServerPool, TrialOutput, WorkloadDef, WorkloadRun } from './types.js';
import { startTransferServer, transferScript } from './transfer-server.js';
import { ssOnce, type SsSample } from './telemetry.js';
import type { ClientConfig, ClientResult } from './transfer-protocol.js';
import { HEADER_BYTES } from './transfer-protocol.js';
import { quantileSorted } from '../stats/quantile.js';

/** Port of the transfer server (in the sender namespace). */
export const TRANSFER_PORT = 5401;

export interface TransferEndpoints {
  /** the sender namespace: runs the server, which sends the responses */
  serverNs: string;
  serverAddr: string;
  /** the receiver namespace: runs the client */
  clientNs: string;
}

export interface TransferOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * fct with a size distribution: the seed of the size draw. Give both arms of a pair the same seed
   * (e.g. scenario seed ^ pair index) so they transfer the same sizes in the same order.
   */
  seed?: number;
  port?: number;
  /** one-shot ss snapshot of the last connection(s) on the server side (default true) */
  ssSnapshot?: boolean;
  /** servers kept up across a scenario's trials (else one per trial) */
  servers?: TransferServerPool;
  /** clients kept up across a scenario's trials (else one process per trial) */
  clients?: TransferClientPool;
}

// ------------------------------------------------------------------------------ pure helpers

/**
 * `n` response sizes for a trial (pure; unit-tested). A single size is used as is; a list is a
 * weighted distribution sampled with mulberry32(seed): draw u in [0,1), pick the first entry whose
 * cumulative weight exceeds u * total weight.
 */
export function sampleSizes(sizes: SizeWeight[], n: number, seed: number): number[] {
  if (sizes.length === 0) throw new Error('fct: no sizes');
  for (const s of sizes) if (!(s.bytes >= 1) || !(s.weight >= 0)) throw new Error(`fct: bad size entry ${JSON.stringify(s)}`);
  if (sizes.length === 1) return Array(n).fill(sizes[0]!.bytes) as number[];
  const total = sizes.reduce((a, s) => a + s.weight, 0);
  if (!(total > 0)) throw new Error('fct: size weights sum to 0');
  const rng = mulberry32(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = rng() * total;
    let acc = 0;
    let pick = sizes[sizes.length - 1]!.bytes;
    for (const s of sizes) {
      acc += s.weight;
      if (u < acc) {
        pick = s.bytes;
        break;
      }
    }
    out.push(pick);
  }
  return out;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** p50 / p99 / mean of a sample (R type-7 quantiles, like every netab metric). */
export function summarise(xs: number[]): { p50: number | null; p99: number | null; mean: number | null; n: number } {
  if (xs.length === 0) return { p50: null, p99: null, mean: null, n: 0 };
  const s = [...xs].sort((a, b) => a - b);
  return {
    p50: r3(quantileSorted(s, 0.5)),
    p99: r3(quantileSorted(s, 0.99)),
    mean: r3(s.reduce((a, b) => a + b, 0) / s.length),
    n: s.length,
  };
}

export interface Counters {
  outSegs: number;
  retransSegs: number;
}

export function retransRatio(c?: Counters): number | null {
  return c && c.outSegs > 0 ? c.retransSegs / c.outSegs : null;
}

function checkResult(r: ClientResult): void {
  if (r.error) throw new Error(`transfer client: ${r.error}`);
}

/** ClientResult of an fct run -> trial output (pure; unit-tested). */
export function reduceFct(r: ClientResult, counters?: Counters, ss?: SsSample[]): TrialOutput {
  checkResult(r);
  const t = r.transfers ?? [];
  const fct = summarise(t.map((x) => x.fctMs));
  const ttfb = summarise(t.map((x) => x.ttfbMs));
  const conn = summarise(t.map((x) => x.connectMs));
  const total = summarise(t.map((x) => x.totalMs));
  return {
    metrics: { fct_p50: fct.p50, fct_p99: fct.p99, ttfb_p50: ttfb.p50, retrans: retransRatio(counters) },
    series: {
      size: t.map((x) => x.bytes),
      fct: t.map((x) => x.fctMs),
      ttfb: t.map((x) => x.ttfbMs),
      connect: t.map((x) => x.connectMs),
    },
    extra: {
      transfers: t.length,
      bytes: t.reduce((a, x) => a + x.bytes, 0),
      fctMean: fct.mean,
      connectP50: conn.p50,
      totalP50: total.p50,
      totalP99: total.p99,
      outSegs: counters?.outSegs,
      retransSegs: counters?.retransSegs,
      ...(ss ? { ss } : {}),
    },
  };
}

export function reduceRr(r: ClientResult, counters?: Counters, ss?: SsSample[]): TrialOutput {
  checkResult(r);
  const e = r.exchanges ?? [];
  const lat = summarise(e.map((x) => x.latencyMs));
  return {
    metrics: { rr_p50: lat.p50, rr_p99: lat.p99, retrans: retransRatio(counters) },
    series: { rr: e.map((x) => x.latencyMs) },
    extra: {
      exchanges: e.length,
      rrMean: lat.mean,
      connectMs: r.connectMs,
      ttfbP50: summarise(e.map((x) => x.ttfbMs)).p50,
      outSegs: counters?.outSegs,
      retransSegs: counters?.retransSegs,
      ...(ss ? { ss } : {}),
    },
  };
}

export function reducePageload(r: ClientResult, counters?: Counters, ss?: SsSample[]): TrialOutput {
  checkResult(r);
  const p = r.pages ?? [];
  const plt = summarise(p.map((x) => x.pltMs));
  return {
    metrics: { plt: plt.mean, retrans: retransRatio(counters) },
    series: { plt: p.map((x) => x.pltMs) },
    extra: {
      pages: p.length,
      pltP50: plt.p50,
      objectsPerPage: p[0]?.objects.length,
      connectionsPerPage: p[0]?.connectMs.length,
      connectP50: summarise(p.flatMap((x) => x.connectMs)).p50,
      lastPage: p.length ? p[p.length - 1] : undefined,
      outSegs: counters?.outSegs,
      retransSegs: counters?.retransSegs,
      ...(ss ? { ss } : {}),
    },
  };
}

// ------------------------------------------------------------------------------ running

/** `ss -tin` of the server's connections once nothing is left unacknowledged (at most `maxMs`). */
async function settledSnapshot(ns: string, port: number, maxMs = 3000): Promise<SsSample[]> {
  const until = Date.now() + maxMs;
  let ss = await ssOnce(ns, ['sport', '=', `:${port}`]);
  while (ss.some((s) => s.sendQ > 0 || (s.unacked ?? 0) > 0) && Date.now() < until) {
    await new Promise((res) => setTimeout(res, 10));
    ss = await ssOnce(ns, ['sport', '=', `:${port}`]);
  }
  return ss;
}

export interface RawTransfer {
  result: ClientResult;
  counters: Counters;
  ss?: SsSample[];
  server: Record<string, unknown> | null;
}

/** The client kept up for the scenario runs this trial's exchanges; the snapshot, then release. */
async function keptClient(
  pool: TransferClientPool,
  ep: TransferEndpoints,
  full: ClientConfig,
  opts: TransferOptions,
): Promise<{ result: ClientResult; ss?: SsSample[] }> {
  const client = await pool.ensure(ep.clientNs);
  const result = await client.run(full, opts.timeoutMs, opts.signal);
  if (result.error) {
    await client.stop(); // it exits after a failed job; the next trial starts a new one
    return { result };
  }
  const ss = full.hold ? await settledSnapshot(ep.serverNs, full.port) : undefined;
  await client.release();
  return { result, ss };
}

/** One client process for this trial: its result line, the snapshot while it holds the connections, its exit. */
async function oneShotClient(
  ep: TransferEndpoints,
  full: ClientConfig,
  opts: TransferOptions,
): Promise<{ result: ClientResult; ss?: SsSample[] }> {
  let result: ClientResult | null = null;
  let gotResult!: () => void;
  const resultLine = new Promise<void>((res) => (gotResult = res));
  const client = spawn([process.execPath, transferScript(), 'client', JSON.stringify(full)], {
    netns: ep.clientNs,
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
    onLine: (line) => {
      try {
        const m = JSON.parse(line) as ClientResult;
        if (m && typeof m === 'object' && 'mode' in m) {
          result = m;
          gotResult();
        }
      } catch {
        /* not ours */
      }
    },
  });
  let ss: SsSample[] | undefined;
  try {
    const exited = client.wait();
    await Promise.race([resultLine, exited]);
    if (result && !(result as ClientResult).error && full.hold) {
      // the last connection(s) are still open: one tcp_info snapshot on the sending side, once
      // the client's final ACKs are in (the last byte reached the client, its ACK is ~RTT/2 away)
      ss = await settledSnapshot(ep.serverNs, full.port);
    }
    client.closeStdin();
    const r = await exited;
    if (!result) {
      if (opts.signal?.aborted) throw new Error('aborted');
      throw new Error(
        r.timedOut
          ? `transfer client timed out after ${opts.timeoutMs} ms`
          : `transfer client exit ${r.exitCode} without a result: ${r.stderr.trim().slice(-300)}`,
      );
    }
    return { result, ss };
  } finally {
    if (!client.exited) await client.stop(200);
  }
}

/** One trial of the transfer tool: server up, client run, counters and snapshot around it. */
export async function runTransfer(
  ep: TransferEndpoints,
  cfg: Omit<ClientConfig, 'addr' | 'port' | 'hold'>,
  opts: TransferOptions,
): Promise<RawTransfer> {
  const port = opts.port ?? TRANSFER_PORT;
  const snapshot = opts.ssSnapshot ?? true;
  const flushed = Promise.all([flushTcpMetrics(ep.serverNs), flushTcpMetrics(ep.clientNs)]);
  const kept = opts.servers;
  let server: TransferServer;
  if (kept) {
    [, server] = await Promise.all([flushed, kept.ensure(ep.serverNs, ep.serverAddr, port, opts.signal)]);
    await server.stats(); // zero its counters: this trial's only
  } else {
    await flushed;
    server = await startTransferServer(ep.serverNs, ep.serverAddr, port, opts.signal);
  }
  let ok = false;
  try {
    const before = await tcpCounters(ep.serverNs);
    const full: ClientConfig = { ...cfg, addr: ep.serverAddr, port, hold: snapshot };
    const { result, ss } = opts.clients ? await keptClient(opts.clients, ep, full, opts) : await oneShotClient(ep, full, opts);
    const after = await tcpCounters(ep.serverNs);
    const stats = kept ? await server.stats() : await server.stop();
    ok = true;
    return {
      result,
      counters: {
        outSegs: (after.OutSegs ?? 0) - (before.OutSegs ?? 0),
        retransSegs: (after.RetransSegs ?? 0) - (before.RetransSegs ?? 0),
      },
      ss,
      server: stats,
    };
  } finally {
    if (!kept) await server.stop();
    else if (!ok) await kept.drop(ep.serverNs, ep.serverAddr, port);
  }
}

function withServer(out: TrialOutput, server: Record<string, unknown> | null): TrialOutput {
  if (server)
    out.extra = {
      ...out.extra,
      server: { connections: server.connections, requests: server.requests, bytesSent: server.bytesSent, errors: server.errors },
    };
  return out;
}

export async function runFctTrial(ep: TransferEndpoints, w: FctWorkload, opts: TransferOptions): Promise<TrialOutput> {
  const sizes = sampleSizes(w.sizes, w.transfers, opts.seed ?? 1);
  const raw = await runTransfer(ep, { mode: 'fct', sizes, gapMs: w.gapMs, requestBytes: Math.max(HEADER_BYTES, w.requestBytes) }, opts);
  return withServer(reduceFct(raw.result, raw.counters, raw.ss), raw.server);
}

export async function runRrTrial(ep: TransferEndpoints, w: RrWorkload, opts: TransferOptions): Promise<TrialOutput> {
  const raw = await runTransfer(
    ep,
    { mode: 'rr', requestBytes: Math.max(HEADER_BYTES, w.requestBytes), responseBytes: w.responseBytes, count: w.count, gapMs: w.gapMs },
    opts,
  );
  return withServer(reduceRr(raw.result, raw.counters, raw.ss), raw.server);
}

export async function runPageloadTrial(ep: TransferEndpoints, w: PageloadWorkload, opts: TransferOptions): Promise<TrialOutput> {
  const raw = await runTransfer(
    ep,
    {
      mode: 'pageload',
      objects: w.objects,
      connections: w.connections,
      pages: w.pages,
      gapMs: w.gapMs,
      requestBytes: Math.max(HEADER_BYTES, w.requestBytes),
    },
    opts,
  );
  return withServer(reducePageload(raw.result, raw.counters, raw.ss), raw.server);
}

/** Registry entries fct, rr, pageload: the server on the arm's sender, the client on its receiver; both arms of a pair draw the same sizes. */
const ends = (c: WorkloadRun) => serverClientEnds(c.hosts[c.arm]);
const options = (c: WorkloadRun): TransferOptions => ({
  timeoutMs: c.s.trials.timeoutMs,
  signal: c.signal,
  seed: c.pairSeed,
  servers: c.servers?.transfer,
  clients: c.servers?.clients,
});
export const fct: WorkloadDef<FctWorkload> = {
  type: 'fct',
  metrics: WORKLOAD_METRICS.fct!,
  trial: (w, c) => runFctTrial(ends(c), w, options(c)),
};
export const rr: WorkloadDef<RrWorkload> = {
  type: 'rr',
  metrics: WORKLOAD_METRICS.rr!,
  trial: (w, c) => runRrTrial(ends(c), w, options(c)),
};
export const pageload: WorkloadDef<PageloadWorkload> = {
  type: 'pageload',
  metrics: WORKLOAD_METRICS.pageload!,
  trial: (w, c) => runPageloadTrial(ends(c), w, options(c)),
};
