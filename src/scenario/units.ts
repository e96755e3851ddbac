/**
 * Human units in scenario files. Conventions follow tc(8) where tc has one, so a value means the same
 * thing in netab and in a hand-written tc command:
 *   time:  us, ms, s          ("20ms", "1.5s", "500us")
 *   rate:  bit, kbit, mbit, gbit, tbit (bits/s) and bps, kbps, mbps, gbps (BYTES/s, as in tc)
 *   size:  B, KB, MB, GB (powers of 1000) and KiB, MiB, GiB (powers of 1024)
 *   share: "1%", "0.5%" (a probability or correlation; stored as 0..1)
 */

export class UnitError extends Error {}

const num = String.raw`([0-9]+(?:\.[0-9]+)?|\.[0-9]+)`;

const TIME: Record<string, number> = { us: 0.001, usec: 0.001, ms: 1, msec: 1, s: 1000, sec: 1000 };
const RATE: Record<string, number> = {
  bit: 1,
  kbit: 1e3,
  mbit: 1e6,
  gbit: 1e9,
  tbit: 1e12,
  bps: 8,
  kbps: 8e3,
  mbps: 8e6,
  gbps: 8e9,
};
const SIZE: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

function parseWith(table: Record<string, number>, what: string, example: string, v: unknown): number {
  if (typeof v === 'number') {
    if (v === 0) return 0;
    throw new UnitError(`${what} needs a unit, e.g. "${example}" (got the bare number ${v})`);
  }
  if (typeof v !== 'string') throw new UnitError(`${what} must be a string like "${example}"`);
  const m = new RegExp(`^\\s*${num}\\s*([a-zA-Z]+)\\s*$`).exec(v);
  if (!m) throw new UnitError(`cannot read ${what} "${v}": expected a number and a unit, e.g. "${example}"`);
  const unit = m[2]!.toLowerCase();
  const f = table[unit];
  if (f === undefined)
    throw new UnitError(`unknown ${what} unit "${m[2]}" in "${v}"; use one of ${Object.keys(table).join(', ')}`);
  return Number(m[1]) * f;
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
  const m = new RegExp(`^\\s*${num}\\s*%\\s*$`).exec(v);
  if (!m) throw new UnitError(`cannot read share "${v}": expected a percentage like "1%"`);
  const x = Number(m[1]) / 100;
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
  const s = v.trim().toLowerCase();
  let m = new RegExp(`^${num}?\\s*\\*?\\s*bdp\\s*/\\s*sqrt\\(n\\)$`).exec(s);
  if (m) return { kind: 'bdp-sqrt-n', factor: m[1] ? Number(m[1]) : 1 };
  m = new RegExp(`^${num}?\\s*\\*?\\s*bdp$`).exec(s);
  if (m) return { kind: 'bdp', factor: m[1] ? Number(m[1]) : 1 };
  m = new RegExp(`^${num}\\s*(p|pkt|pkts|packets?)$`).exec(s);
  if (m) {
    if (!Number.isInteger(Number(m[1]))) throw new UnitError(`buffer "${v}": packets must be a whole number`);
    return { kind: 'packets', packets: Number(m[1]) };
  }
  try {
    return { kind: 'bytes', bytes: parseSize(v) };
  } catch {
    throw new UnitError(`cannot read buffer "${v}": use bytes ("64KB"), packets ("100p"), "1bdp" or "bdp/sqrt(n)"`);
  }
}

export function formatRate(bps: number): string {
  if (bps >= 1e9 && bps % 1e6 === 0) return `${bps / 1e9}gbit`;
  if (bps >= 1e6) return `${+(bps / 1e6).toFixed(6)}mbit`;
  if (bps >= 1e3) return `${+(bps / 1e3).toFixed(6)}kbit`;
  return `${bps}bit`;
}
