/**
 * From stored TrialRecords to the values the judge analyses: warm-up removal, de-duplication of
 * resumed attempts, pairing, and per-metric validity with the reason each value was dropped.
 */
import type { Arm, MetricSpec, TrialRecord } from '../results/types.js';

export type DropReason = 'failed trial' | 'suspect trial excluded' | 'null metric' | 'non-positive on log scale';

export interface PairSlot {
  pair: number;
  control?: TrialRecord;
  canary?: TrialRecord;
}

export interface ScenarioTrials {
  /** Non-warm-up records, one per (pair, arm): the latest attempt wins. */
  records: TrialRecord[];
  /** Measured pairs in pair-index order (a pair is listed when at least one arm has a record). */
  pairs: PairSlot[];
  /** Pairs where both arms ran ok and neither is an excluded suspect trial. */
  completePairs: number;
  perArm: Record<Arm, { records: number; failed: number; suspect: number }>;
  /** Records replaced by a later attempt of the same (pair, arm). */
  superseded: number;
}

export function usable(r: TrialRecord | undefined, excludeSuspect: boolean): boolean {
  return !!r && r.status === 'ok' && !(excludeSuspect && r.suspect);
}

/**
 * Select the measured (non-warm-up) trials of one scenario. When a suite was resumed a (pair, arm)
 * can have several records; the one with the highest `attempt` (then the latest start, then the
 * last in file order) is used.
 */
export function collectTrials(all: readonly TrialRecord[], scenarioId: string, excludeSuspect: boolean): ScenarioTrials {
  const best = new Map<string, TrialRecord>();
  let superseded = 0;
  for (const r of all) {
    if (!r || r.type !== 'trial' || r.scenario !== scenarioId || r.warmup) continue;
    if (r.arm !== 'control' && r.arm !== 'canary') continue;
    const key = `${r.pair}/${r.arm}`;
    const prev = best.get(key);
    if (prev) {
      superseded++;
      const newer = (r.attempt ?? 1) > (prev.attempt ?? 1) || ((r.attempt ?? 1) === (prev.attempt ?? 1) && (r.startedAt ?? '') >= (prev.startedAt ?? ''));
      if (!newer) continue;
    }
    best.set(key, r);
  }
  const records = [...best.values()];
  const byPair = new Map<number, PairSlot>();
  for (const r of records) {
    const slot = byPair.get(r.pair) ?? { pair: r.pair };
    slot[r.arm] = r;
    byPair.set(r.pair, slot);
  }
  const pairs = [...byPair.values()].sort((a, b) => a.pair - b.pair);
  const perArm: ScenarioTrials['perArm'] = {
    control: { records: 0, failed: 0, suspect: 0 },
    canary: { records: 0, failed: 0, suspect: 0 },
  };
  for (const r of records) {
    const a = perArm[r.arm];
    a.records++;
    if (r.status !== 'ok') a.failed++;
    else if (r.suspect) a.suspect++;
  }
  const completePairs = pairs.filter((p) => usable(p.control, excludeSuspect) && usable(p.canary, excludeSuspect)).length;
  return { records, pairs, completePairs, perArm, superseded };
}

/** Keep only the first `count` measured pairs (sequential looks). */
export function truncatePairs(t: ScenarioTrials, count: number, excludeSuspect: boolean): ScenarioTrials {
  const pairs = t.pairs.slice(0, count);
  const keep = new Set(pairs.map((p) => p.pair));
  const records = t.records.filter((r) => keep.has(r.pair));
  const perArm: ScenarioTrials['perArm'] = {
    control: { records: 0, failed: 0, suspect: 0 },
    canary: { records: 0, failed: 0, suspect: 0 },
  };
  for (const r of records) {
    const a = perArm[r.arm];
    a.records++;
    if (r.status !== 'ok') a.failed++;
    else if (r.suspect) a.suspect++;
  }
  const completePairs = pairs.filter((p) => usable(p.control, excludeSuspect) && usable(p.canary, excludeSuspect)).length;
  return { records, pairs, completePairs, perArm, superseded: t.superseded };
}

export interface ArmValues {
  /** Raw metric values of the usable trials, in pair order. */
  values: number[];
  /** Pair index of each value. */
  pairOf: number[];
  dropped: number;
  why: Map<DropReason, number>;
}

export interface MetricData {
  control: ArmValues;
  canary: ArmValues;
  /** Per complete pair (both values valid): raw values, in pair order. */
  paired: Array<{ pair: number; control: number; canary: number }>;
}

function valueOf(r: TrialRecord, spec: MetricSpec, excludeSuspect: boolean): number | DropReason {
  if (r.status !== 'ok') return 'failed trial';
  if (excludeSuspect && r.suspect) return 'suspect trial excluded';
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
export function metricData(t: ScenarioTrials, spec: MetricSpec, excludeSuspect: boolean): MetricData {
  const arm = (): ArmValues => ({ values: [], pairOf: [], dropped: 0, why: new Map() });
  const out: MetricData = { control: arm(), canary: arm(), paired: [] };
  for (const slot of t.pairs) {
    const got: Partial<Record<Arm, number>> = {};
    for (const a of ['control', 'canary'] as const) {
      const r = slot[a];
      if (!r) continue;
      const v = valueOf(r, spec, excludeSuspect);
      const target = out[a];
      if (typeof v === 'number') {
        target.values.push(v);
        target.pairOf.push(slot.pair);
        got[a] = v;
      } else {
        target.dropped++;
        target.why.set(v, (target.why.get(v) ?? 0) + 1);
      }
    }
    if (got.control !== undefined && got.canary !== undefined) out.paired.push({ pair: slot.pair, control: got.control, canary: got.canary });
  }
  return out;
}

/** "failed trial: 2", "null metric: 1" */
export function whyList(why: Map<DropReason, number>): string[] {
  return [...why.entries()].map(([k, n]) => `${k}: ${n}`);
}
