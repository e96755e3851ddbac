/**
 * Trace replay input (issue #16): mahimahi's link trace format. One line per delivery opportunity:
 * an integer millisecond timestamp from the start of the trace, non-decreasing; each line is an
 * opportunity for one 1500-byte packet to leave the bottleneck (several in one millisecond repeat
 * the timestamp). The trace repeats when it ends, with period = the last timestamp (as mm-link).
 *
 *   links: { bottleneck: { delay: 20ms, trace: { forward: traces/lte-driving.down } } }
 *
 * Paths are relative to the scenario file; files are read through the safe reader (regular files,
 * size cap). A malformed line is a located error (file:line). Only the userspace relay replays
 * traces (docs/schedules.md says why): the netem engine builds such a link with the relay.
 */
import { createHash } from 'node:crypto';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod/v4';
import { InputError } from './errors.js';
import { type LinkImpairment, TRACE_OPPORTUNITY_BYTES, type TraceInfo } from './links.js';
import { ResolveError } from './problems.js';
import { readInputFile } from './source.js';

const TracePath = z
  .string()
  .min(1)
  .max(4096)
  .regex(/^[^\0]+$/, { message: 'a file path' })
  .describe('a mahimahi trace file (one ms timestamp per 1500-byte delivery opportunity), relative to the scenario file');

export const TraceSchema = z
  .object({ forward: TracePath.optional(), reverse: TracePath.optional() })
  .strict()
  .describe('replay a capacity trace per direction (userspace relay; see docs/schedules.md)');

/** Parse a trace's text (pure; unit-tested): the timestamps, or a located error. */
export function parseTrace(text: string, file: string): number[] {
  const times: number[] = [];
  const lines = text.split('\n');
  let prev = 0;
  const bad = (i: number, message: string): never => {
    throw new InputError([{ file, line: i + 1, col: 1, path: '', message }]);
  };
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (l === '') continue;
    if (!/^\d{1,10}$/.test(l))
      bad(i, `expected a whole number of milliseconds (one delivery opportunity per line), got "${l.slice(0, 40)}"`);
    const t = Number(l);
    if (t < prev) bad(i, `timestamps must not decrease (${t} after ${prev})`);
    times.push(t);
    prev = t;
  }
  if (times.length === 0) bad(0, 'the trace is empty: one millisecond timestamp per delivery opportunity');
  if (prev <= 0) bad(lines.length - 1, 'the last timestamp (the period the trace repeats with) must be above 0');
  return times;
}

/** Mean and 1 s window percentiles of a trace's capacity (pure; unit-tested). */
export function traceStats(times: number[]): Omit<TraceInfo, 'file' | 'sha256' | 'times'> {
  const periodMs = times[times.length - 1]!;
  const bits = TRACE_OPPORTUNITY_BYTES * 8;
  const windows = Math.max(1, Math.floor(periodMs / 1000));
  const per = new Array<number>(windows).fill(0);
  for (const t of times) if (t < windows * 1000) per[Math.floor(t / 1000)]!++;
  const sorted = per.map((n) => n * bits).sort((a, b) => a - b);
  const q = (p: number) => {
    const h = (sorted.length - 1) * p;
    const lo = Math.floor(h);
    return sorted[lo]! + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? 0) - sorted[lo]!);
  };
  return {
    periodMs,
    opportunities: times.length,
    meanBps: Math.round((times.length * bits * 1000) / periodMs),
    p10Bps: Math.round(q(0.1)),
    p50Bps: Math.round(q(0.5)),
    p90Bps: Math.round(q(0.9)),
  };
}

/** Read and check a trace file (the loader and the engine both call this). */
export function loadTrace(file: string): { info: TraceInfo; times: number[] } {
  const text = readInputFile(file, 'trace file');
  const times = parseTrace(text, file);
  const sha256 = createHash('sha256').update(text).digest('hex');
  return { info: { file, sha256, ...traceStats(times) }, times };
}

/**
 * Resolve a link's `trace` into its directions: the trace's mean capacity becomes the direction's
 * rate (what it has before the schedule is armed, and what buffers in BDPs are computed from).
 */
export function resolveTraces(
  trace: { forward?: string; reverse?: string } | undefined,
  dirs: { forward: LinkImpairment; reverse: LinkImpairment },
  scenarioFile: string,
  where: (dir: 'forward' | 'reverse') => string[],
): void {
  if (!trace) return;
  for (const dir of ['forward', 'reverse'] as const) {
    const p = trace[dir];
    if (p === undefined) continue;
    const file = isAbsolute(p) ? p : resolve(dirname(scenarioFile), p);
    const imp = dirs[dir];
    if (imp.schedule?.steps.some((s) => s.set.rateBps !== undefined))
      throw new ResolveError(where(dir), 'a traced direction takes its rate from the trace: its schedule cannot change rate');
    const { info } = loadTrace(file);
    imp.trace = info;
    imp.rateBps = info.meanBps;
  }
}

/** The opportunities of a trace the scenario recorded, read again (refused if the file changed since). */
export function traceTimes(info: TraceInfo): number[] {
  const { info: now, times } = loadTrace(info.file);
  if (now.sha256 !== info.sha256) throw new Error(`trace ${info.file} changed after the scenario was loaded`);
  return times;
}
