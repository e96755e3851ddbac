/**
 * The judge's trial selection and per-metric values (src/judge/prepare.ts) against the form they had
 * before it keyed (pair, arm) by number and kept each slot's drop reason in a column, kept here as the
 * reference: the same records in the same order, the same pairs, counts, outcomes and values, on
 * randomized records with resumed attempts, warm-ups, failures, suspects, null and non-positive
 * metrics, pairs out of order and pairs that are not whole numbers.
 */
import { describe, expect, it } from 'vitest';
import {
  collectTrials,
  type DropReason,
  groupByScenario,
  metricData,
  type MetricData,
  type ScenarioTrials,
  trialOutcome,
} from '../../src/judge/prepare.js';
import type { JudgeSettings, MetricSpec, TrialRecord } from '../../src/results/types.js';
import { mulberry32 } from '../../src/stats/index.js';

function summarizeRef(records: TrialRecord[], s: JudgeSettings, superseded: number, warmup: number): RefTrials {
  const byPair = new Map<number, { pair: number; control?: TrialRecord; canary?: TrialRecord }>();
  for (const r of records) {
    const slot = byPair.get(r.pair) ?? { pair: r.pair };
    slot[r.arm] = r;
    byPair.set(r.pair, slot);
  }
  const pairs = [...byPair.values()].sort((a, b) => a.pair - b.pair);
  const perArm: ScenarioTrials['perArm'] = {
    control: { records: 0, failed: 0, noData: 0, suspect: 0 },
    canary: { records: 0, failed: 0, noData: 0, suspect: 0 },
  };
  const outcome = new Map<TrialRecord, 'ok' | 'failed' | 'noData'>();
  for (const r of records) {
    const o = trialOutcome(r, s);
    outcome.set(r, o);
    const a = perArm[r.arm];
    a.records++;
    if (o === 'failed') a.failed++;
    else if (o === 'noData') a.noData++;
    else if (r.suspect) a.suspect++;
  }
  const usable = (r: TrialRecord | undefined) => !!r && outcome.get(r) === 'ok' && !(s.excludeSuspect && r.suspect);
  const completePairs = pairs.filter((p) => usable(p.control) && usable(p.canary)).length;
  return { records, pairs, completePairs, perArm, superseded, warmup, outcome, excludeSuspect: s.excludeSuspect };
}

/** What the reference keeps besides ScenarioTrials: per-record outcomes, looked up by record. */
type RefTrials = Omit<ScenarioTrials, 'drop'> & { outcome: Map<TrialRecord, 'ok' | 'failed' | 'noData'>; excludeSuspect: boolean };

function collectTrialsRef(all: readonly TrialRecord[], scenarioId: string, s: JudgeSettings): RefTrials {
  const best = new Map<string, TrialRecord>();
  let superseded = 0;
  let warmup = 0;
  for (const r of all) {
    if (r?.type !== 'trial' || r.scenario !== scenarioId) continue;
    if (r.warmup) {
      warmup++;
      continue;
    }
    if (r.arm !== 'control' && r.arm !== 'canary') continue;
    const key = `${r.pair}/${r.arm}`;
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
  return summarizeRef([...best.values()], s, superseded, warmup);
}

function metricDataRef(t: RefTrials, spec: MetricSpec): MetricData {
  const valueFor = (r: TrialRecord): number | DropReason => {
    const o = t.outcome.get(r);
    if (o === 'failed' || r.status !== 'ok') return 'failed trial';
    if (o === 'noData') return 'moved no data';
    if (t.excludeSuspect && r.suspect) return 'suspect trial excluded';
    const v = r.metrics?.[spec.name];
    if (v === null || v === undefined || typeof v !== 'number' || !Number.isFinite(v)) return 'null metric';
    if (spec.scale === 'log' && v <= 0) return 'non-positive on log scale';
    return v;
  };
  const arm = () => ({ values: [] as number[], pairOf: [] as number[], dropped: 0, why: new Map<DropReason, number>() });
  const out = { control: arm(), canary: arm(), paired: [] as Array<{ pair: number; control: number; canary: number }> };
  for (const slot of t.pairs) {
    const got: { control?: number; canary?: number } = {};
    for (const a of ['control', 'canary'] as const) {
      const r = slot[a];
      if (!r) continue;
      const v = valueFor(r);
      if (typeof v === 'number') {
        out[a].values.push(v);
        out[a].pairOf.push(slot.pair);
        got[a] = v;
      } else {
        out[a].dropped++;
        out[a].why.set(v, (out[a].why.get(v) ?? 0) + 1);
      }
    }
    if (got.control !== undefined && got.canary !== undefined)
      out.paired.push({ pair: slot.pair, control: got.control, canary: got.canary });
  }
  // the pairs as columns, as metricData gives them
  const column = (k: 'pair' | 'control' | 'canary') => Float64Array.from(out.paired, (p) => p[k]);
  return { ...out, paired: { pair: column('pair'), control: column('control'), canary: column('canary') } };
}

const spec = (name: string, scale: 'log' | 'linear'): MetricSpec => ({
  name,
  unit: '',
  direction: 'higher',
  scale,
  margin: { kind: 'relative', value: 0.02 },
  critical: false,
  required: false,
});
const METRICS = [spec('goodput', 'log'), spec('retrans', 'linear')];

function records(seed: number): TrialRecord[] {
  const u = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(u() * xs.length)]!;
  const out: TrialRecord[] = [];
  const pairs = 5 + Math.floor(u() * 60);
  const oddPairs = seed % 4 === 0; // pairs that are not whole numbers (records built by hand)
  for (let i = 0; i < pairs * 2.4; i++) {
    const pair = oddPairs && u() < 0.3 ? Math.floor(u() * pairs) + 0.5 : Math.floor(u() * pairs);
    const metric = () => pick([1 + u(), 1 + u(), 1 + u(), 0, -1, null, undefined, Number.NaN]);
    out.push({
      type: u() < 0.97 ? 'trial' : 'note',
      runId: 'r',
      scenario: u() < 0.9 ? 's' : 'other',
      trial: `t${i}`,
      pair,
      position: i,
      arm: pick(['control', 'canary', 'control', 'canary', 'both'] as const) as 'control',
      warmup: u() < 0.05,
      status: u() < 0.9 ? 'ok' : 'failed',
      suspect: u() < 0.1 ? 'slow' : null,
      reason: null,
      startedAt: pick(['2025-01-01', '2025-01-02', undefined]),
      attempt: pick([1, 2, undefined]),
      metrics: { goodput: metric(), retrans: metric() },
      extra: u() < 0.05 ? { bytesReceived: 0 } : undefined,
    } as unknown as TrialRecord);
  }
  if (seed % 5 === 1) out.sort((a, b) => a.pair - b.pair); // pairs in order, as a run writes them
  return out;
}

describe('trial selection and metric values', () => {
  it('equal the string-keyed selection and per-record lookups on randomized records', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const all = records(seed);
      const s = { excludeSuspect: seed % 3 !== 0, primary: 'goodput', metrics: METRICS } as JudgeSettings;
      const got = collectTrials(all, 's', s);
      const want = collectTrialsRef(all, 's', s);
      expect(got.records.length).toBe(want.records.length);
      got.records.forEach((r, i) => expect(r).toBe(want.records[i]));
      expect(got.pairs).toEqual(want.pairs);
      got.pairs.forEach((p, i) => {
        expect(p.control).toBe(want.pairs[i]!.control);
        expect(p.canary).toBe(want.pairs[i]!.canary);
      });
      expect([got.completePairs, got.perArm, got.superseded, got.warmup]).toEqual([
        want.completePairs,
        want.perArm,
        want.superseded,
        want.warmup,
      ]);
      // the drop code of every slot's record, from the reference's per-record outcomes
      for (const a of ['control', 'canary'] as const) {
        const codes = want.pairs.map((p) => {
          const r = p[a];
          if (!r) return 255;
          const o = want.outcome.get(r);
          return o === 'failed' ? 1 : o === 'noData' ? 2 : s.excludeSuspect && r.suspect ? 3 : 0;
        });
        expect([...got.drop[a]]).toEqual(codes);
      }
      for (const m of METRICS) {
        const a = metricData(got, m);
        const b = metricDataRef(want, m);
        expect(a).toEqual(b);
        expect([...a.control.why]).toEqual([...b.control.why]);
        expect([...a.canary.why]).toEqual([...b.canary.why]);
      }
    }
  });
});

describe('groupByScenario', () => {
  it("keeps each listed scenario's trial records in file order and counts the trials of others", () => {
    const rec = (scenario: string, type = 'trial') => ({ type, scenario }) as unknown as TrialRecord;
    const [a1, b1, x, a2, note, y] = [rec('a'), rec('b'), rec('x'), rec('a'), rec('a', 'note'), rec('y')];
    const { byScenario, stray } = groupByScenario([a1!, b1!, x!, a2!, note!, y!, null as unknown as TrialRecord], ['a', 'b', 'c']);
    expect([...byScenario.keys()]).toEqual(['a', 'b', 'c']);
    expect(byScenario.get('a')).toEqual([a1, a2]);
    expect(byScenario.get('a')![1]).toBe(a2);
    expect(byScenario.get('b')).toEqual([b1]);
    expect(byScenario.get('c')).toEqual([]);
    expect(stray).toBe(2);
  });
});
