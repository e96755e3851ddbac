/**
 * Sequential mode: a pure function the runner calls after each block of pairs.
 *
 * Error control under repeated looks uses alpha spending with a Bonferroni split (see
 * src/stats/spending.ts): look k of K is judged with one-sided level
 *     α_k = f(k/K) - f((k-1)/K),   f(t) = α(1 - e^{4t})/(1 - e^{4})   (Hwang-Shih-DeCani, γ = -4),
 * i.e. intervals at confidence 1 - 2α_k and REGRESSED only if the adjusted margin p ≤ α_k.
 * Σ α_k = α, so by the union bound the chance of ever rolling back a canary whose true effect is
 * within the margin (or of ever promoting one that is beyond it) is at most α, for any correlation
 * between looks and without asymptotic joint-normality assumptions. γ = -4 is O'Brien-Fleming-like:
 * early looks are strict (only clear-cut cases stop) and most α is left for the last looks;
 * unlike the Lan-DeMets O'Brien-Fleming function its first look of 4 is still reachable with ~10
 * pairs by the exact signed-rank test (α_1 ≈ 0.0016 at α = 0.05).
 *
 * The runner must record the schedule in the manifest (judge.sequentialPlan = {looks, pairsPerLook})
 * so that judgeRecords can replay the same looks offline and reach the same decision.
 */
import type { Decision, JudgeSettings, ManifestScenario, ScenarioResult, TrialRecord } from '../results/types.js';
import { evaluateLook, type JudgeOverrides, resolveSettings } from './judge.js';
import { collectTrials } from './prepare.js';

export interface SequentialLookSpec {
  /** 1-based index of this look. */
  index: number;
  /** Number of planned looks (the last one is at the planned maximum number of pairs). */
  planned: number;
  /** Scenarios in the run (Bonferroni share of α per scenario); default 1. */
  scenarios?: number;
}

export interface SequentialDecision {
  /** true: stop running pairs for this scenario (decision reached, or last planned look). */
  stop: boolean;
  /** What the judge would decide for this scenario now: 'hold' means keep going (or, at the last look, no decision). */
  decisionSoFar: Decision;
  /** Nominal one-sided level of this look. */
  alphaLook: number;
  /** The scenario's judgement at this look. */
  scenario: ScenarioResult;
  reasons: string[];
}

/**
 * Judge one scenario's records at a sequential look. `records` may contain other scenarios' records
 * when `scenario` is given (by id or manifest entry); otherwise they must all belong to one scenario.
 */
export function sequentialLook(
  records: TrialRecord[],
  settings: JudgeSettings,
  look: SequentialLookSpec,
  scenario?: string | Pick<ManifestScenario, 'id' | 'name' | 'params'>,
  overrides: JudgeOverrides = {},
): SequentialDecision {
  const id = typeof scenario === 'string' ? scenario : (scenario?.id ?? records.find((r) => r.type === 'trial')?.scenario ?? '');
  const meta =
    typeof scenario === 'object' ? { id: scenario.id, name: scenario.name, params: scenario.params ?? {} } : { id, name: id, params: {} };
  const s = resolveSettings(settings, overrides);
  const trials = collectTrials(records, id, s);
  const r = evaluateLook(meta, s, trials, look.index, look.planned, look.scenarios ?? 1);
  return { stop: r.stop, decisionSoFar: r.decision, alphaLook: r.alphaLook, scenario: r.result, reasons: r.result.reasons };
}
