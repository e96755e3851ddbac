/**
 * Link schedules on the kernel engine: the qdiscs of one link end are changed in place
 * (`qdisc change`, never delete/re-add, which would empty the queues) through one long-lived
 * `tc -force -batch -` per end whose stdin stays open: tc reads and applies each line as it arrives
 * (measured: see docs/schedules.md). Node timers fire the changes at t0 + tMs; each change is logged
 * with the time it was written, relative to t0.
 *
 *   delay/jitter/loss/reorder  -> netem (root 1:) with its full argument list (change replaces them)
 *   rate/buffer                -> tbf (10: under netem, else the root) with rate, burst and limit
 *   outage                     -> netem `loss 100%` for the window, and tbf at the slowest rate so
 *                                 the queue is held, not drained (the relay's outage, model-schedule.ts)
 *
 * A schedule that touches netem fields needs a netem root from the start: scheduledTcCommands adds
 * one with nothing set when the link's own values have no netem part.
 */
import { readFileSync } from 'node:fs';
import { type ChildProcess, pidInNamespace, spawn } from '../exec/index.js';
import { type ScheduleEvent, scheduleEvents } from '../scenario/schedule-events.js';
import { hasNetemPart, netemArgs, tbfArgs, tcCommands } from './netem.js';
import type { LinkHandle, LinkRequest } from '../topology/links.js';
import type { LinkImpairment } from './types.js';

/** the tbf rate that holds the queue during an outage (a 1514-byte frame takes 12 s) */
const HOLD_RATE_BPS = 1000;

function needsNetem(i: LinkImpairment): boolean {
  return (i.schedule?.steps ?? []).some(
    (s) => s.outageMs !== undefined || ['delayMs', 'jitterMs', 'loss', 'reorder'].some((k) => k in s.set),
  );
}

/** tcCommands, with an empty netem root when the schedule will change netem fields in place. */
export function scheduledTcCommands(dev: string, i: LinkImpairment, seed?: number): string[][] {
  return tcCommands(dev, i, seed, Boolean(i.schedule) && needsNetem(i));
}

/** The tc batch lines that put `cur` (the values in force, outage or not) on `dev` (pure; unit-tested). */
export function changeLines(
  dev: string,
  base: LinkImpairment,
  cur: LinkImpairment,
  outage: boolean,
  netem: boolean,
  tbf: boolean,
): string[] {
  const lines: string[] = [];
  const hasNetem = hasNetemPart(base) || needsNetem(base);
  if (netem && hasNetem) {
    const n: LinkImpairment = outage ? { ...cur, gemodel: undefined, loss: 1, lossCorrelation: undefined } : cur;
    lines.push(['qdisc', 'change', 'dev', dev, 'root', 'handle', '1:', 'netem', ...netemArgs(n)].join(' '));
  }
  if (tbf && base.rateBps) {
    const where = hasNetem ? ['parent', '1:1', 'handle', '10:'] : ['root', 'handle', '1:'];
    const rate = outage ? HOLD_RATE_BPS : cur.rateBps!;
    lines.push(['qdisc', 'change', 'dev', dev, ...where, 'tbf', ...tbfArgs(rate, cur.bufferBytes)].join(' '));
  }
  return lines;
}

export interface NetemChange {
  /** scheduled time and the time the line was written to tc, ms from t0 */
  tMs: number;
  writtenMs: number;
  field: string;
  value: number;
}

/** Bytes sent on `dev` in `ns`, read from /proc/<pid>/net/dev of a process netab runs there (null: none). */
function txBytes(ns: string, dev: string): number | null {
  const pid = pidInNamespace(ns);
  if (pid === null) return null;
  try {
    const line = readFileSync(`/proc/${pid}/net/dev`, 'utf8')
      .split('\n')
      .find((l) => l.trim().startsWith(`${dev}:`));
    return line ? Number(line.split(':')[1]!.trim().split(/\s+/)[8]) : null;
  } catch {
    return null;
  }
}

/**
 * Call `go(t)` at the first poll (every 2 ms) that sees >= 8000 bytes more sent on the device than
 * when asked: a data burst (an initial window is 10 full frames; control exchanges are a few
 * hundred bytes). Without a readable counter it calls at once. Returns a cancel function.
 */
function onDataBurst(ns: string, dev: string, go: (t: number) => void): () => void {
  const first = txBytes(ns, dev);
  if (first === null) {
    go(performance.now());
    return () => {};
  }
  const poll = setInterval(() => {
    const b = txBytes(ns, dev);
    if (b === null || b - first >= 8000) {
      clearInterval(poll);
      go(performance.now());
    }
  }, 2);
  return () => clearInterval(poll);
}

/** One link end's schedule: a tc batch process and the timers that feed it. */
export class NetemScheduleRunner {
  private tc: ChildProcess | null = null;
  private timer: NodeJS.Timeout | null = null;
  private t0 = 0;
  changes: NetemChange[] = [];
  armedAfterMs: number | null = null;

  constructor(
    private readonly ns: string,
    private readonly dev: string,
    private readonly base: LinkImpairment,
  ) {}

  private ensureTc(): ChildProcess {
    if (!this.tc || this.tc.exited) this.tc = spawn(['tc', '-force', '-batch', '-'], { netns: this.ns });
    return this.tc;
  }

  /** the tc process's pid (recorded for cleanup) */
  start0(): number | undefined {
    return this.ensureTc().pid;
  }

  /** Arm with time zero t0 (performance.now() clock); `asked` = when the trial asked, for telemetry. */
  arm(asked: number, t0: number): void {
    this.disarm();
    this.ensureTc();
    this.go(asked, t0);
  }

  private go(asked: number, t0: number): void {
    this.t0 = t0;
    this.armedAfterMs = +(t0 - asked).toFixed(3);
    this.changes = [];
    const sched = this.base.schedule!;
    const ev = scheduleEvents(this.base, sched);
    const cur: LinkImpairment = { ...this.base };
    let outage = false;
    let i = 0;
    let cycle = 0;
    const period = sched.repeatMs ?? 0;
    const fire = () => {
      // every event due now (same time) in one write
      const due: ScheduleEvent[] = [];
      const now = performance.now() - this.t0;
      let netem = false;
      let tbf = false;
      while (i < ev.length && cycle * period + ev[i]!.tMs <= now + 0.5) {
        const e = ev[i++]!;
        due.push({ ...e, tMs: cycle * period + e.tMs });
        if (e.field === 'outage') {
          outage = e.value !== 0;
          netem = tbf = true;
        } else {
          (cur as Record<string, number>)[e.field] = e.value;
          if (e.field === 'rateBps' || e.field === 'bufferBytes') tbf = true;
          else netem = true;
        }
        if (i === ev.length && period > 0) {
          i = 0;
          cycle++;
        }
      }
      const lines = changeLines(this.dev, this.base, cur, outage, netem, tbf);
      if (lines.length) this.tc?.write(lines.join('\n'));
      const written = +(performance.now() - this.t0).toFixed(3);
      for (const e of due)
        if (this.changes.length < 5000) this.changes.push({ tMs: e.tMs, writtenMs: written, field: e.field, value: e.value });
      if (i < ev.length) this.timer = setTimeout(fire, Math.max(0, this.t0 + cycle * period + ev[i]!.tMs - performance.now()));
    };
    if (ev.length) this.timer = setTimeout(fire, Math.max(0, this.t0 + ev[0]!.tMs - performance.now()));
  }

  /** Stop the timers and put the link's own values back. */
  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.tc && !this.tc.exited && this.changes.length)
      this.tc.write(changeLines(this.dev, this.base, this.base, false, true, true).join('\n'));
  }

  async close(): Promise<void> {
    this.disarm();
    const tc = this.tc;
    this.tc = null;
    if (tc && !tc.exited) {
      tc.closeStdin();
      const t = setTimeout(() => void tc.stop(200), 2000);
      await tc.wait();
      clearTimeout(t);
    }
  }
}

/**
 * A scheduled link's handle parts on the netem engine: a runner per scheduled end (forward = the
 * egress of end a, reverse = of end b), closed at teardown; telemetry lists the changes written.
 */
export function scheduleRunners(req: LinkRequest): Pick<LinkHandle, 'telemetry' | 'schedule'> | null {
  const ends = [
    ['forward', req.a, req.spec.forward],
    ['reverse', req.b, req.spec.reverse],
  ] as const;
  const runners = ends.flatMap(([dir, e, imp]) => (imp.schedule ? [{ dir, r: new NetemScheduleRunner(e.ns, e.ifname, imp) }] : []));
  if (!runners.length) return null;
  for (const { r } of runners) {
    const pid = r.start0();
    if (pid !== undefined) req.resources.record((s) => s.pids.push(pid));
    req.resources.defer(`stop the schedule's tc of ${req.name}`, () => {
      stopSampler();
      return r.close();
    });
  }
  let cancel = () => {};
  // bytes leaving the forward egress (after netem and tbf) per 100 ms from time zero, read from the
  // device counters: the netem twin of the relay's `delivered`
  let sampler: NodeJS.Timeout | null = null;
  let delivered: number[] = [];
  const stopSampler = () => {
    if (sampler) clearInterval(sampler);
    sampler = null;
  };
  const startSampler = (t0: number) => {
    delivered = [];
    let last = txBytes(req.a.ns, req.a.ifname);
    let k = 0;
    const tick = () => {
      const b = txBytes(req.a.ns, req.a.ifname);
      if (b !== null && last !== null) delivered.push(b - last);
      last = b;
      k++;
      if (delivered.length >= 36000) stopSampler();
      else sampler = setTimeout(tick, Math.max(0, t0 + (k + 1) * 100 - performance.now()));
    };
    sampler = setTimeout(tick, Math.max(0, t0 + 100 - performance.now()));
  };
  return {
    schedule: async (action, trigger) => {
      cancel();
      stopSampler();
      for (const { r } of runners) r.disarm();
      if (action === 'stop') return;
      const asked = performance.now();
      const go = (t0: number) => {
        for (const { r } of runners) r.arm(asked, t0);
        startSampler(t0);
      };
      // the forward direction's egress carries the data: its first burst is time zero
      if (trigger === 'data') cancel = onDataBurst(req.a.ns, req.a.ifname, go);
      else go(asked);
    },
    telemetry: async () => ({
      engine: 'netem',
      schedule: Object.fromEntries(runners.map(({ dir, r }) => [dir, { armedAfterMs: r.armedAfterMs, changes: r.changes }])),
      deliveredBinMs: 100,
      delivered,
    }),
  };
}
