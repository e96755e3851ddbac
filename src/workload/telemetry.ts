/**
 * Per-flow TCP telemetry from `ss -tin` (the kernel's tcp_info over sock_diag), read inside a
 * namespace:
 *   - parseSs(text): pure parser of `ss -tin` / `ss -tinH` output (unit-tested on output captured
 *     from netab testbeds: cubic and bbr senders, a receiver, a FIN-WAIT socket)
 *   - sampleSs(ns, filter, everyMs, signal): a loop in netab runs `ss -Htin FILTER` in the
 *     namespace every `everyMs` and timestamps each snapshot when it arrives
 *     (monotonic clock, ms since sampling started); stop() returns every sample
 *   - ssOnce(ns, filter): a single snapshot (short flows: taken while the last connection is held open)
 *   - ssSeries(samples): per-snapshot aggregates for a trial's `series` (cwnd summed, RTT averaged...)
 *   - ecnCounters / ecnDelta: a trial's ECN counters from the endpoints' /proc/net/netstat (read
 *     through the namespace anchors, no process started)
 *
 * Units: times in ms, rates in Mbit/s, cwnd/ssthresh in segments, byte counters in bytes.
 */
import { readNsProcNet, run } from '../exec/index.js';

export interface SsSample {
  /** ms since sampleSs started (absent for a one-shot parse) */
  tMs?: number;
  /** TCP state as ss prints it (ESTAB, FIN-WAIT-1...); absent when ss ran with a state filter */
  state?: string;
  recvQ: number;
  sendQ: number;
  local: string;
  localPort: number;
  peer: string;
  peerPort: number;
  cc?: string;
  cwnd?: number;
  ssthresh?: number;
  mss?: number;
  rtoMs?: number;
  rttMs?: number;
  rttvarMs?: number;
  minRttMs?: number;
  /** retransmitted segments currently outstanding / total retransmissions of the connection */
  retransCur?: number;
  retrans?: number;
  lost?: number;
  unacked?: number;
  sacked?: number;
  bytesSent?: number;
  bytesAcked?: number;
  bytesReceived?: number;
  bytesRetrans?: number;
  deliveryRateMbit?: number;
  pacingRateMbit?: number;
  /** ss's "send": cwnd * mss / srtt */
  sendMbit?: number;
  /** the last delivery-rate sample was application-limited */
  appLimited?: boolean;
  busyMs?: number;
  rwndLimitedMs?: number;
  sndbufLimitedMs?: number;
  bbr?: { bwMbit?: number; mrttMs?: number; pacingGain?: number; cwndGain?: number };
}

/** "1930666200bps", "12.5Mbps", "980Kbps", "1.2Gbps" -> Mbit/s (null when not a rate). */
export function parseSsRate(s: string): number | null {
  const m = /^([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)([kKMGT]?)bps$/.exec(s);
  if (!m) return null;
  const mult = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2]!]!;
  return (Number(m[1]) * mult) / 1e6;
}

function splitEndpoint(s: string): { addr: string; port: number } {
  const i = s.lastIndexOf(':');
  let addr = i >= 0 ? s.slice(0, i) : s;
  const port = i >= 0 ? Number(s.slice(i + 1)) : NaN;
  if (addr.startsWith('[') && addr.endsWith(']')) addr = addr.slice(1, -1);
  if (addr.startsWith('::ffff:') && addr.includes('.')) addr = addr.slice(7);
  // ss may append %iface to a local address
  addr = addr.replace(/%.*$/, '');
  return { addr, port: Number.isFinite(port) ? port : 0 };
}

const FLAGS = new Set(['ts', 'sack', 'ecn', 'ecnseen', 'fastopen', 'app_limited', 'cwnd_limited', 'orphaned', 'ecn_ack', 'tcp-ulp-tls']);
const num = (s: string | undefined): number | undefined => {
  if (s === undefined) return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
};
/** "32ms" / "12ms(0.5%)" -> 32 / 12 */
const msOf = (s: string): number | undefined => num(/^([0-9.]+)ms/.exec(s)?.[1]);

// Long by design: one case per `ss -tin` field, in the order ss prints them.
function parseInfo(sample: SsSample, line: string): void {
  const tokens = line.trim().split(/\s+/);
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    // "send X", "pacing_rate X", "delivery_rate X": key, then the value as the next token
    if (tok === 'send' || tok === 'pacing_rate' || tok === 'delivery_rate') {
      const v = parseSsRate(tokens[i + 1] ?? '');
      if (v !== null) {
        if (tok === 'send') sample.sendMbit = v;
        else if (tok === 'pacing_rate') sample.pacingRateMbit = v;
        else sample.deliveryRateMbit = v;
        i++;
      }
      continue;
    }
    const c = tok.indexOf(':');
    if (c < 0) {
      if (tok === 'app_limited') sample.appLimited = true;
      else if (!FLAGS.has(tok) && sample.cc === undefined && /^[a-z][a-z0-9_]*$/.test(tok)) sample.cc = tok;
      continue;
    }
    const key = tok.slice(0, c);
    const val = tok.slice(c + 1);
    switch (key) {
      case 'cwnd':
        sample.cwnd = num(val);
        break;
      case 'ssthresh':
        sample.ssthresh = num(val);
        break;
      case 'mss':
        sample.mss = num(val);
        break;
      case 'rto':
        sample.rtoMs = num(val);
        break;
      case 'rtt': {
        const [r, v] = val.split('/');
        sample.rttMs = num(r);
        sample.rttvarMs = num(v);
        break;
      }
      case 'minrtt':
        sample.minRttMs = num(val);
        break;
      case 'retrans': {
        const [cur, tot] = val.split('/');
        sample.retransCur = num(cur);
        sample.retrans = num(tot);
        break;
      }
      case 'lost':
        sample.lost = num(val);
        break;
      case 'unacked':
        sample.unacked = num(val);
        break;
      case 'sacked':
        sample.sacked = num(val);
        break;
      case 'bytes_sent':
        sample.bytesSent = num(val);
        break;
      case 'bytes_acked':
        sample.bytesAcked = num(val);
        break;
      case 'bytes_received':
        sample.bytesReceived = num(val);
        break;
      case 'bytes_retrans':
        sample.bytesRetrans = num(val);
        break;
      case 'busy':
        sample.busyMs = msOf(val);
        break;
      case 'rwnd_limited':
        sample.rwndLimitedMs = msOf(val);
        break;
      case 'sndbuf_limited':
        sample.sndbufLimitedMs = msOf(val);
        break;
      case 'bbr': {
        // bbr:(bw:566864bps,mrtt:40.82,pacing_gain:2.88672,cwnd_gain:2.88672)
        const inner = val.replace(/^\(/, '').replace(/\)$/, '');
        const b: NonNullable<SsSample['bbr']> = {};
        for (const kv of inner.split(',')) {
          const [k, v] = kv.split(':');
          if (k === 'bw') b.bwMbit = parseSsRate(v ?? '') ?? undefined;
          else if (k === 'mrtt') b.mrttMs = num(v);
          else if (k === 'pacing_gain') b.pacingGain = num(v);
          else if (k === 'cwnd_gain') b.cwndGain = num(v);
        }
        sample.bbr = b;
        break;
      }
      default:
        break;
    }
  }
}

const SOCKET_LINE = /^(?:([A-Z][A-Z0-9-]*)\s+)?(\d+)\s+(\d+)\s+(\S+)\s+(\S+)/;

/** Parse `ss -tin` output (with or without the header line, with or without the State column). */
export function parseSs(text: string, tMs?: number): SsSample[] {
  const out: SsSample[] = [];
  let cur: SsSample | null = null;
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    if (/^\s/.test(raw)) {
      if (cur) parseInfo(cur, raw);
      continue;
    }
    if (/^(State|Recv-Q|Netid)\b/.test(raw)) continue;
    const m = SOCKET_LINE.exec(raw);
    if (!m) {
      cur = null;
      continue;
    }
    const l = splitEndpoint(m[4]!);
    const p = splitEndpoint(m[5]!);
    cur = { recvQ: Number(m[2]), sendQ: Number(m[3]), local: l.addr, localPort: l.port, peer: p.addr, peerPort: p.port };
    if (m[1]) cur.state = m[1];
    if (tMs !== undefined) cur.tMs = tMs;
    out.push(cur);
  }
  return out;
}

const filterArgs = (filter: string | string[] | undefined): string[] =>
  filter === undefined ? [] : Array.isArray(filter) ? filter : filter.split(/\s+/).filter(Boolean);

/** One `ss -tin` snapshot inside `ns` (filter: ss filter tokens, e.g. "sport = :5401"). */
export async function ssOnce(ns: string, filter?: string | string[]): Promise<SsSample[]> {
  const r = await run(['ss', '-Htin', ...filterArgs(filter)], { netns: ns, reject: false, timeoutMs: 5000 });
  return r.exitCode === 0 ? parseSs(r.stdout) : [];
}

export interface SsSampler {
  /** stop sampling; resolves with every sample taken (tMs = ms since sampleSs was called) */
  stop(): Promise<SsSample[]>;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((res) => {
    if (signal.aborted) return res();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      res();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Sample `ss -tin FILTER` in `ns` every `everyMs` (default 100) until stop() or abort. A loop in
 * netab runs one `ss -Htin FILTER` in the namespace (through the exec module: argv, no shell), then
 * waits everyMs; its period is everyMs plus the snapshot's own run time, and each snapshot carries the
 * time it reached netab, so a late snapshot shows as such instead of being mislabelled. A snapshot
 * still running at stop() is dropped.
 */
export function sampleSs(ns: string, filter?: string | string[], everyMs = 100, signal?: AbortSignal): SsSampler {
  const samples: SsSample[] = [];
  const argv = ['ss', '-Htin', ...filterArgs(filter)];
  return poll(
    everyMs,
    signal,
    async (halt, elapsedMs) => {
      const r = await run(argv, { netns: ns, reject: false, signal: halt });
      if (!halt.aborted) samples.push(...parseSs(r.stdout, Math.round(elapsedMs() * 10) / 10));
    },
    () => samples,
  );
}

/**
 * The sampling loop of sampleSs and sampleRxBytes: `step` every `everyMs` (plus its own run time)
 * until stop() or abort; stop() waits for the step in flight and returns `result()`.
 */
function poll<R>(
  everyMs: number,
  signal: AbortSignal | undefined,
  step: (halt: AbortSignal, elapsedMs: () => number) => Promise<void>,
  result: () => R,
): { stop(): Promise<R> } {
  const t0 = process.hrtime.bigint();
  const elapsedMs = () => Number(process.hrtime.bigint() - t0) / 1e6;
  const halt = new AbortController();
  const onAbort = () => halt.abort();
  signal?.addEventListener('abort', onAbort);
  const loop = (async () => {
    while (!halt.signal.aborted) {
      await step(halt.signal, elapsedMs);
      if (halt.signal.aborted) break;
      await pause(Math.max(1, everyMs), halt.signal);
    }
  })().catch(() => {});
  let stopped: Promise<R> | null = null;
  return {
    stop() {
      stopped ??= (async () => {
        signal?.removeEventListener('abort', onAbort);
        halt.abort();
        await loop;
        return result();
      })();
      return stopped;
    },
  };
}

/**
 * Per-snapshot aggregates over the flows of each snapshot, for a trial's `series`: t (s), cwnd
 * (segments, summed over flows), rtt / minrtt (ms, mean over flows), delivery / pacing (Mbit/s,
 * summed), retrans (total retransmissions, summed). Flows can be narrowed with `keep` (e.g. skip
 * iperf3's control connection: `s => (s.bytesAcked ?? 0) > 100000`).
 */
export function ssSeries(samples: SsSample[], keep: (s: SsSample) => boolean = () => true): Record<string, number[]> {
  const byT = new Map<number, SsSample[]>();
  for (const s of samples) {
    if (s.tMs === undefined || !keep(s)) continue;
    const l = byT.get(s.tMs) ?? [];
    l.push(s);
    byT.set(s.tMs, l);
  }
  const out: Record<string, number[]> = { t: [], cwnd: [], rtt: [], minrtt: [], delivery: [], pacing: [], retrans: [] };
  const sum = (l: SsSample[], f: (s: SsSample) => number | undefined) => {
    const v = l.map(f).filter((x): x is number => x !== undefined);
    return v.length ? v.reduce((a, b) => a + b, 0) : NaN;
  };
  const mean = (l: SsSample[], f: (s: SsSample) => number | undefined) => {
    const v = l.map(f).filter((x): x is number => x !== undefined);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
  };
  const r3 = (x: number) => (Number.isNaN(x) ? x : Math.round(x * 1000) / 1000);
  for (const [t, l] of [...byT.entries()].sort((a, b) => a[0] - b[0])) {
    out.t!.push(r3(t / 1000));
    out.cwnd!.push(sum(l, (s) => s.cwnd));
    out.rtt!.push(r3(mean(l, (s) => s.rttMs)));
    out.minrtt!.push(r3(mean(l, (s) => s.minRttMs)));
    out.delivery!.push(r3(sum(l, (s) => s.deliveryRateMbit)));
    out.pacing!.push(r3(sum(l, (s) => s.pacingRateMbit)));
    out.retrans!.push(sum(l, (s) => s.retrans ?? 0));
  }
  return out;
}

/**
 * Bytes received per interface from /proc/net/dev text (pure): the loopback and IFB devices (which
 * see the same packets a second time) are left out; the sum is what arrived at the namespace.
 */
export function parseNetDevRx(text: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^\s*([^:\s]+):\s*(\d+)/.exec(line);
    if (!m || m[1] === 'lo' || m[1]!.startsWith('ifb')) continue;
    sum += Number(m[2]);
  }
  return sum;
}

/**
 * Sample the bytes arriving at namespace `ns` (its interfaces' rx counters, /proc/net/dev read
 * through a process netab keeps there: a file read, no process start) every `everyMs` until stop();
 * the series are t (s since start, at each read) and the arrival rate between reads (Mbit/s, frames
 * with their headers). Unlike in-order bytes read by the application, which come in a burst when a
 * retransmission fills a hole, arrivals cannot outrun the bottleneck.
 */
export function sampleRxBytes(ns: string, everyMs = 100, signal?: AbortSignal): { stop(): Promise<{ t: number[]; mbit: number[] }> } {
  const reads: { tMs: number; bytes: number }[] = [];
  return poll(
    everyMs,
    signal,
    async (_halt, elapsedMs) => {
      const text = await readNsProcNet(ns, 'dev').catch(() => '');
      const tMs = elapsedMs();
      if (text) reads.push({ tMs, bytes: parseNetDevRx(text) });
    },
    () => rxRateSeries(reads),
  );
}

/** Rates between consecutive counter reads (pure): t at the later read, s; Mbit/s. */
export function rxRateSeries(reads: { tMs: number; bytes: number }[]): { t: number[]; mbit: number[] } {
  const t: number[] = [];
  const mbit: number[] = [];
  for (let i = 1; i < reads.length; i++) {
    const dt = reads[i]!.tMs - reads[i - 1]!.tMs;
    const db = reads[i]!.bytes - reads[i - 1]!.bytes;
    if (!(dt > 0) || db < 0) continue;
    t.push(Math.round(reads[i]!.tMs) / 1000);
    mbit.push(Math.round(((db * 8) / (dt / 1000) / 1e6) * 1000) / 1000);
  }
  return { t, mbit };
}
