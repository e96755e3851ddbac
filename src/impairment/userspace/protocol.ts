/**
 * The relay's contract with whoever starts it (impairment/userspace/engine.ts, the tests, the bench).
 *
 * Start:   node dist/impairment/userspace/relay-main.js '<RelayConfig JSON>'     (inside link netns L)
 *          or without argv[2]: the first stdin line is the RelayConfig JSON.
 * Ready:   when both UDP sockets are bound and the sender thread is up, stdout gets the line
 *          {"event":"ready","tids":[main, sender]}: the thread ids the starter makes SCHED_FIFO
 *          (RelayConfig.realtime, with chrt: the relay starts no process itself)
 * Errors:  a fatal error prints {"event":"error","message":"..."} on stdout (details on stderr) and
 *          exits 1; a bad command line gets {"id":N,"error":"..."} and the relay keeps running.
 * Commands (one JSON object per stdin line):
 *          {"cmd":"stats","id":N,"reset":true}   -> {"id":N,"stats":RelayStats}  (since the last reset)
 *          {"cmd":"set","id":N,"forward":{...},"reverse":{...},"seed":S}  -> {"id":N,"ok":true}
 *                       replaces the link model(s) given (fresh queue and random state)
 *          {"cmd":"schedule","id":N,"action":"start"|"stop","trigger":"now"|"data"}  -> {"id":N,"ok":true}
 *                       start: arms each direction's schedule with t0 = now (the workload starts), or
 *                       with trigger "data" at the first forward datagram of >= 1000 inner bytes;
 *                       stop: disarms it and puts the link's own values back (model-schedule.ts)
 *          {"cmd":"stop"}                        -> exits 0
 * Lifetime: exits 0 when stdin closes (the parent died), on SIGTERM/SIGINT/SIGHUP, and on "stop".
 */
import type { JitterDistribution, LinkImpairment } from '../types.js';

export const VXLAN_PORT = 4789;
/** Bytes of VXLAN header at the front of each datagram; the rest is the inner Ethernet frame. */
export const VXLAN_HEADER_BYTES = 8;
/** The ready line: the relay's thread ids for the starter's chrt. */
export function readyLine(tids: number[]): string {
  return JSON.stringify({ event: 'ready', tids });
}

export interface RelayEndpoint {
  /** L's own address on this side: the relay binds UDP `port` here */
  listen: string;
  /** this side's VXLAN endpoint: datagrams for this side are sent to peer:port */
  peer: string;
  /** default 4789 */
  port?: number;
}

export interface RelayConfig {
  /** router A side (the forward direction's sender) */
  a: RelayEndpoint;
  /** router B side */
  b: RelayEndpoint;
  /** A -> B impairment; absent or {} = pass through */
  forward?: LinkImpairment;
  /** B -> A impairment */
  reverse?: LinkImpairment;
  /** PRNG seed (32-bit integer); the same seed and packet sequence reproduce the same drops/delays. Default 1. */
  seed?: number;
  /** SO_RCVBUF / SO_SNDBUF request, bytes (the kernel caps it at net.core.rmem_max / wmem_max). Default 4 MiB. */
  socketBufferBytes?: number;
  /** packets the relay can hold in flight (queued or delayed), both directions together. Default 32768. */
  maxPackets?: number;
  /** /proc/net/udp sampling period for the hidden-queue telemetry, ms. Default 10. */
  sampleMs?: number;
  /** nice value for the relay's threads (root only; null leaves it alone). Default -10. */
  nice?: number | null;
  /**
   * SCHED_FIFO priority (1-99) for the relay's receive and sender threads, set by the starter
   * (RelayClient) with `chrt -p` once they run; null = normal scheduling. Default 10. On a loaded 2-core host this cut the sender's
   * p99 lateness from 2-5 ms to ~0.1-0.4 ms: real-time threads get no timer slack and preempt
   * ordinary work. The kernel's RT throttling (95 % per CPU) keeps an overloaded relay from
   * locking the host up. If chrt fails the client says so (onStderr) and the relay runs at `nice`.
   */
  realtime?: number | null;
}

export type RelayCommand =
  | { cmd: 'stats'; id?: number | string; reset?: boolean }
  | { cmd: 'set'; id?: number | string; forward?: LinkImpairment; reverse?: LinkImpairment; seed?: number }
  | { cmd: 'schedule'; id?: number | string; action: 'start' | 'stop'; trigger?: 'now' | 'data' }
  | { cmd: 'stop'; id?: number | string };

export interface HistogramSummary {
  count: number;
  /** exact mean, ms */
  mean: number;
  /** quantiles: upper edge of the R20 log bucket that holds them (capped at max), ms */
  p50: number;
  p99: number;
  p999: number;
  /** exact maximum, ms */
  max: number;
  /** non-empty buckets as [upper edge ms (null = above 100 s), count] */
  buckets: Array<[number | null, number]>;
}

export interface DirectionStats {
  /** datagrams received from this direction's sender / inner bytes (datagram minus the 8-byte VXLAN header) */
  packetsIn: number;
  bytesIn: number;
  /** datagrams sent on to the other side (including duplicates) / inner bytes */
  packetsOut: number;
  bytesOut: number;
  drops: {
    /** the loss model (random or Gilbert-Elliott) */
    loss: number;
    /** bottleneck tail drop (backlog + size > bufferBytes) */
    queue: number;
    /** RED (aqm) selected a packet it could not mark: not ECN-capable, or aqm.ecn false */
    aqm: number;
    /** relay-internal: packet pool exhausted, oversize or not VXLAN, send errors */
    relay: number;
    /** kernel drops on the receiving socket (receive buffer full): loss the model did not decide */
    kernel: number;
    /** dropped by a scheduled outage (present when the direction has a schedule) */
    outage?: number;
  };
  /** the direction's schedule: each change as applied in this interval (tMs from the workload start) */
  schedule?: {
    armed: boolean;
    /** start command -> armed (the first full-size forward packet with trigger "data"), ms */
    armedAfterMs: number | null;
    changes: { tMs: number; field: string; value: number }[];
    /** bytes that left the bottleneck per bin of deliveredBinMs from the schedule's t0 (rated links) */
    deliveredBinMs: number;
    delivered: number[];
  };
  /** datagrams from an address other than the configured peer (ignored, not forwarded) */
  foreign: number;
  /** extra copies created by the duplicate model */
  duplicates: number;
  /** packets sent ahead of the delay by the reorder model */
  reorders: number;
  /** packets scheduled to leave before an earlier arrival (reorder model or jitter) */
  outOfOrder: number;
  /** packets with one bit flipped */
  corruptions: number;
  /** packets RED (aqm with ecn) marked CE instead of dropping */
  ceMarks: number;
  /** sojourn in the bottleneck queue: departure - arrival (includes own serialisation), ms */
  queueDelayMs: HistogramSummary;
  /** actual send time - scheduled release time, ms: the relay's own timing error (early sends count as 0) */
  latenessMs: HistogramSummary;
  /** packets sent up to the sender's wake-up lead (<= 60 us) early because its spin budget was used up */
  earlySends: number;
  /** largest bottleneck backlog seen (bytes waiting, not counting the packet being serialised) */
  maxBacklogBytes: number;
  socket: {
    /** largest rx_queue of the receiving socket seen in /proc/net/udp (bytes, kernel accounting) */
    rxQueueMaxBytes: number;
    /** rx_queue at the last sample */
    rxQueueBytes: number;
    /** samples taken / samples with a non-empty rx_queue */
    samples: number;
    samplesBacklogged: number;
  };
}

export interface RelayStats {
  /** tells relay telemetry apart from a kernel link's ({kind: 'tc'}, netem schedules) */
  kind: 'relay';
  /** time covered by these stats (since start or the last reset), ms */
  intervalMs: number;
  forward: DirectionStats;
  reverse: DirectionStats;
  /** CPU time of the whole relay process (all threads) in the interval, ms, and as a share of one core */
  cpu: { userMs: number; systemMs: number; coreShare: number };
  pool: { slots: number; maxInUse: number };
  threads: {
    /** receive (main) thread event-loop utilisation 0..1; near 1 = saturated: a hidden queue builds in the socket */
    receiveBusy: number;
    /** sender thread: share of the interval not blocked in Atomics.wait (spinning included) */
    senderBusy: number;
    /** sender thread: share of the interval spent spinning towards release times */
    senderSpin: number;
    /** sender thread: learned wake-up lead (a high quantile of its oversleep), us */
    senderLeadUs: number;
    senderWakeups: number;
  };
  /** how the relay's threads are scheduled: "fifo:<prio>" or "nice:<n>" */
  scheduling: string;
  /** the relay's own health verdict: lateness p99 > 1 ms, kernel drops or a standing rx queue */
  warnings: string[];
}

const DISTS: readonly JitterDistribution[] = ['uniform', 'normal', 'pareto', 'paretonormal'];

function prob(name: string, v: unknown): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) throw new Error(`${name} must be a number in [0, 1]`);
}

function nonneg(name: string, v: unknown): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number`);
}

/** Validate a LinkImpairment (throws with the offending field). */
export function validateImpairment(i: unknown, where: string): LinkImpairment {
  if (i === undefined || i === null) return {};
  if (typeof i !== 'object' || Array.isArray(i)) throw new Error(`${where} must be an object`);
  const o = i as Record<string, unknown>;
  const known = new Set([
    'delayMs',
    'jitterMs',
    'jitterCorrelation',
    'distribution',
    'loss',
    'lossCorrelation',
    'gemodel',
    'reorder',
    'reorderCorrelation',
    'reorderGap',
    'duplicate',
    'duplicateCorrelation',
    'corrupt',
    'corruptCorrelation',
    'rateBps',
    'bufferBytes',
    'aqm',
    'schedule',
    'trace',
  ]);
  for (const k of Object.keys(o)) if (!known.has(k)) throw new Error(`${where}.${k}: unknown field`);
  nonneg(`${where}.delayMs`, o.delayMs);
  nonneg(`${where}.jitterMs`, o.jitterMs);
  for (const k of [
    'jitterCorrelation',
    'loss',
    'lossCorrelation',
    'reorder',
    'reorderCorrelation',
    'duplicate',
    'duplicateCorrelation',
    'corrupt',
    'corruptCorrelation',
  ])
    prob(`${where}.${k}`, o[k]);
  if (o.distribution !== undefined && !DISTS.includes(o.distribution as JitterDistribution))
    throw new Error(`${where}.distribution must be one of ${DISTS.join(', ')}`);
  if (o.reorderGap !== undefined && (!Number.isInteger(o.reorderGap) || (o.reorderGap as number) < 0))
    throw new Error(`${where}.reorderGap must be a non-negative integer`);
  if (o.rateBps !== undefined && (typeof o.rateBps !== 'number' || !(o.rateBps > 0)))
    throw new Error(`${where}.rateBps must be a positive number`);
  nonneg(`${where}.bufferBytes`, o.bufferBytes);
  if (o.aqm !== undefined) validateAqm(o.aqm, `${where}.aqm`);
  if (o.schedule !== undefined) validateSchedule(o.schedule, `${where}.schedule`);
  if (o.trace !== undefined) validateTrace(o.trace, `${where}.trace`);
  if (o.gemodel !== undefined) {
    if (o.loss !== undefined && o.loss !== 0) throw new Error(`${where}: gemodel and loss are mutually exclusive`);
    const g = o.gemodel as Record<string, unknown>;
    if (typeof g !== 'object' || g === null) throw new Error(`${where}.gemodel must be an object`);
    for (const k of ['p', 'r', 'lossBad', 'lossGood']) {
      if (g[k] === undefined) throw new Error(`${where}.gemodel.${k} is required`);
      prob(`${where}.gemodel.${k}`, g[k]);
    }
  }
  return o as LinkImpairment;
}

function validateAqm(v: unknown, where: string): void {
  const a = v as Record<string, unknown>;
  if (typeof a !== 'object' || a === null || a.kind !== 'red')
    throw new Error(`${where} must be {kind: "red", ecn, minBytes, maxBytes, maxP}`);
  if (typeof a.ecn !== 'boolean') throw new Error(`${where}.ecn must be a boolean`);
  for (const k of ['minBytes', 'maxBytes'])
    if (typeof a[k] !== 'number' || !((a[k] as number) > 0)) throw new Error(`${where}.${k} must be a positive number`);
  if (!((a.minBytes as number) < (a.maxBytes as number))) throw new Error(`${where}: minBytes must be below maxBytes`);
  if (typeof a.maxP !== 'number' || !(a.maxP > 0 && a.maxP <= 1)) throw new Error(`${where}.maxP must be a number in (0, 1]`);
}

function validateTrace(v: unknown, where: string): void {
  const t = v as { times?: unknown; periodMs?: unknown } | null;
  if (typeof t !== 'object' || t === null) throw new Error(`${where} must be an object`);
  if (t.times === undefined) return;
  if (!Array.isArray(t.times) || t.times.length === 0) throw new Error(`${where}.times must be a non-empty array`);
  let prev = 0;
  for (const x of t.times) {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < prev) throw new Error(`${where}.times must be non-decreasing whole ms`);
    prev = x;
  }
  if (t.periodMs !== prev || prev <= 0) throw new Error(`${where}.periodMs must be the last timestamp (> 0)`);
}

function validateSchedule(v: unknown, where: string): void {
  const o = v as { steps?: unknown; repeatMs?: unknown } | null;
  if (typeof o !== 'object' || o === null || !Array.isArray(o.steps)) throw new Error(`${where} must be {steps: [...], repeatMs?}`);
  nonneg(`${where}.repeatMs`, o.repeatMs);
  o.steps.forEach((st: unknown, i: number) => {
    const s = st as { atMs?: unknown; overMs?: unknown; outageMs?: unknown; set?: Record<string, unknown> } | null;
    if (typeof s !== 'object' || s === null || typeof s.set !== 'object' || s.set === null)
      throw new Error(`${where}.steps.${i} must be {atMs, set}`);
    if (typeof s.atMs !== 'number') throw new Error(`${where}.steps.${i}.atMs must be a number`);
    for (const k of ['atMs', 'overMs', 'outageMs']) nonneg(`${where}.steps.${i}.${k}`, (s as Record<string, unknown>)[k]);
    for (const [k, x] of Object.entries(s.set)) {
      if (!['delayMs', 'jitterMs', 'loss', 'reorder', 'rateBps', 'bufferBytes'].includes(k))
        throw new Error(`${where}.steps.${i}.set.${k}: unknown field`);
      if (k === 'loss' || k === 'reorder') prob(`${where}.steps.${i}.set.${k}`, x);
      else nonneg(`${where}.steps.${i}.set.${k}`, x);
    }
    if (s.set.rateBps !== undefined && !((s.set.rateBps as number) > 0))
      throw new Error(`${where}.steps.${i}.set.rateBps must be positive`);
  });
}

function endpoint(v: unknown, where: string): RelayEndpoint {
  if (typeof v !== 'object' || v === null) throw new Error(`${where} must be {listen, peer, port?}`);
  const e = v as Record<string, unknown>;
  for (const k of ['listen', 'peer'])
    if (typeof e[k] !== 'string' || !/^\d{1,3}(\.\d{1,3}){3}$/.test(e[k] as string))
      throw new Error(`${where}.${k} must be an IPv4 address`);
  if (e.port !== undefined && (!Number.isInteger(e.port) || (e.port as number) < 1 || (e.port as number) > 65535))
    throw new Error(`${where}.port must be a UDP port`);
  return { listen: e.listen as string, peer: e.peer as string, port: (e.port as number | undefined) ?? VXLAN_PORT };
}

/** Parse and validate the relay's config document. */
export type ResolvedRelayConfig = Required<Omit<RelayConfig, 'nice' | 'realtime'>> & { nice: number | null; realtime: number | null };

export function parseRelayConfig(text: string): ResolvedRelayConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`relay config is not JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null) throw new Error('relay config must be a JSON object');
  const c = raw as Record<string, unknown>;
  const seed = c.seed ?? 1;
  if (!Number.isInteger(seed)) throw new Error('seed must be an integer');
  const int = (k: string, def: number, min: number): number => {
    const v = c[k] ?? def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new Error(`${k} must be a number >= ${min}`);
    return Math.floor(v);
  };
  const nice = c.nice === undefined ? -10 : c.nice;
  if (nice !== null && (!Number.isInteger(nice) || (nice as number) < -20 || (nice as number) > 19))
    throw new Error('nice must be an integer in [-20, 19] or null');
  const realtime = c.realtime === undefined ? 10 : c.realtime;
  if (realtime !== null && (!Number.isInteger(realtime) || (realtime as number) < 1 || (realtime as number) > 99))
    throw new Error('realtime must be an integer in [1, 99] or null');
  return {
    a: endpoint(c.a, 'a'),
    b: endpoint(c.b, 'b'),
    forward: validateImpairment(c.forward, 'forward'),
    reverse: validateImpairment(c.reverse, 'reverse'),
    seed: seed as number,
    socketBufferBytes: int('socketBufferBytes', 4 * 1024 * 1024, 65536),
    maxPackets: int('maxPackets', 32768, 64),
    sampleMs: int('sampleMs', 10, 1),
    nice: nice as number | null,
    realtime: realtime as number | null,
  };
}
