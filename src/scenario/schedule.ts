/**
 * Schedules: a link direction's values changing during each trial (issue #16).
 *
 *   links: { bottleneck: { rate: 50mbit, schedule: [ { at: 2s, rate: 5mbit },
 *            { at: 4s, over: 1s, rate: 50mbit }, { at: 6s, outage: 200ms } ], repeat: 10s } }
 *
 * Times are relative to the start of each trial's workload, so both arms of a pair see the same
 * path. `over` ramps linearly (in RAMP_STEP_MS steps, the same on both engines); `outage` drops
 * every packet that arrives in the window. With `repeat`, each cycle starts from the link's own
 * values. This module: the YAML schema of a step, its normalisation and checks (located errors),
 * the expansion into change events both engines apply, and the warnings a loader prints.
 */
import { z } from 'zod/v4';
import type { LinkImpairment, LinkSchedule, ScheduledValues, ScheduleStep } from './links.js';
import { ResolveError } from './problems.js';
import { Buffer, DelayTime, DurationTime, OffsetTime, Percent, Rate } from './schema-units.js';
import { parseBuffer, parsePercent, parseRate, parseTime } from './units.js';

export { scheduleEvents, workloadMs } from './schedule-events.js';

/** at most this many steps in one schedule */
const MAX_STEPS = 10000;

export const ScheduleStepSchema = z
  .object({
    at: OffsetTime.describe('when, from the start of the trial workload'),
    over: DurationTime.optional().describe('ramp linearly to the new values over this long'),
    outage: DurationTime.optional().describe('drop every packet for this long'),
    delay: DelayTime.optional(),
    jitter: DelayTime.optional(),
    loss: Percent.optional(),
    reorder: Percent.optional(),
    rate: Rate.optional(),
    buffer: Buffer.optional().describe('bytes or packets ("64KB", "100p"); BDP forms use the base RTT and the rate after the step'),
  })
  .strict();

/** the keys a schedule adds to a link (and to its forward/reverse overrides) */
export const scheduleFields = {
  schedule: z.array(ScheduleStepSchema).min(1).max(MAX_STEPS).optional().describe('changes during each trial (see docs/schedules.md)'),
  repeat: DurationTime.optional().describe('the schedule starts over this often'),
};

export type ScheduleStepInput = z.infer<typeof ScheduleStepSchema>;

const VALUE_KEYS = ['delay', 'jitter', 'loss', 'reorder', 'rate', 'buffer'] as const;

/** A direction's schedule normalised (buffers in BDP forms need the RTT: resolveScheduleBuffers). */
export function resolveSchedule(
  steps: ScheduleStepInput[] | undefined,
  repeat: string | undefined,
  base: LinkImpairment,
  where: (field: string) => string[],
): LinkSchedule | undefined {
  if (!steps) {
    if (repeat !== undefined) throw new ResolveError(where('repeat'), 'repeat needs a schedule');
    return undefined;
  }
  const at = (i: number, k: string) => [...where('schedule'), String(i), k];
  const out: ScheduleStep[] = [];
  let end = -1;
  let prevAt = 0;
  steps.forEach((st, i) => {
    const atMs = parseTime(st.at);
    if (atMs < end || (i > 0 && atMs <= prevAt))
      throw new ResolveError(
        at(i, 'at'),
        `steps out of order: ${st.at} is before the end of the previous step (${end} ms); give the steps in time order without overlaps`,
      );
    const set: ScheduledValues = {};
    if (st.delay !== undefined) set.delayMs = parseTime(st.delay);
    if (st.jitter !== undefined) set.jitterMs = parseTime(st.jitter);
    if (st.loss !== undefined) set.loss = parsePercent(st.loss);
    if (st.reorder !== undefined) set.reorder = parsePercent(st.reorder);
    if (st.rate !== undefined) set.rateBps = parseRate(st.rate);
    const hasValue = VALUE_KEYS.some((k) => st[k] !== undefined);
    if (st.outage !== undefined && (hasValue || st.over !== undefined))
      throw new ResolveError(at(i, 'outage'), 'an outage step has only `at` and `outage`: give value changes in a step of their own');
    if (st.outage === undefined && !hasValue)
      throw new ResolveError(at(i, 'at'), `a step changes something: give outage or one of ${VALUE_KEYS.join(', ')}`);
    if ((st.rate !== undefined || st.buffer !== undefined) && base.rateBps === undefined)
      throw new ResolveError(
        at(i, st.rate !== undefined ? 'rate' : 'buffer'),
        'a schedule changes rate or buffer only on a link that has a rate (the bottleneck queue exists from the start)',
      );
    if (st.loss !== undefined && base.gemodel)
      throw new ResolveError(at(i, 'loss'), 'the link uses Gilbert-Elliott loss; a schedule can change only random loss');
    const step: ScheduleStep = { atMs, set };
    if (st.over !== undefined) step.overMs = parseTime(st.over);
    if (st.outage !== undefined) step.outageMs = parseTime(st.outage);
    out.push(step);
    prevAt = atMs;
    end = atMs + (step.overMs ?? step.outageMs ?? 0);
  });
  const sched: LinkSchedule = { steps: out };
  if (repeat !== undefined) {
    sched.repeatMs = parseTime(repeat);
    if (sched.repeatMs < end)
      throw new ResolveError(where('repeat'), `repeat ${repeat} is shorter than the schedule (its last step ends at ${end} ms)`);
  }
  // jitter and reorder need a delay at every moment they are set
  let delay = base.delayMs ?? 0;
  out.forEach((s, i) => {
    if (s.set.delayMs !== undefined) delay = s.set.delayMs;
    if ((s.set.jitterMs || s.set.reorder) && !delay)
      throw new ResolveError(at(i, s.set.jitterMs ? 'jitter' : 'reorder'), 'jitter and reorder need a delay in effect at that step');
  });
  return sched;
}

/** Resolve the steps' buffers (bytes, packets or BDPs at the step's rate and the base RTT). */
export function resolveScheduleBuffers(
  steps: ScheduleStepInput[] | undefined,
  sched: LinkSchedule | undefined,
  base: LinkImpairment,
  rttMs: number,
): void {
  if (!steps || !sched) return;
  let rate = base.rateBps ?? 0;
  steps.forEach((st, i) => {
    const s = sched.steps[i]!;
    if (s.set.rateBps !== undefined) rate = s.set.rateBps;
    if (st.buffer === undefined) return;
    const b = parseBuffer(st.buffer);
    const bdp = (rate * Math.max(rttMs, 1)) / 8 / 1000;
    const bytes = b.kind === 'bytes' ? b.bytes : b.kind === 'packets' ? b.packets * 1514 : b.factor * bdp;
    s.set.bufferBytes = Math.max(2 * 1514, Math.round(bytes));
  });
}

/** Warnings for a scheduled link: steps that start after the workload ends (never applied). */
export function scheduleWarnings(
  links: Record<string, { forward: LinkImpairment; reverse: LinkImpairment }>,
  workloadMs: number | undefined,
): string[] {
  if (workloadMs === undefined) return [];
  const out: string[] = [];
  for (const [name, spec] of Object.entries(links))
    for (const dir of ['forward', 'reverse'] as const) {
      const steps = spec[dir].schedule?.steps ?? [];
      const late = steps.filter((s) => s.atMs >= workloadMs);
      if (late.length)
        out.push(
          `links.${name} ${dir}: ${late.length} schedule step(s) at or after ${workloadMs} ms, the workload's duration: they are never applied`,
        );
    }
  return out;
}
