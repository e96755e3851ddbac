/**
 * The userspace link model: one direction of one impaired link, with tc-netem(8) semantics.
 * Pure and deterministic: no clock (the caller passes `nowNs`), no I/O, randomness only from a
 * seeded xoshiro128** stream, so (config, seed, arrival times, sizes) reproduce the same decisions.
 *
 * Per packet, in this order (the random draws happen in exactly this order, as in netem_enqueue):
 *   1. duplicate draw   count = 1 (+1 with probability `duplicate`, correlated uniform)
 *   2. loss draw        count -= 1 when the loss model fires (random/correlated or Gilbert-Elliott)
 *                       count == 0 -> dropped (cause "loss"). A duplicate that meets a loss survives as
 *                       one copy, exactly as in netem.
 *   3. corrupt draw     with probability `corrupt`: one random bit of the inner packet flips
 *   4. if count == 2:   the copy (cloned before the corruption) makes its own pass: loss, corrupt,
 *                       bottleneck, reorder, delay (it cannot be duplicated again)
 *   5. bottleneck       FIFO at `rateBps`; departure = max(now, busyUntil) + bytes*8/rate; a packet
 *                       that has to wait is tail-dropped (cause "queue") when waiting bytes + its size
 *                       would exceed `bufferBytes` (default 1000 full frames, netem's default limit).
 *                       With `aqm` (RED, red-queue.ts) every packet first passes RED (one draw from
 *                       the stream after each selection): a selected packet is CE-marked
 *                       (`Emission.ce`, count `ceMarks`) when aqm.ecn and the caller says it is
 *                       ECN-capable, else dropped (cause "aqm"); then the tail-drop check.
 *   6. reorder draw     netem's rule: with gap g (default 1), once g-1 packets have been delayed since
 *                       the last reorder, each packet skips the delay with probability `reorder`
 *   7. delay + jitter   release = departure + delay + sigma * deviate(distribution, correlated u),
 *                       clamped at >= departure. With jitter, later packets may be released before
 *                       earlier ones (netem's tfifo does the same); counted as `outOfOrder`.
 * Sizes are INNER bytes: the VXLAN payload minus the 8-byte VXLAN header, i.e. the inner Ethernet
 * frame including its 14-byte header, which is what netem's rate counts on an Ethernet device.
 */
import type { LinkImpairment } from '../types.js';
import { CorrelatedUniform, Xoshiro128 } from './prng.js';
import { deviate } from './distributions.js';
import { Histogram } from './histogram.js';
import { RedQueue } from './red-queue.js';
import type { ModelSchedule } from './model-schedule.js';
import type { ScheduleField } from '../../scenario/schedule-events.js';

/** netem's default queue limit is 1000 packets; in bytes we take 1000 full-size inner frames. */
export const DEFAULT_BUFFER_BYTES = 1000 * 1514;

export interface Emission {
  /** when the packet has left the bottleneck, ns (the caller's clock) */
  departNs: number;
  /** when the packet is to be handed to the far side, ns */
  releaseNs: number;
  /** byte offset within the inner packet whose bit `corruptMask` flips, or -1 */
  corruptByte: number;
  corruptMask: number;
  /** this emission is the extra copy made by the duplicate model */
  duplicate: boolean;
  /** this emission skipped the delay (reorder model) */
  reordered: boolean;
  /** RED selected this ECN-capable packet: the caller sets CE in its inner IP header */
  ce: boolean;
}

/** Apply an emission's corruption to a packet copy whose inner frame starts at `innerOffset`. */
export function applyCorruption(buf: Uint8Array, innerOffset: number, e: Emission): void {
  if (e.corruptMask !== 0) buf[innerOffset + e.corruptByte] ^= e.corruptMask;
}

export function newEmission(): Emission {
  return { departNs: 0, releaseNs: 0, corruptByte: -1, corruptMask: 0, duplicate: false, reordered: false, ce: false };
}

export interface ModelCounters {
  packetsIn: number;
  bytesIn: number;
  /** emissions produced (including duplicates) and their bytes */
  packetsScheduled: number;
  bytesScheduled: number;
  dropsLoss: number;
  dropsQueue: number;
  /** RED selected the packet and could not mark it (not ECN-capable, or aqm.ecn false) */
  dropsAqm: number;
  /** RED marked the packet CE instead of dropping it */
  ceMarks: number;
  duplicates: number;
  reorders: number;
  outOfOrder: number;
  corruptions: number;
  maxBacklogBytes: number;
  /** packets dropped by a scheduled outage */
  dropsOutage: number;
}

function zeroCounters(): ModelCounters {
  return {
    packetsIn: 0,
    bytesIn: 0,
    packetsScheduled: 0,
    bytesScheduled: 0,
    dropsLoss: 0,
    dropsQueue: 0,
    dropsAqm: 0,
    ceMarks: 0,
    duplicates: 0,
    reorders: 0,
    outOfOrder: 0,
    corruptions: 0,
    maxBacklogBytes: 0,
    dropsOutage: 0,
  };
}

export class LinkModel {
  readonly impairment: LinkImpairment;
  counters: ModelCounters = zeroCounters();
  /** bottleneck sojourn (departure - arrival), ms; only packets that pass a rate limit are recorded */
  readonly queueDelay = new Histogram();

  private readonly prng: Xoshiro128;
  private delayNs: number;
  private jitterNs: number;
  private readonly dist: NonNullable<LinkImpairment['distribution']>;
  private loss: number;
  private readonly ge: LinkImpairment['gemodel'];
  private readonly duplicateP: number;
  private readonly corruptP: number;
  private reorderP: number;
  private gap: number;
  private nsPerByte: number; // 0 = no bottleneck
  private bufferBytes: number;
  private readonly lossCor: CorrelatedUniform;
  private readonly dupCor: CorrelatedUniform;
  private readonly corruptCor: CorrelatedUniform;
  private readonly reorderCor: CorrelatedUniform;
  private readonly jitterCor: CorrelatedUniform;
  /** RED on the bottleneck queue (aqm with a rate), else null */
  private readonly red: RedQueue | null;

  /** the schedule armed for the current trial (model-schedule.ts), or null */
  timeline: ModelSchedule | null = null;
  private geBad = false;
  private gapCounter = 0;
  private busyUntil = -Infinity;
  private maxRelease = -Infinity;
  // waiting packets of the bottleneck (start-of-service time, bytes), a growable ring
  private qStart = new Float64Array(1024);
  private qBytes = new Float64Array(1024);
  private qHead = 0;
  private qLen = 0;
  private backlog = 0;

  constructor(impairment: LinkImpairment, seed: number, stream = 0) {
    this.impairment = { ...impairment };
    const i = impairment;
    this.prng = Xoshiro128.fromSeed(seed, stream);
    this.delayNs = (i.delayMs ?? 0) * 1e6;
    this.jitterNs = (i.jitterMs ?? 0) * 1e6;
    this.dist = i.distribution ?? 'uniform';
    this.ge = i.gemodel;
    this.loss = this.ge ? 0 : (i.loss ?? 0);
    this.duplicateP = i.duplicate ?? 0;
    this.corruptP = i.corrupt ?? 0;
    this.reorderP = i.reorder ?? 0;
    // tc sets gap = 1 when a reorder probability is given without a gap; gap 0 = no reordering
    this.gap = this.reorderP > 0 ? Math.max(1, i.reorderGap ?? 1) : 0;
    this.nsPerByte = i.rateBps && i.rateBps > 0 ? 8e9 / i.rateBps : 0;
    this.bufferBytes = i.bufferBytes ?? DEFAULT_BUFFER_BYTES;
    this.red = i.aqm && this.nsPerByte > 0 ? new RedQueue(i.aqm, this.nsPerByte) : null;
    // correlation states are created (and seeded from the stream) in a fixed order
    this.jitterCor = new CorrelatedUniform(i.jitterCorrelation ?? 0, this.prng);
    this.lossCor = new CorrelatedUniform(i.lossCorrelation ?? 0, this.prng);
    this.dupCor = new CorrelatedUniform(i.duplicateCorrelation ?? 0, this.prng);
    this.reorderCor = new CorrelatedUniform(i.reorderCorrelation ?? 0, this.prng);
    this.corruptCor = new CorrelatedUniform(i.corruptCorrelation ?? 0, this.prng);
  }

  /** Gilbert-Elliott: true while in the bad state (exposed for tests). */
  get inBadState(): boolean {
    return this.geBad;
  }

  /** Bytes waiting in the bottleneck at `nowNs` (not counting the packet being serialised). */
  backlogAt(nowNs: number): number {
    this.drain(nowNs);
    return this.backlog;
  }

  resetCounters(): void {
    this.counters = zeroCounters();
    this.queueDelay.reset();
  }

  /** RED marks (rather than drops) ECN-capable packets: the caller should pass `ect` to process() */
  get marksEcn(): boolean {
    return this.red?.ecn === true;
  }

  /**
   * One packet of `bytes` inner bytes arrives at `nowNs`. Writes 0, 1 or 2 emissions into
   * out[0..n) (out must hold at least 2 reusable objects) and returns n; 0 means dropped.
   * `ect`: the packet is ECN-capable (ECT(0), ECT(1) or CE), so RED may mark it instead of dropping.
   */
  process(nowNs: number, bytes: number, out: Emission[], ect = false): number {
    const c = this.counters;
    c.packetsIn++;
    c.bytesIn += bytes;
    if (this.timeline?.advance(nowNs, this)) {
      c.dropsOutage++;
      return 0;
    }
    let count = 1;
    if (this.duplicateP > 0 && this.dupCor.next() < this.duplicateP) count++;
    if (this.lossEvent()) count--;
    if (count === 0) {
      c.dropsLoss++;
      return 0;
    }
    // the copy is cloned before the original is corrupted
    let corruptByte = -1;
    let corruptMask = 0;
    if (this.corruptP > 0 && this.corruptCor.next() < this.corruptP) {
      corruptByte = this.prng.below(bytes);
      corruptMask = 1 << this.prng.below(8);
    }
    let n = 0;
    if (count > 1) {
      c.duplicates++;
      // the duplicate's own pass through the qdisc: loss again, corruption, bottleneck, reorder, delay
      if (this.lossEvent()) {
        c.dropsLoss++;
      } else {
        let db = -1;
        let dm = 0;
        if (this.corruptP > 0 && this.corruptCor.next() < this.corruptP) {
          db = this.prng.below(bytes);
          dm = 1 << this.prng.below(8);
        }
        n += this.schedule(nowNs, bytes, out[n]!, db, dm, true, ect);
      }
    }
    n += this.schedule(nowNs, bytes, out[n]!, corruptByte, corruptMask, false, ect);
    return n;
  }

  /** A scheduled change (model-schedule.ts); restoreBase() puts the configured values back. */
  setScheduled(field: Exclude<ScheduleField, 'outage'>, v: number): void {
    if (field === 'delayMs') this.delayNs = v * 1e6;
    else if (field === 'jitterMs') this.jitterNs = v * 1e6;
    else if (field === 'loss') this.loss = this.ge ? 0 : v;
    else if (field === 'reorder') {
      this.reorderP = v;
      this.gap = v > 0 ? Math.max(1, this.impairment.reorderGap ?? 1) : 0;
    } else if (field === 'rateBps') this.nsPerByte = v > 0 ? 8e9 / v : 0;
    else this.bufferBytes = v || DEFAULT_BUFFER_BYTES;
  }

  restoreBase(): void {
    const i = this.impairment;
    this.timeline = null;
    this.setScheduled('delayMs', i.delayMs ?? 0);
    this.setScheduled('jitterMs', i.jitterMs ?? 0);
    this.setScheduled('loss', i.loss ?? 0);
    this.setScheduled('reorder', i.reorder ?? 0);
    this.setScheduled('rateBps', i.rateBps ?? 0);
    this.setScheduled('bufferBytes', i.bufferBytes ?? 0);
  }

  private lossEvent(): boolean {
    const ge = this.ge;
    if (ge) {
      // netem loss_gilb_ell: transition draw, then the loss draw with the *current* state's probability
      if (!this.geBad) {
        if (this.prng.next() < ge.p) this.geBad = true;
        return this.prng.next() < ge.lossGood;
      }
      if (this.prng.next() < ge.r) this.geBad = false;
      return this.prng.next() < ge.lossBad;
    }
    return this.loss > 0 && this.lossCor.next() < this.loss;
  }

  private drain(nowNs: number): void {
    while (this.qLen > 0 && this.qStart[this.qHead]! <= nowNs) {
      this.backlog -= this.qBytes[this.qHead]!;
      this.qHead = (this.qHead + 1) & (this.qStart.length - 1);
      this.qLen--;
    }
    if (this.qLen === 0) this.backlog = 0; // no float drift
  }

  private pushWaiting(startNs: number, bytes: number): void {
    if (this.qLen === this.qStart.length) {
      const cap = this.qStart.length * 2;
      const s = new Float64Array(cap);
      const b = new Float64Array(cap);
      for (let k = 0; k < this.qLen; k++) {
        const j = (this.qHead + k) & (this.qStart.length - 1);
        s[k] = this.qStart[j]!;
        b[k] = this.qBytes[j]!;
      }
      this.qStart = s;
      this.qBytes = b;
      this.qHead = 0;
    }
    const j = (this.qHead + this.qLen) & (this.qStart.length - 1);
    this.qStart[j] = startNs;
    this.qBytes[j] = bytes;
    this.qLen++;
    this.backlog += bytes;
  }

  /** Bottleneck, reorder and delay for one copy; returns 1 if emitted into `e`, 0 if tail-dropped. */
  private schedule(
    nowNs: number,
    bytes: number,
    e: Emission,
    corruptByte: number,
    corruptMask: number,
    duplicate: boolean,
    ect: boolean,
  ): number {
    const c = this.counters;
    let depart = nowNs;
    let ce = false;
    if (this.nsPerByte > 0) {
      this.drain(nowNs);
      if (this.red?.select(nowNs, this.backlog, this.busyUntil > nowNs ? null : this.busyUntil, this.prng)) {
        if (!(this.red.ecn && ect)) {
          c.dropsAqm++;
          return 0;
        }
        ce = true;
      }
      const start = this.busyUntil > nowNs ? this.busyUntil : nowNs;
      if (start > nowNs) {
        if (this.backlog + bytes > this.bufferBytes) {
          c.dropsQueue++;
          return 0;
        }
        this.pushWaiting(start, bytes);
        if (this.backlog > c.maxBacklogBytes) c.maxBacklogBytes = this.backlog;
      }
      depart = this.timeline !== null ? this.timeline.finish(start, bytes) : start + bytes * this.nsPerByte;
      this.busyUntil = depart;
      this.queueDelay.record((depart - nowNs) / 1e6);
    }
    let release: number;
    let reordered = false;
    const gap = this.gap;
    if (gap === 0 || this.gapCounter < gap - 1 || this.reorderCor.next() >= this.reorderP) {
      let d = this.delayNs;
      if (this.jitterNs > 0) d += this.jitterNs * deviate(this.dist, this.jitterCor.next());
      release = depart + (d > 0 ? d : 0);
      this.gapCounter++;
    } else {
      release = depart;
      this.gapCounter = 0;
      reordered = true;
      c.reorders++;
    }
    if (release < this.maxRelease) c.outOfOrder++;
    else this.maxRelease = release;
    if (corruptMask !== 0) c.corruptions++;
    if (ce) c.ceMarks++;
    c.packetsScheduled++;
    c.bytesScheduled += bytes;
    e.departNs = depart;
    e.releaseNs = release;
    e.corruptByte = corruptByte;
    e.corruptMask = corruptMask;
    e.duplicate = duplicate;
    e.reordered = reordered;
    e.ce = ce;
    return 1;
  }
}
