/**
 * A schedule inside the userspace link model (pure: the caller passes the clock). Armed at the
 * workload's start (t0), it gives the model exact timing:
 *   - delay, jitter, loss, reorder, buffer and outages take the values scheduled at each packet's
 *     arrival time (every event due by then is applied before the packet is processed);
 *   - the rate is integrated over the bottleneck's service time: a packet whose serialisation spans
 *     a rate change is served at the old rate up to the change and at the new rate after it, so the
 *     departures follow the schedule to the nanosecond whether or not packets arrive at the change.
 * Ramps arrive here already cut into RAMP_STEP_MS steps (scenario/schedule-events.ts), the same steps the
 * netem engine applies. An outage delivers nothing for its window: every packet that arrives in it
 * is dropped, and the bottleneck's service pauses (rate 0), so packets already queued wait and
 * leave when it ends, as at a cellular base station across a handover. (A link without a rate has
 * no queue: only the drops apply.)
 */
import { type ScheduleEvent, type ScheduleField, scheduleEvents } from '../../scenario/schedule-events.js';
import { TRACE_OPPORTUNITY_BYTES } from '../../scenario/links.js';
import type { LinkImpairment } from '../types.js';

/** a change as the model applied it: tMs from the workload start (repeat cycles included) */
export interface AppliedChange {
  tMs: number;
  field: ScheduleField;
  value: number;
}

/** what the schedule changes in the model */
export interface ScheduleTarget {
  setScheduled(field: Exclude<ScheduleField, 'outage'>, value: number): void;
}

/** keep telemetry bounded: at most this many changes per stats interval */
export const MAX_LOGGED_CHANGES = 5000;
/** bytes leaving the bottleneck are counted in bins of this many ms from t0 (telemetry) */
export const DELIVERED_BIN_MS = 100;
const MAX_BINS = 36000;

/** A cursor over a cycle's events, repeating every periodNs (0 = once). Times absolute, ns. */
class Cursor {
  private cycle = 0;
  private i = 0;
  constructor(
    private readonly ev: readonly ScheduleEvent[],
    private readonly t0Ns: number,
    private readonly periodNs: number,
  ) {}
  get nextNs(): number {
    if (this.i >= this.ev.length) return Number.POSITIVE_INFINITY;
    return this.t0Ns + this.cycle * this.periodNs + this.ev[this.i]!.tMs * 1e6;
  }
  get nextMs(): number {
    return this.cycle * (this.periodNs / 1e6) + this.ev[this.i]!.tMs;
  }
  take(): ScheduleEvent {
    const e = this.ev[this.i++]!;
    if (this.i >= this.ev.length && this.periodNs > 0) {
      this.i = 0;
      this.cycle++;
    }
    return e;
  }
}

/**
 * mahimahi's link: delivery opportunities at t0 + (cycle * period + times[i]) ms, each for up to
 * TRACE_OPPORTUNITY_BYTES of queued packets; a packet larger than what is left of one spills into
 * the next, and capacity unused while the queue is empty is lost. A packet leaves at the
 * opportunity that carries its last byte.
 */
export class TraceService {
  private cycle = 0;
  private i = -1;
  private atNs = Number.NEGATIVE_INFINITY;
  private left = 0;
  constructor(
    private readonly times: readonly number[],
    private readonly periodMs: number,
    private readonly t0Ns: number,
  ) {}

  private next(): void {
    this.i++;
    if (this.i >= this.times.length) {
      this.i = 0;
      this.cycle++;
    }
    this.atNs = this.t0Ns + (this.cycle * this.periodMs + this.times[this.i]!) * 1e6;
    this.left = TRACE_OPPORTUNITY_BYTES;
  }

  serve(startNs: number, bytes: number): number {
    // the current opportunity serves this packet only if it is not past and has room left
    if (this.atNs < startNs || this.left <= 0) {
      do this.next();
      while (this.atNs < startNs);
    }
    let rem = bytes;
    for (;;) {
      const take = rem < this.left ? rem : this.left;
      rem -= take;
      this.left -= take;
      if (rem === 0) return this.atNs;
      this.next();
    }
  }
}

export class ModelSchedule {
  outage = false;
  private readonly all: Cursor;
  private readonly rates: Cursor;
  private readonly trace: TraceService | null;
  private rateBps: number;
  private down = false;
  private nsPerByte: number;

  /**
   * `log` receives each change once it is applied; `delivered[k]` the bytes that leave the
   * bottleneck in [k, k+1) * DELIVERED_BIN_MS after t0 (both owned, bounded and reset by the caller).
   */
  constructor(
    base: LinkImpairment,
    readonly t0Ns: number,
    private readonly log: AppliedChange[] = [],
    private readonly delivered: number[] = [],
  ) {
    const sched = base.schedule ?? { steps: [] };
    this.trace = base.trace?.times ? new TraceService(base.trace.times, base.trace.periodMs, t0Ns) : null;
    const ev = scheduleEvents(base, sched);
    const period = (sched.repeatMs ?? 0) * 1e6;
    this.all = new Cursor(ev, t0Ns, period);
    this.rates = new Cursor(
      ev.filter((e) => e.field === 'rateBps' || e.field === 'outage'),
      t0Ns,
      period,
    );
    this.rateBps = base.rateBps ?? 0;
    this.nsPerByte = this.rateBps ? 8e9 / this.rateBps : 0;
  }

  /** Apply every event due by nowNs to `m`; true while an outage holds. */
  advance(nowNs: number, m: ScheduleTarget): boolean {
    while (this.all.nextNs <= nowNs) {
      const tMs = this.all.nextMs;
      const e = this.all.take();
      if (e.field === 'outage') this.outage = e.value !== 0;
      else m.setScheduled(e.field, e.value);
      if (this.log.length < MAX_LOGGED_CHANGES) this.log.push({ tMs: +tMs.toFixed(3), field: e.field, value: e.value });
    }
    return this.outage;
  }

  /** When a packet of `bytes` whose service starts at startNs has left the bottleneck (rate integrated). */
  finish(startNs: number, bytes: number): number {
    const done = this.serve(startNs, bytes);
    const k = Math.floor((done - this.t0Ns) / (DELIVERED_BIN_MS * 1e6));
    if (k >= 0 && k < MAX_BINS) {
      while (this.delivered.length <= k) this.delivered.push(0);
      this.delivered[k]! += bytes;
    }
    return done;
  }

  /** the next rate or outage event: the service rate from then on (an outage serves nothing) */
  private nextRate(): void {
    const e = this.rates.take();
    if (e.field === 'outage') this.down = e.value !== 0;
    else this.rateBps = e.value;
    this.nsPerByte = this.down ? Number.POSITIVE_INFINITY : 8e9 / this.rateBps;
  }

  private serve(startNs: number, bytes: number): number {
    if (this.trace) return this.trace.serve(startNs, bytes);
    while (this.rates.nextNs <= startNs) this.nextRate();
    let t = startNs;
    let rem = bytes;
    for (;;) {
      const done = t + rem * this.nsPerByte;
      const next = this.rates.nextNs;
      if (done <= next) return done;
      if (this.nsPerByte !== Number.POSITIVE_INFINITY) rem -= (next - t) / this.nsPerByte;
      t = next;
      this.nextRate();
    }
  }
}
