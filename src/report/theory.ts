/**
 * Back-of-envelope TCP theory for a path, drawn next to the measured goodput:
 *   bottleneck rate, BDP = rate x RTT,
 *   Mathis et al. (1997) loss bound: goodput <= MSS/RTT * sqrt(3/(2p)),
 *   window cap: a flow whose window is limited to W bytes cannot exceed W/RTT.
 * All rates are Mbit/s.
 */
import type { ManifestScenario } from '../results/types.js';

export interface TheoryLine {
  key: 'rate' | 'mathis' | 'window' | 'ceiling';
  label: string;
  mbit: number;
  note: string;
}

export interface Theory {
  rateMbit: number | null;
  rttMs: number;
  mss: number;
  loss: number | null;
  bufferBytes: number | null;
  bdpBytes: number | null;
  bdpPackets: number | null;
  /** buffer in BDPs (bufferBytes / BDP) */
  bufferBdp: number | null;
  /** worst-case queueing delay a full bottleneck buffer adds, ms */
  maxQueueDelayMs: number | null;
  mathisMbit: number | null;
  windowCapMbit: number | null;
  /** min of the applicable bounds */
  ceilingMbit: number | null;
  limitedBy: string | null;
  lines: TheoryLine[];
}

export function mathisMbit(mssBytes: number, rttMs: number, loss: number): number | null {
  if (!(mssBytes > 0) || !(rttMs > 0) || !(loss > 0)) return null;
  return (((mssBytes * 8) / (rttMs / 1000)) * Math.sqrt(3 / (2 * loss))) / 1e6;
}

export function windowCapMbit(windowBytes: number, rttMs: number): number | null {
  if (!(windowBytes > 0) || !(rttMs > 0)) return null;
  return (windowBytes * 8) / (rttMs / 1000) / 1e6;
}

export function bdpBytes(rateMbit: number, rttMs: number): number | null {
  if (!(rateMbit > 0) || !(rttMs > 0)) return null;
  return ((rateMbit * 1e6) / 8) * (rttMs / 1000);
}

/** null when the scenario has no usable path description. */
export function theoryFor(sc: ManifestScenario | undefined): Theory | null {
  const p = sc?.path;
  if (!p || typeof p !== 'object') return null;
  const rttMs = Number(p.rttMs);
  const mss = Number(p.mss) > 0 ? Number(p.mss) : 1448;
  if (!(rttMs > 0)) return null;
  const rate = Number(p.rateMbit) > 0 ? Number(p.rateMbit) : null;
  const loss = Number(p.loss) > 0 ? Number(p.loss) : null;
  const buffer = Number(p.bufferBytes) > 0 ? Number(p.bufferBytes) : null;

  const bdp = rate !== null ? bdpBytes(rate, rttMs) : null;
  const mathis = loss !== null ? mathisMbit(mss, rttMs, loss) : null;
  const wcap = buffer !== null ? windowCapMbit(buffer, rttMs) : null;
  // buffer-limited: the window cap is below the bottleneck rate (or there is no rate limit)
  const windowLimited = wcap !== null && (rate === null || wcap < rate);

  const lines: TheoryLine[] = [];
  if (rate !== null) lines.push({ key: 'rate', label: 'bottleneck rate', mbit: rate, note: 'configured link rate' });
  if (mathis !== null)
    lines.push({
      key: 'mathis',
      label: 'Mathis bound',
      mbit: mathis,
      note: `MSS/RTT·√(3/(2p)), p=${(loss! * 100).toPrecision(3)} %: Reno-style loss-based bound, a reference for CUBIC, not a limit for BBR`,
    });
  if (windowLimited) lines.push({ key: 'window', label: 'rwnd/RTT cap', mbit: wcap!, note: `window ${buffer} B / RTT ${rttMs} ms` });

  const bounds = [...lines];
  let ceiling: number | null = null;
  let limitedBy: string | null = null;
  for (const b of bounds) {
    if (ceiling === null || b.mbit < ceiling) {
      ceiling = b.mbit;
      limitedBy = b.label;
    }
  }
  if (ceiling !== null && bounds.length > 1)
    lines.push({ key: 'ceiling', label: 'expected ceiling', mbit: ceiling, note: `min of the bounds (${limitedBy})` });

  return {
    rateMbit: rate,
    rttMs,
    mss,
    loss,
    bufferBytes: buffer,
    bdpBytes: bdp,
    bdpPackets: bdp !== null ? bdp / mss : null,
    bufferBdp: buffer !== null && bdp !== null ? buffer / bdp : null,
    maxQueueDelayMs: buffer !== null && rate !== null ? ((buffer * 8) / (rate * 1e6)) * 1000 : null,
    mathisMbit: mathis,
    windowCapMbit: windowLimited ? wcap : null,
    ceilingMbit: ceiling,
    limitedBy,
    lines,
  };
}

/** Convert a rate in the given unit to Mbit/s; null when the unit is not a data rate. */
export function toMbit(value: number, unit: string): number | null {
  const u = unit.trim().replace(/\s+/g, '');
  const m = /^([kKMGT]?)(bit\/s|bits\/s|bps|b\/s|B\/s|Bps|byte\/s|bytes\/s)$/.exec(u);
  if (!m) return null;
  const prefix = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[1] as '' | 'k' | 'K' | 'M' | 'G' | 'T'];
  const bits = /^(B\/s|Bps|byte\/s|bytes\/s)$/.test(m[2]!) ? 8 : 1;
  return (value * prefix * bits) / 1e6;
}
