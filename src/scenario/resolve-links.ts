/** A scenario's links normalised: each direction's impairment, the sender -> receiver path, buffers in bytes. */
import { AQM_DEFAULTS, LINK_DEFAULTS } from './defaults.js';
import type { Aqm, GilbertElliott, LinkImpairment, LinkSpec } from './links.js';
import type { Topology } from './model.js';
import { ResolveError } from './problems.js';
import { type DirectionInput, type LinkInput, LinkSchema } from './schema.js';
import { resolveSchedule, resolveScheduleBuffers } from './schedule.js';
import { own } from './source.js';
import { resolveTraces } from './trace.js';
import { pathLinks } from './topology.js';
import { type BufferSpec, formatSize, parseBuffer, parsePercent, parseRate, parseTime, RANGES } from './units.js';

/** bytes a full-size packet occupies in a qdisc (1500 MTU + 14 Ethernet header) */
const PACKET_BYTES = 1514;

function direction(d: DirectionInput | undefined, where: (field: string) => string[], traced = false): LinkImpairment {
  const out: LinkImpairment = {};
  if (!d) return out;
  if (d.delay !== undefined) out.delayMs = parseTime(d.delay);
  if (d.jitter !== undefined) out.jitterMs = parseTime(d.jitter);
  if (d.jitter_correlation !== undefined) out.jitterCorrelation = parsePercent(d.jitter_correlation);
  if (d.distribution !== undefined) out.distribution = d.distribution;
  if (d.loss !== undefined) {
    if (typeof d.loss === 'string') out.loss = parsePercent(d.loss);
    else if ('random' in d.loss) {
      out.loss = parsePercent(d.loss.random);
      if (d.loss.correlation) out.lossCorrelation = parsePercent(d.loss.correlation);
    } else {
      const g = d.loss.gemodel;
      const p = parsePercent(g.p);
      const ge: GilbertElliott = {
        p,
        r: g.r !== undefined ? parsePercent(g.r) : 1 - p,
        lossBad: g.bad !== undefined ? parsePercent(g.bad) : 1,
        lossGood: g.good !== undefined ? parsePercent(g.good) : 0,
      };
      out.gemodel = ge;
    }
  }
  if (d.reorder !== undefined) {
    if (typeof d.reorder === 'string') out.reorder = parsePercent(d.reorder);
    else {
      out.reorder = parsePercent(d.reorder.probability);
      if (d.reorder.correlation) out.reorderCorrelation = parsePercent(d.reorder.correlation);
      if (d.reorder.gap) out.reorderGap = d.reorder.gap;
    }
  }
  for (const k of ['duplicate', 'corrupt'] as const) {
    const v = d[k];
    if (v === undefined) continue;
    if (typeof v === 'string') out[k] = parsePercent(v);
    else {
      out[k] = parsePercent(v.probability);
      if (v.correlation) out[`${k}Correlation`] = parsePercent(v.correlation);
    }
  }
  if (d.rate !== undefined) out.rateBps = parseRate(d.rate);
  // zero values mean "not impaired"; drop them so both engines see the same thing
  for (const [k, v] of Object.entries(out)) if (v === 0) delete (out as Record<string, unknown>)[k];
  if (out.reorder !== undefined && !out.delayMs)
    throw new ResolveError(where('reorder'), 'reorder needs a delay (packets are reordered by skipping it)');
  if (out.jitterMs !== undefined && !out.delayMs) throw new ResolveError(where('jitter'), 'jitter needs a delay');
  if (d.buffer !== undefined && out.rateBps === undefined && !traced)
    throw new ResolveError(where('buffer'), 'buffer needs a rate (the queue forms at the bottleneck)');
  if (d.aqm !== undefined && out.rateBps === undefined)
    throw new ResolveError(where('aqm'), 'aqm needs a rate (it manages the bottleneck queue)');
  const schedule = resolveSchedule(d.schedule, d.repeat, out, where);
  if (schedule) out.schedule = schedule;
  return out;
}

function mergeDirection(base: LinkInput, over: DirectionInput | undefined): DirectionInput {
  const { forward: _f, reverse: _r, trace: _t, path: _p, ...common } = base;
  return { ...common, ...(over ?? {}) };
}

/** every link of the topology, impaired or not (buffers still unresolved) */
export function resolveLinks(topo: Topology, inputs: Record<string, LinkInput>, scenarioFile = '.'): Record<string, LinkSpec> {
  const links: Record<string, LinkSpec> = {};
  for (const l of topo.links) {
    const li = (own(inputs, l.name) as LinkInput | undefined) ?? LinkSchema.parse({});
    // a field's location: the forward/reverse override when it sets it, else the common part
    const where = (dir: 'forward' | 'reverse') => (field: string) =>
      (li[dir] as Record<string, unknown> | undefined)?.[field] !== undefined ? ['links', l.name, dir, field] : ['links', l.name, field];
    links[l.name] = {
      forward: direction(mergeDirection(li, li.forward), where('forward'), li.trace?.forward !== undefined),
      reverse: direction(mergeDirection(li, li.reverse), where('reverse'), li.trace?.reverse !== undefined),
    };
    resolveTraces(li.trace, links[l.name]!, scenarioFile, (dir) => ['links', l.name, 'trace', dir]);
  }
  return links;
}

export interface PathSummary {
  rttMs: number;
  /** the smallest forward rate along the path, bits per second */
  rate?: number;
  bottleneck?: { name: string; dir: 'forward' | 'reverse' };
  loss: number;
}

/** RTT, bottleneck and end-to-end loss along sender -> receiver (the data direction). */
export function pathSummary(topo: Topology, links: Record<string, LinkSpec>): PathSummary {
  const path = pathLinks(topo)!;
  let rttMs = 0;
  let rate: number | undefined;
  let bottleneck: { name: string; dir: 'forward' | 'reverse' } | undefined;
  let survive = 1;
  for (const p of path) {
    const fwd = p.forward ? links[p.name]!.forward : links[p.name]!.reverse;
    const rev = p.forward ? links[p.name]!.reverse : links[p.name]!.forward;
    rttMs += (fwd.delayMs ?? 0) + (rev.delayMs ?? 0);
    if (fwd.rateBps !== undefined && (rate === undefined || fwd.rateBps < rate)) {
      rate = fwd.rateBps;
      bottleneck = { name: p.name, dir: p.forward ? 'forward' : 'reverse' };
    }
    if (fwd.loss) survive *= 1 - fwd.loss;
    if (fwd.gemodel) {
      const g = fwd.gemodel;
      const piBad = g.p + g.r > 0 ? g.p / (g.p + g.r) : 0;
      survive *= 1 - (piBad * g.lossBad + (1 - piBad) * g.lossGood);
    }
  }
  return { rttMs, rate, bottleneck, loss: 1 - survive };
}

/** Resolve every rated link's buffer (bytes, packets, bdp, bdp/sqrt(n) forms) against the path RTT. */
export function resolveBuffers(
  topo: Topology,
  inputs: Record<string, LinkInput>,
  links: Record<string, LinkSpec>,
  rttMs: number,
  flowsOnBottleneck: number,
): void {
  for (const l of topo.links) {
    for (const dir of ['forward', 'reverse'] as const) {
      const li = own(inputs, l.name) as LinkInput | undefined;
      const spec = (li?.[dir]?.buffer ?? li?.buffer) as string | undefined;
      const imp = links[l.name]![dir];
      if (imp.rateBps === undefined) continue;
      const bdp = (imp.rateBps * Math.max(rttMs, 1)) / 8 / 1000;
      const bytes = specBytes(parseBuffer(spec ?? LINK_DEFAULTS.buffer), bdp, flowsOnBottleneck);
      imp.bufferBytes = Math.max(2 * PACKET_BYTES, Math.round(bytes));
      if (!(imp.bufferBytes <= RANGES.buffer.max)) {
        const field =
          li?.[dir]?.buffer !== undefined
            ? ['links', l.name, dir, 'buffer']
            : li?.buffer !== undefined
              ? ['links', l.name, 'buffer']
              : ['links', l.name, 'rate'];
        throw new ResolveError(
          field,
          `the ${dir} buffer of link ${l.name} comes to ${formatSize(imp.bufferBytes)} (${spec ?? '1bdp, the default'} at ${rttMs} ms RTT); at most ${formatSize(RANGES.buffer.max)}: give a smaller buffer`,
        );
      }
      const aqm = (li?.[dir]?.aqm ?? li?.aqm) as DirectionInput['aqm'];
      if (aqm) {
        const at = (f: string) => (li?.[dir]?.aqm !== undefined ? ['links', l.name, dir, 'aqm', f] : ['links', l.name, 'aqm', f]);
        imp.aqm = resolveAqm(aqm, imp.bufferBytes, (x) => specBytes(parseBuffer(x), bdp, flowsOnBottleneck), at);
      }
      if (li) resolveScheduleBuffers(mergeDirection(li, li[dir]).schedule, imp.schedule, imp, rttMs);
    }
  }
}

function specBytes(b: BufferSpec, bdp: number, flowsOnBottleneck: number): number {
  if (b.kind === 'bytes') return b.bytes;
  if (b.kind === 'packets') return b.packets * PACKET_BYTES;
  if (b.kind === 'bdp') return b.factor * bdp;
  return (b.factor * bdp) / Math.sqrt(flowsOnBottleneck);
}

/** RED thresholds against the resolved queue limit (defaults: AQM_DEFAULTS); min < max <= buffer. */
function resolveAqm(
  a: NonNullable<DirectionInput['aqm']>,
  bufferBytes: number,
  bytesOf: (spec: string) => number,
  at: (field: string) => string[],
): Aqm {
  const minIn = a.min !== undefined ? Math.round(bytesOf(a.min)) : undefined;
  const maxIn = a.max !== undefined ? Math.round(bytesOf(a.max)) : undefined;
  const maxBytes = maxIn ?? (minIn !== undefined ? Math.min(3 * minIn, bufferBytes) : Math.round(bufferBytes * AQM_DEFAULTS.maxOfBuffer));
  const minBytes = minIn ?? Math.round(maxBytes / 3);
  if (maxBytes > bufferBytes)
    throw new ResolveError(
      at('max'),
      `aqm max ${formatSize(maxBytes)} is above the queue limit ${formatSize(bufferBytes)} (the buffer): give a smaller max or a larger buffer`,
    );
  if (!(minBytes >= 1 && minBytes < maxBytes))
    throw new ResolveError(
      at(a.min !== undefined ? 'min' : 'max'),
      `aqm min (${formatSize(minBytes)}) must be at least 1 byte and below max (${formatSize(maxBytes)})`,
    );
  const maxP = a.probability !== undefined ? parsePercent(a.probability) : AQM_DEFAULTS.probability;
  if (!(maxP > 0 && maxP <= 1)) throw new ResolveError(at('probability'), 'aqm probability must be more than 0% and at most 100%');
  return { kind: 'red', ecn: a.ecn ?? AQM_DEFAULTS.ecn, minBytes, maxBytes, maxP };
}
