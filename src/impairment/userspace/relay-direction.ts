/**
 * One direction of the relay (forward: A -> B, reverse: B -> A): its link model, the main thread's
 * counters and socket samples, and its share of the stats report.
 */
import { summarise } from './histogram.js';
import { LinkModel } from './model.js';
import { type AppliedChange, DELIVERED_BIN_MS } from './model-schedule.js';
import { procAddress } from './procnet.js';
import type { DirectionStats } from './protocol.js';
import { C_LATE_MAX, W_BYTES, W_DIR_STRIDE, W_EARLY, W_ERRORS, W_HIST, W_LATE_SUM_MS, W_PACKETS } from './shared.js';
import type { LinkImpairment } from '../types.js';

export interface Direction {
  name: 'forward' | 'reverse';
  index: 0 | 1;
  model: LinkModel;
  /** the address this direction's datagrams must come from */
  source: string;
  /** /proc/net/udp spelling of the receiving socket */
  procLocal: string;
  packetsIn: number;
  bytesIn: number;
  foreign: number;
  relayDrops: number;
  rxQueueMax: number;
  rxQueueLast: number;
  samples: number;
  samplesBacklogged: number;
  kernelDropsBase: number;
  kernelDropsLast: number;
  /** schedule changes applied in this interval (model-schedule.ts fills it; cleared in place) */
  changes: AppliedChange[];
  /** bytes leaving the bottleneck per DELIVERED_BIN_MS since the schedule was armed */
  delivered: number[];
  /** when the schedule was armed, ns on the relay's clock (null: not armed in this interval) */
  armedNs: number | null;
  /** the schedule start command's arrival, ns on the relay's clock */
  armRequestNs: number | null;
}

/** A fresh direction: its model and counters, receiving on `listen`:`port` from `source`. */
export function newDirection(
  name: 'forward' | 'reverse',
  index: 0 | 1,
  imp: LinkImpairment,
  seed: number,
  source: string,
  listen: string,
  port: number,
): Direction {
  return {
    name,
    index,
    model: new LinkModel(imp, seed, index),
    source,
    procLocal: procAddress(listen, port),
    packetsIn: 0,
    bytesIn: 0,
    foreign: 0,
    relayDrops: 0,
    rxQueueMax: 0,
    rxQueueLast: 0,
    samples: 0,
    samplesBacklogged: 0,
    kernelDropsBase: 0,
    kernelDropsLast: 0,
    changes: [],
    delivered: [],
    armedNs: null,
    armRequestNs: null,
  };
}

/**
 * One direction's telemetry for the interval: its counters, the sender's counters since `wBase`
 * (`w` is the live wstats) and the lateness maximum from `ctrl`; doubts go to `warnings`.
 */
export function directionStats(d: Direction, w: Float64Array, wBase: Float64Array, ctrl: Int32Array, warnings: string[]): DirectionStats {
  const late = (dir: 0 | 1, k: number) => w[dir * W_DIR_STRIDE + k]! - wBase[dir * W_DIR_STRIDE + k]!;
  const c = d.model.counters;
  const base = d.index * W_DIR_STRIDE;
  const hist = new Float64Array(W_DIR_STRIDE - W_HIST);
  for (let i = 0; i < hist.length; i++) hist[i] = w[base + W_HIST + i]! - wBase[base + W_HIST + i]!;
  const lateMax = Atomics.load(ctrl, C_LATE_MAX + d.index) / 1e4;
  const latenessMs = summarise(hist, 0, late(d.index, W_LATE_SUM_MS), lateMax);
  const kernel = Math.max(0, d.kernelDropsLast - d.kernelDropsBase);
  const s: DirectionStats = {
    packetsIn: d.packetsIn,
    bytesIn: d.bytesIn,
    packetsOut: late(d.index, W_PACKETS),
    bytesOut: late(d.index, W_BYTES),
    drops: { loss: c.dropsLoss, queue: c.dropsQueue, aqm: c.dropsAqm, relay: d.relayDrops + late(d.index, W_ERRORS), kernel },
    foreign: d.foreign,
    duplicates: c.duplicates,
    reorders: c.reorders,
    outOfOrder: c.outOfOrder,
    corruptions: c.corruptions,
    ceMarks: c.ceMarks,
    queueDelayMs: d.model.queueDelay.summary(),
    latenessMs,
    earlySends: late(d.index, W_EARLY),
    maxBacklogBytes: c.maxBacklogBytes,
    socket: {
      rxQueueMaxBytes: d.rxQueueMax,
      rxQueueBytes: d.rxQueueLast,
      samples: d.samples,
      samplesBacklogged: d.samplesBacklogged,
    },
  };
  if (d.model.impairment.schedule || d.model.impairment.trace) {
    s.drops.outage = c.dropsOutage;
    s.schedule = {
      armed: d.model.timeline !== null,
      armedAfterMs: d.armedNs !== null && d.armRequestNs !== null ? +((d.armedNs - d.armRequestNs) / 1e6).toFixed(3) : null,
      changes: d.changes.slice(),
      deliveredBinMs: DELIVERED_BIN_MS,
      delivered: d.delivered.slice(),
    };
  }
  if (latenessMs.count > 0 && latenessMs.p99 > 1) warnings.push(`${d.name}: send lateness p99 ${latenessMs.p99} ms > 1 ms`);
  if (kernel > 0) warnings.push(`${d.name}: ${kernel} datagrams dropped by the kernel (relay receive buffer full)`);
  if (s.drops.relay > 0) warnings.push(`${d.name}: ${s.drops.relay} datagrams dropped inside the relay`);
  if (d.samples >= 10 && d.samplesBacklogged / d.samples > 0.5)
    warnings.push(
      `${d.name}: receive queue non-empty in ${Math.round((100 * d.samplesBacklogged) / d.samples)} % of samples (relay short of CPU)`,
    );
  return s;
}
