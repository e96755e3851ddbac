/**
 * RED on the relay's bottleneck queue, as the kernel's sch_red runs it (include/net/red.h, no
 * `adaptive`, no `gentle`, no `harddrop`):
 *   - the average queue is an EWMA of the backlog (bytes waiting, the packet in service not counted)
 *     taken at each arrival, avg += (backlog - avg) * W with W = 2^-wlog from tc's own rule
 *     (impairment/red.ts); after an idle period the average decays as if m = idle / (avpkt at the
 *     link rate) empty-queue packets had arrived: avg *= (1 - W)^m
 *   - avg < min: nothing; avg >= max: every packet is selected ("hard mark");
 *     in between: p_b = maxP * (avg - min) / (max - min), and a packet is selected once
 *     count * p_b >= R, where count counts packets since the last selection and R is uniform in
 *     [0, 1), drawn afresh after each selection (the kernel's qcount / qR), so selections are spread
 *     evenly rather than clustered
 * The caller decides what a selection means: a CE mark (ecn and an ECN-capable packet) or a drop.
 * Deterministic: R comes from the link model's seeded stream.
 */
import type { Aqm } from '../../scenario/links.js';
import { RED_AVPKT, redBurst, redWlog } from '../red.js';
import type { Xoshiro128 } from './prng.js';

export class RedQueue {
  readonly ecn: boolean;
  private readonly min: number;
  private readonly max: number;
  private readonly maxP: number;
  private readonly w: number;
  /** ns one average packet takes at the link rate: idle time / this = empty-queue arrivals missed */
  private readonly avpktNs: number;
  private avg = 0;
  private count = -1;
  private r = 0;

  constructor(a: Aqm, nsPerByte: number) {
    this.ecn = a.ecn;
    this.min = a.minBytes;
    this.max = a.maxBytes;
    this.maxP = a.maxP;
    this.w = 2 ** -redWlog(a.minBytes, redBurst(a));
    this.avpktNs = RED_AVPKT * nsPerByte;
  }

  /** the average queue, bytes (for tests) */
  get average(): number {
    return this.avg;
  }

  /**
   * A packet arrives: update the average (`idleSinceNs`: when the link went idle, or null when it is
   * busy) and say whether RED selects it.
   */
  select(nowNs: number, backlogBytes: number, idleSinceNs: number | null, prng: Xoshiro128): boolean {
    if (idleSinceNs !== null) {
      const m = Math.max(0, nowNs - idleSinceNs) / this.avpktNs;
      this.avg *= (1 - this.w) ** m;
    } else {
      this.avg += (backlogBytes - this.avg) * this.w;
    }
    if (this.avg < this.min) {
      this.count = -1;
      return false;
    }
    if (this.avg >= this.max) {
      this.count = -1;
      return true;
    }
    this.count++;
    if (this.count === 0) {
      this.r = prng.next();
      return false;
    }
    const pb = (this.maxP * (this.avg - this.min)) / (this.max - this.min);
    if (pb * this.count < this.r) return false;
    this.count = 0;
    this.r = prng.next();
    return true;
  }
}
