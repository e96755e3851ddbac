/**
 * tc argv for one direction of one link (the egress of a device), kernel netem engine.
 *   netem (delay, jitter, loss, reorder, duplicate, corrupt) as root qdisc 1:,
 *   a tbf child 10: at parent 1:1 for the bottleneck rate, whose byte limit is the bottleneck buffer.
 * With only a rate, tbf is the root. With `aqm` (RED), a red qdisc 20: replaces tbf's byte fifo as
 * its child (parent 10:1, or 1:1 when tbf is the root): tbf shapes, red holds the queue, its hard
 * limit the bottleneck buffer. With `seed`, netem draws from a seeded PRNG (kernel >= 5.19 with
 * iproute2 >= 6.2; the caller probes). Pure: unit-tested against exact argv.
 */
import { RED_AVPKT, redBurst } from './red.js';
import type { LinkImpairment } from './types.js';

/** netem's own queue only holds packets in the delay line; make it large enough never to drop */
export const NETEM_LIMIT = 100000;
const MTU_FRAME = 1514;

export function pct(x: number): string {
  return `${+(x * 100).toPrecision(6)}%`;
}

export function usec(ms: number): string {
  return `${Math.round(ms * 1000)}us`;
}

export function hasNetemPart(i: LinkImpairment): boolean {
  return Boolean(i.delayMs || i.loss || i.gemodel || i.duplicate || i.corrupt || i.reorder);
}

/** tbf burst: at least two full frames, else 1 ms at line rate */
export function tbfBurst(rateBps: number): number {
  return Math.max(2 * MTU_FRAME, Math.round(rateBps / 8 / 1000));
}

export function netemArgs(i: LinkImpairment, seed?: number): string[] {
  const a: string[] = ['limit', String(NETEM_LIMIT)];
  if (i.delayMs) {
    a.push('delay', usec(i.delayMs));
    if (i.jitterMs) {
      a.push(usec(i.jitterMs));
      if (i.jitterCorrelation) a.push(pct(i.jitterCorrelation));
      if (i.distribution && i.distribution !== 'uniform') a.push('distribution', i.distribution);
    }
  }
  if (i.gemodel) {
    const g = i.gemodel;
    a.push('loss', 'gemodel', pct(g.p), pct(g.r), pct(g.lossBad), pct(g.lossGood));
  } else if (i.loss) {
    a.push('loss', 'random', pct(i.loss));
    if (i.lossCorrelation) a.push(pct(i.lossCorrelation));
  }
  if (i.duplicate) {
    a.push('duplicate', pct(i.duplicate));
    if (i.duplicateCorrelation) a.push(pct(i.duplicateCorrelation));
  }
  if (i.corrupt) {
    a.push('corrupt', pct(i.corrupt));
    if (i.corruptCorrelation) a.push(pct(i.corruptCorrelation));
  }
  if (i.reorder) {
    a.push('reorder', pct(i.reorder));
    if (i.reorderCorrelation) a.push(pct(i.reorderCorrelation));
    a.push('gap', String(i.reorderGap ?? 1));
  }
  if (seed !== undefined) a.push('seed', String(seed));
  return a;
}

export function tbfArgs(rateBps: number, bufferBytes: number | undefined): string[] {
  const limit = Math.max(bufferBytes ?? 2 * MTU_FRAME, 2 * MTU_FRAME);
  return ['rate', `${Math.round(rateBps)}bit`, 'burst', String(tbfBurst(rateBps)), 'limit', String(limit)];
}

/** red (tc-red(8), no `adaptive`): hard limit = the buffer, thresholds and max_p from `aqm`, `ecn` to mark */
export function redArgs(i: LinkImpairment): string[] {
  const a = i.aqm!;
  const limit = Math.max(i.bufferBytes ?? 2 * MTU_FRAME, a.maxBytes);
  return [
    'limit',
    String(limit),
    'min',
    String(a.minBytes),
    'max',
    String(a.maxBytes),
    'avpkt',
    String(RED_AVPKT),
    'burst',
    String(redBurst(a)),
    'probability',
    String(+a.maxP.toPrecision(6)),
    'bandwidth',
    `${Math.round(i.rateBps!)}bit`,
    ...(a.ecn ? ['ecn'] : []),
  ];
}

/**
 * Commands (each an argv) that impair the egress of `dev`; empty when nothing is impaired.
 * `seed`: seed netem's PRNG (only when the kernel and tc accept it). `withNetem`: a netem root even
 * when nothing static needs one (a schedule changes netem fields in place later).
 */
export function tcCommands(dev: string, i: LinkImpairment, seed?: number, withNetem = false): string[][] {
  const base = ['tc', 'qdisc', 'add', 'dev', dev];
  const cmds: string[][] = [];
  const netem = withNetem || hasNetemPart(i);
  if (netem) cmds.push([...base, 'root', 'handle', '1:', 'netem', ...netemArgs(i, seed)]);
  if (i.rateBps) {
    cmds.push([
      ...base,
      ...(netem ? ['parent', '1:1', 'handle', '10:'] : ['root', 'handle', '1:']),
      'tbf',
      ...tbfArgs(i.rateBps, i.bufferBytes),
    ]);
    if (i.aqm) cmds.push([...base, 'parent', netem ? '10:1' : '1:1', 'handle', '20:', 'red', ...redArgs(i)]);
  }
  return cmds;
}

/** The `tc -s qdisc show dev X` counters of a red qdisc: "marked N early N pdrop N other N" (null: no red). */
export function parseRedStats(text: string): { marked: number; early: number; pdrop: number } | null {
  const i = text.search(/qdisc red /);
  if (i < 0) return null;
  const rest = text.slice(i);
  const num = (k: string) => Number(new RegExp(`\\b${k} (\\d+)`).exec(rest)?.[1] ?? 0);
  return { marked: num('marked'), early: num('early'), pdrop: num('pdrop') };
}
