/**
 * The judge: reads a run's stored results only (manifest.json, results.jsonl) and decides
 * promote / hold / rollback. Statistical choices are documented in docs/judge.md.
 * Imports nothing outside src/stats, src/judge and src/results (plus node:fs/node:path for I/O).
 */
import { EXIT } from '../errors.js';
import type { Decision } from '../results/types.js';

export { judgeRecords, decide, type JudgeOverrides } from './judge.js';
export { sequentialLook } from './sequential.js';
export { readRun, judgeRun, writeVerdict, parseResults } from './run.js';
export { thresholdFor } from './metric.js';
export { reachability } from './plan.js';
('./prepare.js');
export { simulate, syntheticRun, simulateSequential } from './simulate.js';

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
