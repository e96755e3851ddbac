/**
 * Link schedules in the report (issue #16): what the manifest says each scheduled link direction
 * does over a trial (a piecewise-constant timeline, phases), what the telemetry says was delivered
 * per 100 ms window, and the per-phase fidelity of the one against the other. Pure: no I/O (the
 * telemetry is read by load.ts through src/results).
 *
 * Telemetry formats (telemetry/<trial>.json, an array of { link, stats }):
 *   relay:  stats.forward|reverse.schedule = { changes, deliveredBinMs, delivered }
 *   netem:  stats.schedule.forward|reverse = { changes }, stats.delivered (the forward egress)
 */
import type { ManifestScenario } from '../results/types.js';
import type { LinkImpairment, LinkSchedule } from '../scenario/links.js';
import { scheduleEvents, workloadMs } from '../scenario/schedule-events.js';
import { quantileSorted } from '../stats/quantile.js';

/** bytes one full-size frame (1500-byte MTU + Ethernet header) takes: the slack allowed per window */
export const FRAME_BYTES = 1514;
const DIRS = ['forward', 'reverse'] as const;
type Dir = (typeof DIRS)[number];

export interface ScheduledDirection {
  link: string;
  dir: Dir;
  base: LinkImpairment;
  schedule: LinkSchedule;
  /** the rate follows a capacity trace (no scheduled rate) */
  traced?: boolean;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The scheduled link directions of a manifest scenario (its normalised scenario's links). */
export function scheduledDirections(man: ManifestScenario | undefined): ScheduledDirection[] {
  const sc = man?.scenario;
  if (!isObj(sc) || !isObj(sc.links)) return [];
  const out: ScheduledDirection[] = [];
  for (const [link, spec] of Object.entries(sc.links)) {
    if (!isObj(spec)) continue;
    for (const dir of DIRS) {
      const imp = spec[dir];
      if (!isObj(imp)) continue;
      // a direction that replays a capacity trace is shown too, with the schedule it may also have
      const traced = isObj(imp.trace);
      if (!traced && (!isObj(imp.schedule) || !Array.isArray(imp.schedule.steps))) continue;
      const raw = isObj(imp.schedule) && Array.isArray(imp.schedule.steps) ? imp.schedule.steps : [];
      const steps = raw.filter((s): s is LinkSchedule['steps'][number] => isObj(s) && num(s.atMs) && isObj(s.set));
      if (!steps.length && !traced) continue;
      const schedule: LinkSchedule = { steps };
      if (isObj(imp.schedule) && num(imp.schedule.repeatMs) && imp.schedule.repeatMs > 0) schedule.repeatMs = imp.schedule.repeatMs;
      // a traced direction's rate is the trace's (its mean is only what the link has between
      // trials): there is no scheduled rate to hold the windows to
      const base = { ...(imp as LinkImpairment) };
      if (isObj(imp.trace)) delete base.rateBps;
      out.push({ link, dir, base, schedule, ...(isObj(imp.trace) ? { traced: true } : {}) });
    }
  }
  return out;
}

/** How long a trial of this scenario runs its workload (ms), when it says. */
export function scenarioDurationMs(man: ManifestScenario | undefined): number | undefined {
  const sc = man?.scenario;
  if (!isObj(sc) || !isObj(sc.workload)) return undefined;
  try {
    return workloadMs(sc as unknown as Parameters<typeof workloadMs>[0]);
  } catch {
    return undefined;
  }
}

/** One stretch of constant values: [t0, t1) ms from time zero. */
export interface Segment {
  t0: number;
  t1: number;
  rateBps: number | null;
  delayMs: number;
  loss: number;
  outage: boolean;
}

/** The direction's values over [0, untilMs) as constant segments (ramps in their 10 ms steps, cycles repeated). */
export function timeline(d: ScheduledDirection, untilMs: number): Segment[] {
  const ev = scheduleEvents(d.base, d.schedule);
  const own = { rateBps: d.base.rateBps ?? null, delayMs: d.base.delayMs ?? 0, loss: d.base.loss ?? 0, outage: false };
  const period = d.schedule.repeatMs;
  const all: { tMs: number; field: string; value: number }[] = [];
  for (let o = 0; o < untilMs; o += period ?? Infinity) {
    for (const e of ev) if (e.tMs + o < untilMs && (period === undefined || e.tMs < period)) all.push({ ...e, tMs: e.tMs + o });
    if (period === undefined) break;
    // each cycle starts from the link's own values (the events at repeatMs set them back)
    for (const f of ['rateBps', 'delayMs', 'loss'] as const)
      if (own[f] !== null && o + period < untilMs) all.push({ tMs: o + period, field: f, value: own[f] });
  }
  const segs: Segment[] = [];
  const cur = { ...own };
  let t = 0;
  for (const e of all) {
    if (e.tMs > t) {
      segs.push({ t0: t, t1: e.tMs, ...cur });
      t = e.tMs;
    }
    if (e.field === 'outage') cur.outage = e.value === 1;
    else if (e.field === 'rateBps' || e.field === 'delayMs' || e.field === 'loss') cur[e.field] = e.value;
  }
  if (untilMs > t) segs.push({ t0: t, t1: untilMs, ...cur });
  return segs;
}

/** Bytes the schedule lets through in [a, b) ms: the rate integrated, nothing in an outage. null: no rate. */
export function capacityBytes(segs: Segment[], a: number, b: number): number | null {
  let bits = 0;
  for (const s of segs) {
    const lo = Math.max(a, s.t0),
      hi = Math.min(b, s.t1);
    if (hi <= lo || s.outage) continue;
    if (s.rateBps === null) return null;
    bits += (s.rateBps * (hi - lo)) / 1000;
  }
  return bits / 8;
}

export type PhaseKind = 'steady' | 'ramp' | 'outage';

/** One phase of a cycle: [t0, t1) ms from the cycle's start; `starts` are the phase's start times in the trial. */
export interface Phase {
  t0: number;
  t1: number;
  kind: PhaseKind;
  /** scheduled rate (bit/s) in force; a ramp: from → to; null: the direction has no rate */
  rate: [number, number] | null;
  delayMs: [number, number];
  loss: number;
  starts: number[];
}

/** The phases of a schedule: intervals between its changes (a ramp and an outage are one phase each). */
export function phases(d: ScheduledDirection, untilMs: number): Phase[] {
  const cycle = Math.min(d.schedule.repeatMs ?? untilMs, untilMs);
  const segs = timeline(d, cycle);
  const at = (t: number) => segs.find((s) => s.t0 <= t && t < s.t1) ?? segs[segs.length - 1]!;
  const cuts: { t: number; kind: PhaseKind }[] = [{ t: 0, kind: 'steady' }];
  for (const s of d.schedule.steps) {
    if (s.atMs >= cycle) break;
    const len = s.outageMs ?? s.overMs ?? 0;
    cuts.push({ t: s.atMs, kind: s.outageMs !== undefined ? 'outage' : s.overMs ? 'ramp' : 'steady' });
    if (len && s.atMs + len < cycle) cuts.push({ t: s.atMs + len, kind: 'steady' });
  }
  const out: Phase[] = [];
  cuts.forEach((c, i) => {
    const t1 = i + 1 < cuts.length ? cuts[i + 1]!.t : cycle;
    if (t1 <= c.t) return;
    // a ramp's last 10 ms step lands exactly at its end: the value there is its target
    const first = at(c.t),
      last = c.kind === 'ramp' ? at(t1) : first;
    const starts: number[] = [];
    for (let o = 0; o + c.t < untilMs; o += d.schedule.repeatMs ?? Infinity) {
      starts.push(o + c.t);
      if (d.schedule.repeatMs === undefined) break;
    }
    out.push({
      t0: c.t,
      t1,
      kind: c.kind,
      rate:
        c.kind === 'outage' || first.rateBps === null
          ? c.kind === 'outage'
            ? [0, 0]
            : null
          : [first.rateBps, last.rateBps ?? first.rateBps],
      delayMs: [first.delayMs, last.delayMs],
      loss: first.loss,
      starts,
    });
  });
  return out;
}

/** One trial's schedule telemetry of one link direction. */
export interface DirTelemetry {
  link: string;
  dir: Dir;
  binMs: number;
  delivered: number[];
  changes: number;
}

/** The schedule parts of a trial's telemetry file (anything else in it is ignored; malformed parts skipped). */
export function scheduleTelemetry(value: unknown): DirTelemetry[] {
  if (!Array.isArray(value)) return [];
  const out: DirTelemetry[] = [];
  const bins = (v: unknown): number[] | null => (Array.isArray(v) && v.every(num) ? (v as number[]) : null);
  for (const entry of value) {
    if (!isObj(entry) || typeof entry.link !== 'string' || !isObj(entry.stats)) continue;
    const st = entry.stats;
    for (const dir of DIRS) {
      // the relay: per direction; netem: changes per direction, delivered of the forward egress
      const relay =
        isObj(st[dir]) && isObj((st[dir] as Record<string, unknown>).schedule)
          ? ((st[dir] as Record<string, unknown>).schedule as Record<string, unknown>)
          : null;
      const netem = isObj(st.schedule) && isObj(st.schedule[dir]) ? (st.schedule[dir] as Record<string, unknown>) : null;
      const src = relay ?? netem;
      if (!src) continue;
      const delivered = bins(relay ? relay.delivered : dir === 'forward' ? st.delivered : undefined);
      const binMs = relay ? relay.deliveredBinMs : st.deliveredBinMs;
      out.push({
        link: entry.link,
        dir,
        binMs: num(binMs) && binMs > 0 ? binMs : 100,
        delivered: delivered ?? [],
        changes: Array.isArray(src.changes) ? src.changes.length : 0,
      });
    }
  }
  return out;
}

export interface PhaseFidelity {
  phase: Phase;
  /** full windows (inside the phase and the workload) over all judged trials */
  windows: number;
  trials: number;
  /** delivered rate per window, bit/s */
  medianBps: number | null;
  maxBps: number | null;
  /** all the windows' bytes over all their time, bit/s: robust to a late sampler moving bytes between windows */
  meanBps: number | null;
  /** scheduled rate per window (capacity / window), bit/s: the least and the most over the phase's windows */
  capMinBps: number | null;
  capMaxBps: number | null;
  /** median over the windows of delivered / scheduled (windows with a scheduled rate above 0) */
  medianShare: number | null;
  /** windows that delivered more than the schedule allows + one frame (in an outage: any byte) */
  over: number;
  /** the largest excess over the allowance, bytes */
  worstExcessBytes: number;
}

/** Per-phase delivered vs scheduled of one direction over the trials' telemetry. */
export function phaseFidelity(d: ScheduledDirection, untilMs: number, trials: DirTelemetry[]): PhaseFidelity[] {
  const segs = timeline(d, untilMs);
  return phases(d, untilMs).map((p) => {
    const rates: number[] = [],
      shares: number[] = [];
    let capMin = Infinity,
      capMax = -Infinity,
      over = 0,
      worst = 0,
      nTrials = 0,
      noRate = false;
    for (const t of trials) {
      const B = t.binMs;
      let used = false;
      for (const s of p.starts) {
        const end = Math.min(s + (p.t1 - p.t0), untilMs);
        for (let k = Math.ceil(s / B - 1e-9); (k + 1) * B <= end + 1e-9 && k < t.delivered.length; k++) {
          const bytes = t.delivered[k]!;
          used = true;
          rates.push((bytes * 8 * 1000) / B);
          const cap = capacityBytes(segs, k * B, (k + 1) * B);
          if (cap === null) {
            noRate = true;
            continue;
          }
          capMin = Math.min(capMin, (cap * 8 * 1000) / B);
          capMax = Math.max(capMax, (cap * 8 * 1000) / B);
          if (cap > 0) shares.push(bytes / cap);
          const excess = cap === 0 ? bytes : bytes - cap - FRAME_BYTES;
          if (excess > 0) {
            over++;
            worst = Math.max(worst, excess);
          }
        }
      }
      if (used) nTrials++;
    }
    rates.sort((a, b) => a - b);
    shares.sort((a, b) => a - b);
    return {
      phase: p,
      windows: rates.length,
      trials: nTrials,
      medianBps: rates.length ? quantileSorted(rates, 0.5) : null,
      maxBps: rates.length ? rates[rates.length - 1]! : null,
      meanBps: rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : null,
      capMinBps: noRate || capMin === Infinity ? null : capMin,
      capMaxBps: noRate || capMax === -Infinity ? null : capMax,
      medianShare: noRate || !shares.length ? null : quantileSorted(shares, 0.5),
      over,
      worstExcessBytes: worst,
    };
  });
}
