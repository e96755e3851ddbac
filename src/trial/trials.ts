/**
 * A scenario's trial loop: its scheduled trials in plan order, with sequential looks at each block
 * boundary when the judge asks for them, then the replacement rounds for suspect pairs.
 */
import { sequentialLook } from '../judge/index.js';
import type { Arm, ManifestScenario, TrialRecord } from '../results/types.js';
import { executeTrial, type TrialEnv } from './execute.js';
import { runReplacements, type Replacement } from './replacement.js';

export async function runTrials(env: TrialEnv, ms: ManifestScenario, save: () => void): Promise<void> {
  const { s, ctx, opts } = env;
  let done = 0;
  const seen: TrialRecord[] = [...(opts.resume?.records.filter((r) => r.scenario === s.id) ?? [])];
  const plan = s.judge.sequential ? s.judge.sequentialPlan : undefined;
  let total = ctx.todo.length;

  const runOne = async (pair: number, position: 0 | 1, arm: Arm, replacement?: Replacement): Promise<TrialRecord> => {
    const rec = await executeTrial(env, pair, position, arm, replacement);
    seen.push(rec);
    done++;
    opts.progress.trial(done, total, rec);
    return rec;
  };

  for (const { pair, position, arm } of ctx.todo) {
    await runOne(pair, position, arm);
    // sequential mode: look at each block boundary (pairs are complete when their second trial ends)
    const measured = pair + 1 - s.trials.warmup;
    if (plan && position === 1 && measured > 0 && measured % plan.pairsPerLook === 0) {
      const index = Math.min(plan.looks, measured / plan.pairsPerLook);
      const look = sequentialLook(seen, s.judge, { index, planned: plan.looks, scenarios: opts.scenarioCount ?? 1 }, s.id);
      opts.progress.step(
        `sequential look ${index}/${plan.looks} after ${measured} pairs: ${look.stop ? `stop (${look.decisionSoFar})` : 'continue'}`,
      );
      if (look.stop) break;
    }
  }

  // suspect pairs are re-run whole at the end of the schedule (same pair index, same arm order), while
  // the budget lasts; a replacement that is suspect again is queued again
  await runReplacements({
    s,
    seed: opts.seed,
    seen,
    ms,
    save,
    progress: opts.progress,
    signal: opts.signal,
    newPair: () => {
      total += 2;
    },
    runOne,
  });
}
