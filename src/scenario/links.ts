/**
 * The link model shared by both impairment engines (kernel netem and the userspace relay).
 * All values are normalised numbers (the scenario loader turns "20ms", "50mbit", "1%" into these).
 * Semantics follow tc-netem(8) so a scenario means the same thing under either engine.
 */

export type JitterDistribution = 'uniform' | 'normal' | 'pareto' | 'paretonormal';

export interface GilbertElliott {
  /** P(good -> bad) per packet, 0..1 */
  p: number;
  /** P(bad -> good) per packet, 0..1 (netem default 1 - p) */
  r: number;
  /** loss probability in the bad state, 0..1 (netem "1-h", default 1) */
  lossBad: number;
  /** loss probability in the good state, 0..1 (netem "1-k", default 0) */
  lossGood: number;
}

/**
 * RED on the bottleneck queue (tc-red(8) semantics, `adaptive` off): the average queue (EWMA of the
 * backlog in bytes) between minBytes and maxBytes selects packets with a probability rising to maxP;
 * above maxBytes every packet is selected. A selected packet is CE-marked when `ecn` and it is
 * ECN-capable (ECT(0)/ECT(1)/CE), dropped otherwise. The queue's hard limit stays `bufferBytes`.
 */
export interface Aqm {
  kind: 'red';
  ecn: boolean;
  minBytes: number;
  maxBytes: number;
  /** probability at maxBytes, 0..1 */
  maxP: number;
}

/** Impairment of one direction of one link. Every field is optional; absent means "not impaired". */
export interface LinkImpairment {
  /** one-way delay, milliseconds */
  delayMs?: number;
  /** jitter (netem's second delay argument), milliseconds */
  jitterMs?: number;
  /** jitter correlation 0..1 */
  jitterCorrelation?: number;
  distribution?: JitterDistribution;
  /** random loss probability 0..1, with optional correlation 0..1 */
  loss?: number;
  lossCorrelation?: number;
  /** Gilbert-Elliott loss; mutually exclusive with `loss` */
  gemodel?: GilbertElliott;
  /** reorder probability 0..1: that share of packets (every `reorderGap`-th eligible) skips the delay */
  reorder?: number;
  reorderCorrelation?: number;
  reorderGap?: number;
  duplicate?: number;
  duplicateCorrelation?: number;
  corrupt?: number;
  corruptCorrelation?: number;
  /** bottleneck rate, bits per second */
  rateBps?: number;
  /** bottleneck queue limit, bytes (tail drop); resolved from bytes/packets/bdp forms by the loader */
  bufferBytes?: number;
  /** active queue management of the bottleneck queue (needs rateBps); resolved by the loader */
  aqm?: Aqm;
  /** changes during each trial, relative to the workload's start (src/scenario/schedule.ts) */
  schedule?: LinkSchedule;
  /** capacity trace replayed from the workload's start (src/scenario/trace.ts; userspace relay) */
  trace?: TraceInfo;
}

/** A mahimahi trace as the scenario records it; `times` (ms per opportunity) only on the way to the relay. */
/** bytes per delivery opportunity of a capacity trace (mahimahi: one MTU-sized packet) */
export const TRACE_OPPORTUNITY_BYTES = 1500;

export interface TraceInfo {
  file: string;
  sha256: string;
  periodMs: number;
  opportunities: number;
  /** mean capacity, and percentiles of the capacity in 1 s windows, bits per second */
  meanBps: number;
  p10Bps: number;
  p50Bps: number;
  p90Bps: number;
  times?: number[];
}

/** The fields a schedule step can change, normalised like LinkImpairment's. */
export interface ScheduledValues {
  delayMs?: number;
  jitterMs?: number;
  loss?: number;
  reorder?: number;
  rateBps?: number;
  bufferBytes?: number;
}

/** One step of a schedule: at `atMs` the values change (ramped linearly over `overMs`), or an outage starts. */
export interface ScheduleStep {
  atMs: number;
  /** linear ramp from the values in effect at `atMs` to `set` over this long */
  overMs?: number;
  /** every arriving packet is dropped for this long */
  outageMs?: number;
  set: ScheduledValues;
}

export interface LinkSchedule {
  steps: ScheduleStep[];
  /** the schedule starts over every repeatMs (each cycle from the link's own values) */
  repeatMs?: number;
}

export interface LinkSpec {
  /** a -> b impairment ("forward": the data direction, sender side to receiver side) */
  forward: LinkImpairment;
  /** b -> a impairment ("reverse": the ACK direction) */
  reverse: LinkImpairment;
}
