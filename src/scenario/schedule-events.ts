/**
 * A schedule's change events, which both engines apply and the report draws, and a workload's
 * duration: pure functions of a resolved scenario, apart from the schema and checks in
 * schedule.ts so that their users (the report among them) do not load the YAML and schema
 * libraries.
 */
import type { LinkImpairment, LinkSchedule, ScheduledValues } from './links.js';
import type { Workload } from './workloads.js';

/** Ramps advance in steps of this many ms (the same on both engines). */
export const RAMP_STEP_MS = 10;

export type ScheduleField = keyof ScheduledValues | 'outage';

/** One change both engines apply: at tMs (from the start of a cycle) `field` becomes `value` (outage: 1 on, 0 off). */
export interface ScheduleEvent {
  tMs: number;
  field: ScheduleField;
  value: number;
}

const FIELDS: (keyof ScheduledValues)[] = ['delayMs', 'jitterMs', 'loss', 'reorder', 'rateBps', 'bufferBytes'];

function round(field: ScheduleField, v: number): number {
  if (field === 'rateBps' || field === 'bufferBytes') return Math.round(v);
  if (field === 'delayMs' || field === 'jitterMs') return Math.round(v * 1000) / 1000;
  return +v.toPrecision(9);
}

/**
 * The change events of one cycle, in time order (pure; unit-tested). A ramp becomes one event per
 * RAMP_STEP_MS (the last exactly at at + over with the target value). With repeat, the values that
 * differ from the link's own at the cycle's end are set back at tMs = repeatMs.
 */
export function scheduleEvents(base: LinkImpairment, sched: LinkSchedule): ScheduleEvent[] {
  const cur: Required<ScheduledValues> = {
    delayMs: base.delayMs ?? 0,
    jitterMs: base.jitterMs ?? 0,
    loss: base.loss ?? 0,
    reorder: base.reorder ?? 0,
    rateBps: base.rateBps ?? 0,
    bufferBytes: base.bufferBytes ?? 0,
  };
  const own = { ...cur };
  const ev: ScheduleEvent[] = [];
  for (const s of sched.steps) {
    if (s.outageMs !== undefined) {
      ev.push({ tMs: s.atMs, field: 'outage', value: 1 }, { tMs: s.atMs + s.outageMs, field: 'outage', value: 0 });
      continue;
    }
    const n = s.overMs ? Math.max(1, Math.ceil(s.overMs / RAMP_STEP_MS)) : 0;
    for (const f of FIELDS) {
      const v1 = s.set[f];
      if (v1 === undefined) continue;
      const v0 = cur[f];
      if (n === 0) ev.push({ tMs: s.atMs, field: f, value: v1 });
      else
        for (let k = 1; k <= n; k++)
          ev.push({
            tMs: round('delayMs', s.atMs + (s.overMs! * k) / n),
            field: f,
            value: k === n ? v1 : round(f, v0 + ((v1 - v0) * k) / n),
          });
      cur[f] = v1;
    }
  }
  if (sched.repeatMs !== undefined)
    for (const f of FIELDS) if (cur[f] !== own[f]) ev.push({ tMs: sched.repeatMs, field: f, value: own[f] });
  // stable: the order of the steps (and fields) breaks ties
  return ev
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.tMs - b.e.tMs || a.i - b.i)
    .map((x) => x.e);
}

/** How long a trial's workload runs, when it has a set duration (bulk, compete), ms. */
export function workloadMs(s: { workload: Workload }): number | undefined {
  const w = s.workload;
  if (w.type === 'bulk') return (w.durationS + w.omitS) * 1000;
  if (w.type === 'compete') return w.durationMs + w.omitMs + w.staggerMs;
  return undefined;
}
