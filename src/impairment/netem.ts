/**
 * tc argv for one direction of one link (the egress of a device), kernel netem engine.
 *   netem (delay, jitter, loss, reorder, duplicate, corrupt) as root qdisc 1:,
 *   a tbf child 10: at parent 1:1 for the bottleneck rate, whose byte limit is the bottleneck buffer.
 * With only a rate, tbf is the root. Pure: unit-tested against exact argv.
 */
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

export function netemArgs(i: LinkImpairment): string[] {
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
  return a;
}

export function tbfArgs(rateBps: number, bufferBytes: number | undefined): string[] {
  const limit = Math.max(bufferBytes ?? 2 * MTU_FRAME, 2 * MTU_FRAME);
  return ['rate', `${Math.round(rateBps)}bit`, 'burst', String(tbfBurst(rateBps)), 'limit', String(limit)];
}

/** Commands (each an argv) that impair the egress of `dev`; empty when nothing is impaired. */
export function tcCommands(dev: string, i: LinkImpairment): string[][] {
  const base = ['tc', 'qdisc', 'add', 'dev', dev];
  const cmds: string[][] = [];
  const netem = hasNetemPart(i);
  if (netem) cmds.push([...base, 'root', 'handle', '1:', 'netem', ...netemArgs(i)]);
  if (i.rateBps) {
    cmds.push([
      ...base,
      ...(netem ? ['parent', '1:1', 'handle', '10:'] : ['root', 'handle', '1:']),
      'tbf',
      ...tbfArgs(i.rateBps, i.bufferBytes),
    ]);
  }
  return cmds;
}
