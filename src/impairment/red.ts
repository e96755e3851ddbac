/**
 * RED parameters both engines derive the same way from a link's `aqm` (tc-red(8), Floyd & Jacobson
 * 1993, `adaptive` off): the average packet size, the burst, and from them the EWMA weight
 * W = 2^-wlog exactly as iproute2's tc_red_eval_ewma computes it, so the kernel's sch_red and the
 * userspace relay average the queue with the same time constant. Pure.
 */
import type { Aqm } from '../scenario/links.js';

/** tc-red(8): "1000 is a good value" */
export const RED_AVPKT = 1000;

/** tc-red(8)'s guidance: burst = (2 * min + max) / (3 * avpkt), at least min/avpkt + 1 */
export function redBurst(a: Pick<Aqm, 'minBytes' | 'maxBytes'>): number {
  return Math.max(Math.ceil((2 * a.minBytes + a.maxBytes) / (3 * RED_AVPKT)), Math.ceil(a.minBytes / RED_AVPKT) + 1);
}

/** iproute2 tc_red_eval_ewma: the smallest wlog whose W lets `burst` packets arrive on an empty queue before the average reaches min */
export function redWlog(minBytes: number, burst: number, avpkt = RED_AVPKT): number {
  const a = burst + 1 - minBytes / avpkt;
  let w = 0.5;
  for (let wlog = 1; wlog < 32; wlog++, w /= 2) if (a <= (1 - (1 - w) ** burst) / w) return wlog;
  return 31;
}
