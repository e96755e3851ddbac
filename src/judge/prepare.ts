/**
 * From stored TrialRecords to the values the judge analyses: warm-up removal, de-duplication of
 * resumed attempts, pairing, and per-metric validity with the reason each value was dropped.
 */
import type { Arm, JudgeSettings, MetricSpec, TrialRecord } from '../results/types.js';

export type DropReason = 'failed trial' | 'moved no data' | 'suspect trial excluded' | 'null metric' | 'non-positive on log scale';

/**
 * What a measured trial says about its arm:
 *   'failed'  the trial did not complete (status failed, timeout);
 *   'noData'  it completed but moved no data: the primary metric is missing or not a finite
 *             number, goodput is ≤ 0, the primary is a 'higher' log-scale metric ≤ 0, or the
 *             receiver counted 0 bytes (a stalled transfer recorded as ok);
 *   'ok'      anything else.
 * Failed and no-data trials are failures of their arm: they count in the failure test and the
 * per-arm data-quality gate, and none of their values is analysed.
 */
export type TrialOutcome = 'ok' | 'failed' | 'noData';

export type OutcomeSettings = Pick<JudgeSettings, 'excludeSuspect' | 'primary' | 'metrics'>;

export function trialOutcome(r: TrialRecord, s: OutcomeSettings): TrialOutcome {
  return outcomeWith(
    r,
    s.metrics.find((x) => x.name === s.primary),
  );
}

/** trialOutcome with the primary metric's spec looked up once per scenario. */
function outcomeWith(r: TrialRecord, primary: MetricSpec | undefined): TrialOutcome {
  if (r.status !== 'ok') return 'failed';
  const m = r.metrics ?? {};
  if (primary) {
    const v = m[primary.name];
    if (typeof v !== 'number' || !Number.isFinite(v)) return 'noData';
    if (primary.direction === 'higher' && primary.scale === 'log' && v <= 0) return 'noData';
  }
  const g = m.goodput;
  if (typeof g === 'number' && g <= 0) return 'noData';
  if (r.extra && typeof r.extra === 'object' && (r.extra as Record<string, unknown>).bytesReceived === 0) return 'noData';
  return 'ok';
}

export interface PairSlot {
  pair: number;
  control?: TrialRecord;
  canary?: TrialRecord;
}

export interface ArmCounts {
  /** Measured trial records of the arm. */
  records: number;
  /** Trials that did not complete. */
  failed: number;
  /** Trials that completed but moved no data. */
  noData: number;
  /** Usable trials flagged suspect (counted whether or not they are excluded). */
  suspect: number;
}

export interface ScenarioTrials {
  /** Non-warm-up records, one per (pair, arm): the latest attempt wins. */
  records: TrialRecord[];
  /** Measured pairs in pair-index order (a pair is listed when at least one arm has a record). */
  pairs: PairSlot[];
  /**
   * Per arm, per slot of `pairs`: why the record's values are all dropped whatever the metric
   * (DROP_CODES), USABLE when they are judged, ABSENT when the slot has no record of the arm.
   */
  drop: Record<Arm, Uint8Array>;
  /** Pairs where both arms ran ok, moved data and neither is an excluded suspect trial. */
  completePairs: number;
  perArm: Record<Arm, ArmCounts>;
  /** Records replaced by a later attempt of the same (pair, arm). */
  superseded: number;
  /** Warm-up records of the scenario (not judged, by design). */
  warmup: number;
}

const USABLE = 0;
const ABSENT = 255;
/** drop codes 1.. of ScenarioTrials.drop */
const DROP_CODES: readonly DropReason[] = ['failed trial', 'moved no data', 'suspect trial excluded'];

/** The drop code of one arm's record (counted in its arm's counts). */
function dropCode(r: TrialRecord, primary: MetricSpec | undefined, excludeSuspect: boolean, a: ArmCounts): number {
  a.records++;
  const o = outcomeWith(r, primary);
  if (o === 'failed') {
    a.failed++;
    return 1;
  }
  if (o === 'noData') {
    a.noData++;
    return 2;
  }
  if (!r.suspect) return USABLE;
  a.suspect++;
  return excludeSuspect ? 3 : USABLE;
}

function summarize(records: TrialRecord[], s: OutcomeSettings, superseded: number, warmup: number): ScenarioTrials {
  const byPair = new Map<number, PairSlot>();
  for (const r of records) {
    const slot = byPair.get(r.pair) ?? { pair: r.pair };
    slot[r.arm] = r;
    byPair.set(r.pair, slot);
  }
  const pairs = [...byPair.values()];
  // pairs already in order (the usual case) are one ascending run, which the stable sort leaves as it is
  for (let i = 1; i < pairs.length; i++)
    if (pairs[i]!.pair - pairs[i - 1]!.pair < 0) {
      pairs.sort((a, b) => a.pair - b.pair);
      break;
    }
  const perArm: ScenarioTrials['perArm'] = {
    control: { records: 0, failed: 0, noData: 0, suspect: 0 },
    canary: { records: 0, failed: 0, noData: 0, suspect: 0 },
  };
  const primary = s.metrics.find((x) => x.name === s.primary);
  // every record is in exactly one slot: one (pair, arm) each
  const P = pairs.length;
  const drop = { control: new Uint8Array(P), canary: new Uint8Array(P) };
  let completePairs = 0;
  for (let i = 0; i < P; i++) {
    const slot = pairs[i]!;
    const c = slot.control ? dropCode(slot.control, primary, s.excludeSuspect, perArm.control) : ABSENT;
    const k = slot.canary ? dropCode(slot.canary, primary, s.excludeSuspect, perArm.canary) : ABSENT;
    drop.control[i] = c;
    drop.canary[i] = k;
    if (c === USABLE && k === USABLE) completePairs++;
  }
  return { records, pairs, drop, completePairs, perArm, superseded, warmup };
}

/**
 * The trial records of each scenario id, in one pass (a suite's scenarios would each scan them
 * all), and how many name a scenario not in `ids`.
 */
export function groupByScenario(
  records: readonly TrialRecord[],
  ids: readonly string[],
): { byScenario: Map<string, TrialRecord[]>; stray: number } {
  const byScenario = new Map<string, TrialRecord[]>(ids.map((id) => [id, []]));
  let stray = 0;
  for (const r of records) {
    if (r?.type !== 'trial') continue;
    const list = byScenario.get(r.scenario);
    if (list) list.push(r);
    else stray++;
  }
  return { byScenario, stray };
}

/**
 * Select the measured (non-warm-up) trials of one scenario. When a suite was resumed a (pair, arm)
 * can have several records; the one with the highest `attempt` (then the latest start, then the
 * last in file order) is used.
 */
export function collectTrials(all: readonly TrialRecord[], scenarioId: string, s: OutcomeSettings): ScenarioTrials {
  // (pair, arm) as one number while every pair is a whole number of safe size (as results/ reads
  // them): 2·pair + arm is one-to-one there, and a Map keeps the order in which the keys first came,
  // as it did with the "pair/arm" strings it falls back to otherwise
  const numeric = all.every(
    (r) => r?.type !== 'trial' || r.scenario !== scenarioId || (Number.isInteger(r.pair) && Math.abs(r.pair) < 2 ** 50),
  );
  const best = new Map<string | number, TrialRecord>();
  let superseded = 0;
  let warmup = 0;
  for (const r of all) {
    if (r?.type !== 'trial' || r.scenario !== scenarioId) continue;
    if (r.warmup) {
      warmup++;
      continue;
    }
    if (r.arm !== 'control' && r.arm !== 'canary') continue;
    const key = numeric ? 2 * r.pair + (r.arm === 'canary' ? 1 : 0) : `${r.pair}/${r.arm}`;
    const prev = best.get(key);
    if (prev) {
      superseded++;
      const newer =
        (r.attempt ?? 1) > (prev.attempt ?? 1) ||
        ((r.attempt ?? 1) === (prev.attempt ?? 1) && (r.startedAt ?? '') >= (prev.startedAt ?? ''));
      if (!newer) continue;
    }
    best.set(key, r);
  }
  return summarize([...best.values()], s, superseded, warmup);
}

/** Keep only the first `count` measured pairs (sequential looks). */
export function truncatePairs(t: ScenarioTrials, count: number, s: OutcomeSettings): ScenarioTrials {
  const keep = new Set(t.pairs.slice(0, count).map((p) => p.pair));
  return summarize(
    t.records.filter((r) => keep.has(r.pair)),
    s,
    t.superseded,
    t.warmup,
  );
}

export interface ArmValues {
  /** Raw metric values of the usable trials, in pair order. */
  values: number[];
  /** Pair index of each value. */
  pairOf: number[];
  dropped: number;
  why: Map<DropReason, number>;
}

export interface PairedValues {
  pair: Float64Array;
  control: Float64Array;
  canary: Float64Array;
}

/** No complete pair (the production gate's samples are not paired). */
export function noPairs(): PairedValues {
  return { pair: new Float64Array(0), control: new Float64Array(0), canary: new Float64Array(0) };
}

export interface MetricData {
  control: ArmValues;
  canary: ArmValues;
  /** Per complete pair (both values valid): raw values, in pair order. */
  /** Per complete pair (both values valid), in pair order: the pair index and the raw values, as columns. */
  paired: PairedValues;
}

function metricValueOf(r: TrialRecord, spec: MetricSpec): number | DropReason {
  const v = r.metrics?.[spec.name];
  if (v === null || v === undefined || typeof v !== 'number' || !Number.isFinite(v)) return 'null metric';
  if (spec.scale === 'log' && v <= 0) return 'non-positive on log scale';
  return v;
}

/**
 * Values of one metric per arm and per complete pair. On the log scale values ≤ 0 cannot be logged
 * and are dropped (reason 'non-positive on log scale'); metrics that are often 0 should be judged
 * on the linear scale instead (the scenario defaults do that for retrans).
 */
export function metricData(t: ScenarioTrials, spec: MetricSpec): MetricData {
  const arm = (): ArmValues => ({ values: [], pairOf: [], dropped: 0, why: new Map() });
  const out: MetricData = { control: arm(), canary: arm(), paired: noPairs() };
  // typed columns with room for every pair: an object per pair (on 50,000 pairs) cost more than the rest
  const P = t.pairs.length;
  const paired = { pair: new Float64Array(P), control: new Float64Array(P), canary: new Float64Array(P) };
  let complete = 0;
  /** the slot's value of arm a, or undefined (no record, or dropped and counted) */
  const take = (a: Arm, r: TrialRecord | undefined, code: number, pair: number): number | undefined => {
    if (!r) return undefined;
    const v = code === USABLE ? metricValueOf(r, spec) : DROP_CODES[code - 1]!;
    const target = out[a];
    if (typeof v === 'number') {
      target.values.push(v);
      target.pairOf.push(pair);
      return v;
    }
    target.dropped++;
    target.why.set(v, (target.why.get(v) ?? 0) + 1);
    return undefined;
  };
  const { pairs, drop } = t;
  for (let i = 0; i < pairs.length; i++) {
    const slot = pairs[i]!;
    const c = take('control', slot.control, drop.control[i]!, slot.pair);
    const k = take('canary', slot.canary, drop.canary[i]!, slot.pair);
    if (c !== undefined && k !== undefined) {
      paired.pair[complete] = slot.pair;
      paired.control[complete] = c;
      paired.canary[complete++] = k;
    }
  }
  out.paired = {
    pair: paired.pair.subarray(0, complete),
    control: paired.control.subarray(0, complete),
    canary: paired.canary.subarray(0, complete),
  };
  return out;
}

/** "failed trial: 2", "null metric: 1" */
export function whyList(why: Map<DropReason, number>): string[] {
  return [...why.entries()].map(([k, n]) => `${k}: ${n}`);
}
