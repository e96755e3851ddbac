/** Judge settings a scenario carries (defaults + overrides, resolved by the loader); recorded in the manifest. */

export type Direction = 'higher' | 'lower';

/** Judge settings for one metric, as resolved from scenario defaults + overrides. */
export interface MetricSpec {
  name: string;
  unit: string;
  direction: Direction;
  /**
   * 'log': effects are log ratios (ln canary/control, sign flipped for 'lower'), margins relative.
   * 'linear': effects are differences in metric units (for metrics that are often 0, like retransmit ratio).
   */
  scale: 'log' | 'linear';
  /** Practical-significance tolerance. kind 'relative': fraction (0.02 = 2 %); 'absolute': in metric units. */
  margin: { kind: 'relative' | 'absolute'; value: number };
  critical: boolean;
  /** When true, no data for this metric is an ERROR, not NODATA. */
  required: boolean;
}

export interface JudgeSettings {
  alpha: number;
  /** Minimum number of complete (non-warm-up, both arms ok) pairs needed for a decision. */
  minPairs: number;
  /** Metric that must improve for PROMOTE when expectImprovement is true. */
  primary: string;
  expectImprovement: boolean;
  /** A scenario regresses if a critical metric regressed, or this many non-critical ones did. */
  nonCriticalRegressionsToFail: number;
  /** Max fraction of failed or suspect trials before the decision is forced to HOLD. */
  maxFailedFraction: number;
  excludeSuspect: boolean;
  /**
   * Level of the drift gate's test, when set in the scenario (`judge.drift_alpha`): it then stays
   * put when `--alpha` overrides alpha; 0 turns the gate off. Absent: the gate tests at alpha.
   */
  driftAlpha?: number;
  sequential: boolean;
  /**
   * Sequential mode only: the look schedule fixed before the run (look k happens after
   * k·pairsPerLook measured pairs, `looks` looks planned). The runner records it so the judge can
   * replay the same looks offline; without it a sequential run is judged as fixed-n (see docs/judge.md).
   */
  sequentialPlan?: { looks: number; pairsPerLook: number };
  metrics: MetricSpec[];
}
