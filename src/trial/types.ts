/** What the run pipeline's parts share: its options, its progress sink, the abort error, one attempt's context. */
import { InterruptedError } from '../errors.js';
import type { RunManifest, SuiteInfo, TrialRecord } from '../results/types.js';
import type { Scenario } from '../scenario/model.js';
import type { PlannedTrial } from './schedule.js';

export interface Progress {
  scenario(i: number, n: number, s: Scenario): void;
  step(msg: string): void;
  trial(done: number, total: number, rec: TrialRecord): void;
  warn(msg: string): void;
}

export interface RunOptions {
  runDir: string;
  runId?: string;
  seed: number;
  aa: boolean;
  command: string[];
  sourceFile: string;
  signal?: AbortSignal;
  progress: Progress;
  /** CPU busy share above which a trial is flagged suspect */
  cpuSuspect?: number;
  suite?: SuiteInfo;
  /** --resume: the interrupted run's manifest and the trials it already finished ("<scenario>#<pair>-<arm>") */
  resume?: { manifest: RunManifest; done: Set<string>; records: TrialRecord[] };
  /** scenarios in the whole run (sequential looks split alpha across them) */
  scenarioCount?: number;
}

export class Aborted extends InterruptedError {
  constructor() {
    super('interrupted');
  }
}

/** One attempt at one scenario: namespace id, the run's id, the attempt number and the trials left. */
export interface AttemptCtx {
  netId: string;
  runId: string;
  attempt: number;
  todo: PlannedTrial[];
}
