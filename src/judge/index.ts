/**
 * The judge: reads a run's stored results only (manifest.json, results.jsonl) and decides
 * promote / hold / rollback. Statistical choices are documented in docs/judge.md.
 * Imports nothing outside src/stats, src/judge and src/results (plus node:fs/node:path for I/O).
 */
import { EXIT } from '../errors.js';
import type { Decision } from '../results/types.js';

export { judgeRecords, resolveSettings, decide, scenarioDecision, type JudgeOverrides } from './judge.js';
export { sequentialLook, type SequentialLookSpec, type SequentialDecision } from './sequential.js';
export { readRun, judgeRun, writeVerdict, parseResults, type RunData } from './run.js';
export { thresholdFor, toPct } from './metric.js';
export {
  reachability,
  parseMarginOption,
  parseAlphaOption,
  checkMargin,
  checkAlpha,
  criticalShare,
  gatekeeping,
  CRITICAL_SHARE,
  type Reachability,
  type FamilyTest,
} from './plan.js';
export { trialOutcome, type TrialOutcome } from './prepare.js';
export { simulate, syntheticRun, simulateSequential, type SimulationOptions, type SimulationSummary } from './simulate.js';

/** Process exit code for a decision: promote 0, rollback 1, hold 4. */
export function exitCodeFor(decision: Decision): number {
  switch (decision) {
    case 'promote':
      return EXIT.promote;
    case 'rollback':
      return EXIT.rollback;
    case 'hold':
      return EXIT.hold;
    default:
      return EXIT.hold; // unknown decision from a foreign verdict.json: treat as hold
  }
}
