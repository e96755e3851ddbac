/**
 * Replacement rounds: suspect pairs are re-run whole at the end of the schedule (same pair index,
 * same arm order) while the scenario's budget lasts; a replacement that is suspect again is queued again.
 */
import type { Arm, ManifestScenario, TrialRecord } from '../results/types.js';
import type { Scenario } from '../scenario/model.js';
import { trialPlan } from './schedule.js';
import type { Progress } from './types.js';

/** extra.replacement of a trial that re-runs a suspect pair */
export interface Replacement {
  /** 1 for the scenario's first replacement pair, 2 for the second, ... */
  round: number;
  /** why the pair it replaces was suspect */
  reason: string;
}

/**
 * Extra pairs a scenario may re-run: trials.replace_budget (default 25 %) of its measured pairs, at
 * least 1. None with judge.exclude_suspect off: suspect trials are then judged like any other.
 */
export function replacementBudget(s: Scenario): number {
  const share = s.trials.replaceBudget ?? 0.25;
  if (share <= 0 || !s.judge.excludeSuspect) return 0;
  return Math.max(1, Math.ceil(share * s.trials.pairs));
}

/**
 * Which measured pairs still need a replacement (pure; unit-tested): the latest record of each arm (file
 * order) ran ok, at least one is suspect, none failed (a failure is evidence against its arm, never
 * re-run away). `used` counts replacement pairs already run (extra.replacement), across resumed attempts.
 */
export function replacementState(
  records: readonly TrialRecord[],
  warmup: number,
): { pending: { pair: number; reason: string }[]; used: number; log: { pair: number; round: number; reason: string }[] } {
  const latest = new Map<string, TrialRecord>();
  const rounds = new Map<number, { pair: number; round: number; reason: string }>();
  for (const r of records) {
    if (r.pair < warmup) continue;
    const prev = latest.get(`${r.pair}/${r.arm}`);
    if (!prev || (r.attempt ?? 1) >= (prev.attempt ?? 1)) latest.set(`${r.pair}/${r.arm}`, r);
    const rep = r.extra?.replacement as Replacement | undefined;
    if (rep && typeof rep.round === 'number') rounds.set(rep.round, { pair: r.pair, round: rep.round, reason: rep.reason });
  }
  const pairs = new Set([...latest.values()].map((r) => r.pair));
  const pending: { pair: number; reason: string }[] = [];
  for (const pair of [...pairs].sort((a, b) => a - b)) {
    const c = latest.get(`${pair}/control`);
    const k = latest.get(`${pair}/canary`);
    if (!c || !k || c.status !== 'ok' || k.status !== 'ok') continue;
    const why = [c.suspect ? `control: ${c.suspect}` : '', k.suspect ? `canary: ${k.suspect}` : ''].filter(Boolean).join('; ');
    if (why) pending.push({ pair, reason: why });
  }
  const log = [...rounds.values()].sort((a, b) => a.round - b.round);
  return { pending, used: log.length, log };
}

/** What the replacement rounds need from the scenario's trial loop. */
export interface ReplacementRun {
  s: Scenario;
  seed: number;
  /** every record of the scenario so far (this attempt's and resumed ones); grows as trials run */
  seen: readonly TrialRecord[];
  ms: ManifestScenario;
  save: () => void;
  progress: Progress;
  signal?: AbortSignal;
  /** a pair not replaced before is about to run: two more trials in the progress total */
  newPair: () => void;
  runOne: (pair: number, position: 0 | 1, arm: Arm, replacement: Replacement) => Promise<unknown>;
}

/** Re-run suspect pairs while the budget lasts, recording the state in the manifest after each round. */
export async function runReplacements(r: ReplacementRun): Promise<void> {
  const { s, ms } = r;
  const budget = replacementBudget(s);
  const order = new Map(trialPlan(s, r.seed).map((t) => [`${t.pair}-${t.position}`, t.arm]));
  const replaced = new Map<number, string>();
  for (;;) {
    const state = replacementState(r.seen, s.trials.warmup);
    ms.replacements = { budget, used: state.used, pairs: state.log, unreplaced: state.pending.length };
    r.save();
    // pairs not replaced yet first, so one pair that stays suspect cannot use up the whole budget
    const tries = (pair: number) => state.log.filter((l) => l.pair === pair).length;
    const next = [...state.pending].sort((a, b) => tries(a.pair) - tries(b.pair) || a.pair - b.pair)[0];
    if (next === undefined || state.used >= budget || r.signal?.aborted) break;
    const round = state.used + 1;
    if (!replaced.has(next.pair)) r.newPair();
    replaced.set(next.pair, next.reason);
    r.progress.step(`pair ${next.pair} was suspect (${next.reason}): re-running it (replacement ${round} of at most ${budget})`);
    for (const position of [0, 1] as const) {
      const arm = order.get(`${next.pair}-${position}`) ?? (position === 0 ? 'control' : 'canary');
      await r.runOne(next.pair, position, arm, { round, reason: next.reason });
    }
  }
}
