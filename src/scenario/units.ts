/**
 * Human units in scenario files. Conventions follow tc(8) where tc has one, so a value means the same
 * thing in netab and in a hand-written tc command:
 *   time:  us, ms, s          ("20ms", "1.5s", "500us")
 *   rate:  bit, kbit, mbit, gbit, tbit (bits/s) and bps, kbps, mbps, gbps (BYTES/s, as in tc)
 *   size:  B, KB, MB, GB (powers of 1000) and KiB, MiB, GiB (powers of 1024)
 *   share: "1%", "0.5%" (a probability or correlation; stored as 0..1)
 */
import { EXIT, NetabError } from '../errors.js';

/** A value out of range or malformed: the user's input (exit 2), reported where it was written. */
export class UnitError extends NetabError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

const num = String.raw`([0-9]+(?:\.[0-9]+)?|\.[0-9]+)`;

const TIME: Readonly<Record<string, number>> = Object.assign(Object.create(null) as Record<string, number>, {
  us: 0.001,
  usec: 0.001,
  ms: 1,
  msec: 1,
  s: 1000,
  sec: 1000,
});
const RATE: Readonly<Record<string, number>> = Object.assign(Object.create(null) as Record<string, number>, {
  bit: 1,
  kbit: 1e3,
  mbit: 1e6,
  gbit: 1e9,
  tbit: 1e12,
  bps: 8,
  kbps: 8e3,
  mbps: 8e6,
  gbps: 8e9,
});
const SIZE: Readonly<Record<string, number>> = Object.assign(Object.create(null) as Record<string, number>, {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
});

/** a number as written, refused when it is not finite (a 400-digit number is Infinity) */
function finite(s: string, v: string): number {
  const x = Number(s);
  if (!Number.isFinite(x)) throw new UnitError(`the number in "${v}" is too large`);
  return x;
}

function parseWith(table: Readonly<Record<string, number>>, what: string, example: string, v: unknown): number {
  if (typeof v === 'number') {
    if (v === 0) return 0;
    throw new UnitError(`${what} needs a unit, e.g. "${example}" (got the bare number ${v})`);
  }
  if (typeof v !== 'string') throw new UnitError(`${what} must be a string like "${example}"`);
  if (v.length > 64)
    throw new UnitError(`cannot read ${what} "${v.slice(0, 20)}...": ${v.length} characters is too long for a number and a unit`);
  const m = new RegExp(`^\\s*${num}\\s*([a-zA-Z]+)\\s*$`).exec(v);
  if (!m) throw new UnitError(`cannot read ${what} "${v}": expected a number and a unit, e.g. "${example}"`);
  const unit = m[2]!.toLowerCase();
  const f = Object.hasOwn(table, unit) ? table[unit] : undefined;
  if (f === undefined) throw new UnitError(`unknown ${what} unit "${m[2]}" in "${v}"; use one of ${Object.keys(table).join(', ')}`);
  const x = finite(m[1]!, v) * f;
  if (!Number.isFinite(x)) throw new UnitError(`the number in "${v}" is too large`);
  return x;
}

/** milliseconds */
export function parseTime(v: unknown): number {
  return parseWith(TIME, 'time', '20ms', v);
}

/** bits per second */
export function parseRate(v: unknown): number {
  return parseWith(RATE, 'rate', '50mbit', v);
}

/** bytes */
export function parseSize(v: unknown): number {
  return Math.round(parseWith(SIZE, 'size', '64KB', v));
}

/** "1%" -> 0.01. */
export function parsePercent(v: unknown): number {
  if (typeof v === 'number') {
    if (v === 0) return 0;
    throw new UnitError(`a share needs a percent sign, e.g. "${v}%" (got the bare number ${v})`);
  }
  if (typeof v !== 'string') throw new UnitError('a share must be a string like "1%"');
  if (v.length > 64) throw new UnitError(`cannot read share "${v.slice(0, 20)}...": too long`);
  const m = new RegExp(`^\\s*${num}\\s*%\\s*$`).exec(v);
  if (!m) throw new UnitError(`cannot read share "${v}": expected a percentage like "1%"`);
  const x = finite(m[1]!, v) / 100;
  if (x > 1) throw new UnitError(`share "${v}" is above 100%`);
  return x;
}

export type BufferSpec =
  | { kind: 'bytes'; bytes: number }
  | { kind: 'packets'; packets: number }
  | { kind: 'bdp'; factor: number }
  | { kind: 'bdp-sqrt-n'; factor: number };

/** "64KB" | "100p" | "100 packets" | "1bdp" | "0.5bdp" | "bdp/sqrt(n)" */
export function parseBuffer(v: unknown): BufferSpec {
  if (typeof v !== 'string') throw new UnitError('buffer must be a string like "64KB", "100p", "1bdp" or "bdp/sqrt(n)"');
  if (v.length > 64) throw new UnitError(`cannot read buffer "${v.slice(0, 20)}...": too long`);
  const s = v.trim().toLowerCase();
  let m = new RegExp(`^${num}?\\s*\\*?\\s*bdp\\s*/\\s*sqrt\\(n\\)$`).exec(s);
  if (m) return { kind: 'bdp-sqrt-n', factor: m[1] ? finite(m[1], v) : 1 };
  m = new RegExp(`^${num}?\\s*\\*?\\s*bdp$`).exec(s);
  if (m) return { kind: 'bdp', factor: m[1] ? finite(m[1], v) : 1 };
  m = new RegExp(`^${num}\\s*(p|pkt|pkts|packets?)$`).exec(s);
  if (m) {
    const n = finite(m[1]!, v);
    if (!Number.isInteger(n)) throw new UnitError(`buffer "${v}": packets must be a whole number`);
    return { kind: 'packets', packets: n };
  }
  try {
    return { kind: 'bytes', bytes: parseSize(v) };
  } catch (e) {
    if (e instanceof UnitError && /too large/.test(e.message)) throw e;
    throw new UnitError(`cannot read buffer "${v}": use bytes ("64KB"), packets ("100p"), "1bdp" or "bdp/sqrt(n)"`);
  }
}

export function formatRate(bps: number): string {
  if (bps >= 1e9 && bps % 1e6 === 0) return `${bps / 1e9}gbit`;
  if (bps >= 1e6) return `${+(bps / 1e6).toFixed(6)}mbit`;
  if (bps >= 1e3) return `${+(bps / 1e3).toFixed(6)}kbit`;
  return `${bps}bit`;
}

export function formatTime(ms: number): string {
  if (ms >= 1000) return `${+(ms / 1000).toFixed(6)}s`;
  if (ms >= 1 || ms === 0) return `${+ms.toFixed(6)}ms`;
  return `${+(ms * 1000).toFixed(3)}us`;
}

export function formatSize(bytes: number): string {
  if (bytes >= 1e9) return `${+(bytes / 1e9).toFixed(6)}GB`;
  if (bytes >= 1e6) return `${+(bytes / 1e6).toFixed(6)}MB`;
  if (bytes >= 1e3) return `${+(bytes / 1e3).toFixed(6)}KB`;
  return `${bytes}B`;
}

/** An accepted range of a unit value; `minExclusive` makes the lower bound strict (> min). */
export interface UnitRange {
  min: number;
  max: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
  format: (x: number) => string;
}

/** The range in words, e.g. "more than 0ms and at most 1h (3600s)". */
export function describeRange(r: UnitRange): string {
  const lo = r.minExclusive ? `more than ${r.format(r.min)}` : `at least ${r.format(r.min)}`;
  const hi = r.maxExclusive ? `less than ${r.format(r.max)}` : `at most ${r.format(r.max)}`;
  return `${lo} and ${hi}`;
}

/** Throws a UnitError naming the accepted range when x is outside it. */
export function checkRange(x: number, r: UnitRange, written: unknown, what: string): void {
  const below = r.minExclusive ? x <= r.min : x < r.min;
  const above = r.maxExclusive ? x >= r.max : x > r.max;
  if (!Number.isFinite(x) || below || above) throw new UnitError(`${what} must be ${describeRange(r)} (got ${JSON.stringify(written)})`);
}

const H = 3600_000;
/** accepted ranges (documented in the README) */
export const RANGES = {
  /** delay, jitter */
  delay: { min: 0, max: 10_000, format: formatTime },
  /** workload durations, intervals, trial timeouts, cross-traffic periods */
  duration: { min: 0, max: H, minExclusive: true, format: formatTime },
  /** omit, stagger, gaps */
  offset: { min: 0, max: H, format: formatTime },
  /** route rto_min (the kernel's TCP_RTO_MAX is 120 s) */
  rtoMin: { min: 0, max: 120_000, minExclusive: true, format: formatTime },
  /** fidelity tolerances and lateness */
  tolerance: { min: 0, max: 10_000, minExclusive: true, format: formatTime },
  /** link rates, bits/s */
  rate: { min: 1e3, max: 100e9, format: formatRate },
  /** transfer sizes, bytes */
  size: { min: 1, max: 1e9, format: formatSize },
  /** a resolved bottleneck buffer, bytes */
  buffer: { min: 1, max: 1e9, format: formatSize },
  /** relative judge margins */
  margin: { min: 0, max: 1, minExclusive: true, maxExclusive: true, format: (x: number) => `${+(x * 100).toFixed(6)}%` },
} satisfies Record<string, UnitRange>;

/** A buffer as written: bytes in (0, 1 GB], whole packets 1..660501 (1 GB of 1514-byte packets), BDP factors in (0, 1000]. */
export function checkBuffer(b: BufferSpec, written: unknown): void {
  if (b.kind === 'bytes') checkRange(b.bytes, RANGES.buffer, written, 'a buffer');
  else if (b.kind === 'packets')
    checkRange(b.packets, { min: 1, max: Math.floor(1e9 / 1514), format: (x) => `${x}p` }, written, 'a buffer in packets');
  else checkRange(b.factor, { min: 0, max: 1000, minExclusive: true, format: (x) => `${x}bdp` }, written, 'a buffer in BDPs');
}
