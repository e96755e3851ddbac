/**
 * The schedule part of a scenario's report section: the overlay drawn behind its time-series charts,
 * a "delivered per 100 ms" chart per scheduled link direction with the scheduled rate over it, and
 * the per-phase fidelity table (schedule.ts computes; this file formats). Pure: no I/O.
 */
import type { ManifestScenario, TrialRecord } from '../results/types.js';
import type { ScheduleStep } from '../scenario/links.js';
import { spread } from './arms.js';
import { armLines, type LineSeries, timeSeriesChart } from './timeseries-chart.js';
import { fmtNum } from './format.js';
import {
  type DirTelemetry,
  FRAME_BYTES,
  type PhaseFidelity,
  phaseFidelity,
  scenarioDurationMs,
  type ScheduledDirection,
  scheduledDirections,
  timeline,
} from './schedule.js';
import type { ScheduleOverlay } from './schedule-svg.js';

const mbit = (bps: number) => (bps > 0 && bps < 1e5 ? `${fmtNum(bps / 1e3)} kbit/s` : `${fmtNum(bps / 1e6)} Mbit/s`);
const secs = (ms: number) => `${fmtNum(ms / 1000)} s`;

/** What a step changes, in words ("rate 5 Mbit/s, delay 40 ms"). */
function stepText(s: ScheduleStep): string {
  const v = s.set;
  return [
    v.rateBps !== undefined ? mbit(v.rateBps) : '',
    v.delayMs !== undefined ? `delay ${fmtNum(v.delayMs)} ms` : '',
    v.jitterMs !== undefined ? `jitter ${fmtNum(v.jitterMs)} ms` : '',
    v.loss !== undefined ? `loss ${fmtNum(v.loss * 100)} %` : '',
    v.reorder !== undefined ? `reorder ${fmtNum(v.reorder * 100)} %` : '',
    v.bufferBytes !== undefined ? `buffer ${fmtNum(v.bufferBytes / 1000)} kB` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/** Bands and marks of the given directions over [0, untilMs), in seconds; the rate line of `rateOf`. */
export function overlayFor(dirs: ScheduledDirection[], untilMs: number, rateOf: ScheduledDirection | null): ScheduleOverlay {
  const o: ScheduleOverlay = { bands: [], marks: [] };
  for (const d of dirs) {
    const who = dirs.length > 1 ? `${d.link} ${d.dir}: ` : '';
    for (let c = 0; c < untilMs; c += d.schedule.repeatMs ?? Infinity) {
      for (const s of d.schedule.steps) {
        const at = c + s.atMs;
        if (at >= untilMs || (d.schedule.repeatMs !== undefined && s.atMs >= d.schedule.repeatMs)) break;
        if (o.bands.length + o.marks.length >= 400) return o;
        if (s.outageMs !== undefined)
          o.bands.push({ x0: at / 1000, x1: (at + s.outageMs) / 1000, kind: 'outage', label: `${who}outage ${fmtNum(s.outageMs)} ms` });
        else if (s.overMs) o.bands.push({ x0: at / 1000, x1: (at + s.overMs) / 1000, kind: 'ramp', label: `${who}ramp → ${stepText(s)}` });
        else o.marks.push({ x: at / 1000, label: `${who}${stepText(s)}` });
      }
      if (d.schedule.repeatMs === undefined) break;
    }
  }
  if (rateOf && rateOf.base.rateBps !== undefined) {
    const points: [number, number][] = [];
    for (const g of timeline(rateOf, untilMs)) {
      const v = g.outage ? 0 : (g.rateBps ?? 0) / 1e6;
      points.push([g.t0 / 1000, v], [g.t1 / 1000, v]);
    }
    o.rate = { label: dirs.length > 1 ? `scheduled rate, ${rateOf.dir}` : 'scheduled rate', points };
  }
  return o;
}

export interface ScheduleSection {
  /** drawn behind the scenario's time-series charts */
  overlay: ScheduleOverlay;
  deliveredSvgs: string[];
  tables: { title: string; rows: Record<string, string>[]; trials: number; missing: string }[];
  note: string;
  /** one line over the tables: how many phases were flagged */
  summary: string;
  flagged: boolean;
}

/**
 * The judged trials whose telemetry is theirs: a re-run pair replaces its earlier records and its
 * telemetry file (named by trial id), so only each trial's latest record counts.
 */
function judgedLatest(trials: TrialRecord[], excludeSuspect: boolean): TrialRecord[] {
  const by = new Map<string, TrialRecord>();
  for (const t of trials) by.set(t.trial, t);
  return [...by.values()].filter((t) => t.status === 'ok' && !t.warmup && !(t.suspect && excludeSuspect));
}

export function scheduleSection(
  man: ManifestScenario | undefined,
  all: TrialRecord[],
  excludeSuspect: boolean,
  tele: Map<string, DirTelemetry[]> | undefined,
  maxSeries: number,
  drawCharts: boolean,
): ScheduleSection | null {
  const dirs = scheduledDirections(man);
  if (!dirs.length) return null;
  const trials = judgedLatest(all, excludeSuspect);
  const teleOf = (t: TrialRecord, d: ScheduledDirection) =>
    tele?.get(t.trial)?.find((x) => x.link === d.link && x.dir === d.dir && x.delivered.length > 0) ?? null;
  const longest = Math.max(0, ...[...(tele?.values() ?? [])].flat().map((x) => x.delivered.length * x.binMs));
  const untilMs =
    scenarioDurationMs(man) ??
    (longest ||
      Math.max(
        ...dirs.map((d) => d.schedule.repeatMs ?? Math.max(...d.schedule.steps.map((s) => s.atMs + (s.outageMs ?? s.overMs ?? 0))) + 1000),
      ));
  const forwardRated = dirs.find((d) => d.dir === 'forward' && d.base.rateBps !== undefined) ?? null;
  const overlay = overlayFor(dirs, untilMs, forwardRated);

  const deliveredSvgs: string[] = [];
  const tables: ScheduleSection['tables'] = [];
  for (const d of dirs) {
    const withTele = trials.filter((t) => teleOf(t, d));
    if (drawCharts && withTele.length) {
      const lines: LineSeries[] = [];
      for (const arm of ['control', 'canary'] as const) {
        const ts = spread(
          withTele.filter((t) => t.arm === arm),
          maxSeries,
        );
        lines.push(
          ...armLines(arm, ts, 0.55, (t) => {
            const x = teleOf(t, d)!;
            const pts: [number, number][] = [];
            for (let k = 0; k < x.delivered.length && (k + 1) * x.binMs <= untilMs; k++)
              pts.push([((k + 0.5) * x.binMs) / 1000, (x.delivered[k]! * 8) / (x.binMs * 1000)]);
            return pts;
          }),
        );
      }
      const binMs = teleOf(withTele[0]!, d)!.binMs;
      deliveredSvgs.push(
        timeSeriesChart(lines, [], {
          title: `${d.link} ${d.dir}: delivered per ${fmtNum(binMs)} ms vs scheduled rate`,
          yLabel: 'Mbit/s',
          schedule: overlayFor([d], untilMs, d.base.rateBps !== undefined ? d : null),
        }),
      );
    }
    const fid = phaseFidelity(
      d,
      untilMs,
      withTele.map((t) => teleOf(t, d)!),
    );
    tables.push({
      title: `${d.link} ${d.dir}${d.traced ? ' (rate from a capacity trace: not held to a schedule)' : ''}`,
      rows: fid.map((f) => phaseRow(f, d)),
      trials: withTele.length,
      missing: withTele.length
        ? ''
        : 'No judged trial has delivered bytes for this direction in its telemetry (the netem engine records only the forward egress; runs before delivered was recorded have none): the schedule only.',
    });
  }
  const note =
    'Measured: the bytes that left the link direction’s bottleneck (relay: its queue; netem: the forward egress device counters) ' +
    'in each 100 ms window from time zero (the first data segment), over the full windows inside each phase and the workload, ' +
    'pooled across the judged trials (not warm-up, not excluded). Scheduled: what the schedule lets through in each window ' +
    `(the rate integrated over it; ramps in their 10 ms steps). Flagged: a window that delivered more than that plus one ${FRAME_BYTES}-byte frame ` +
    '(a limiter that overshoots, or a change applied late), or any byte in a window wholly inside an outage. Delay and loss are the scheduled values; ' +
    'they are not measured per phase.' +
    (man?.engine?.name === 'netem'
      ? ' netem engine: the windows are device counters read by a timer that runs late under load (docs/schedules.md), so a window can hold more or less than 100 ms of traffic and a flag can be the sampler rather than the link; the mean over the phase is not affected.'
      : '');
  const rows = tables.flatMap((t) => t.rows);
  const flagged = rows.filter((r) => r.flag).length;
  const checked = rows.filter((r) => r.okText === 'ok').length;
  const summary = flagged
    ? `${flagged} of ${checked} phases flagged`
    : checked
      ? `all ${checked} phases with telemetry within the schedule`
      : 'no delivered bytes in the telemetry';
  return { overlay, deliveredSvgs, tables, note, summary, flagged: flagged > 0 };
}

function range(a: number, b: number, f: (v: number) => string): string {
  return a === b ? f(a) : `${f(a)} → ${f(b)}`;
}

function phaseRow(f: PhaseFidelity, d: ScheduledDirection): Record<string, string> {
  const p = f.phase;
  const flag =
    f.over === 0
      ? ''
      : p.kind === 'outage'
        ? `${f.over} outage window${f.over === 1 ? '' : 's'} delivered bytes (up to ${fmtNum(f.worstExcessBytes)} B)`
        : `${f.over} window${f.over === 1 ? '' : 's'} above schedule + 1 frame (by up to ${fmtNum(f.worstExcessBytes)} B)`;
  return {
    when: `${secs(p.t0)} – ${secs(p.t1)}${d.schedule.repeatMs !== undefined ? ` (every ${secs(d.schedule.repeatMs)})` : ''}`,
    kind: p.kind,
    rate: p.kind === 'outage' ? '0 (outage)' : p.rate ? range(p.rate[0], p.rate[1], mbit) : '–',
    delay: range(p.delayMs[0], p.delayMs[1], (v) => `${fmtNum(v)} ms`) + (p.loss ? `, loss ${fmtNum(p.loss * 100)} %` : ''),
    windows: `${f.windows} (${f.trials} trial${f.trials === 1 ? '' : 's'})`,
    median: f.medianBps === null ? '–' : mbit(f.medianBps),
    max: f.maxBps === null ? '–' : mbit(f.maxBps),
    mean: f.meanBps === null ? '–' : mbit(f.meanBps),
    share: f.medianShare === null ? '–' : `${fmtNum(f.medianShare * 100)} %`,
    flag,
    okText: f.windows ? 'ok' : '–',
    cls: flag ? 'warn' : '',
  };
}

/** Flagged phases named in a line: at most this many. */
const MAX_FLAGGED = 3;

/**
 * Per scenario id, a line for summary.md and junit.xml when the telemetry flagged a phase of the
 * scenario's schedule ("schedule fidelity: 2 of 14 phases flagged: bottleneck forward, 10 s – 20 s:
 * …"). Scenarios without a schedule cost nothing.
 */
export function scheduleFidelityNotes(
  scenarios: ManifestScenario[],
  trials: TrialRecord[],
  tele: Map<string, DirTelemetry[]> | undefined,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const man of scenarios) {
    if (!scheduledDirections(man).length) continue;
    const own = trials.filter((t) => t.scenario === man.id);
    const sec = scheduleSection(man, own, man.judge?.excludeSuspect ?? true, tele, 0, false);
    if (!sec?.flagged) continue;
    const flagged = sec.tables.flatMap((t) => t.rows.filter((r) => r.flag).map((r) => `${t.title}, ${r.when}: ${r.flag}`));
    const more = flagged.length > MAX_FLAGGED ? `; ${flagged.length - MAX_FLAGGED} more` : '';
    out.set(man.id, `schedule fidelity: ${sec.summary}: ${flagged.slice(0, MAX_FLAGGED).join('; ')}${more}`);
  }
  return out;
}
