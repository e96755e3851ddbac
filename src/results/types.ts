/**
 * The on-disk contract of a run directory. The run pipeline writes it; the judge and the report read
 * only this (never live state), so a past run can be re-judged and re-rendered offline.
 *
 *   <run dir>/manifest.json   RunManifest, written at start and rewritten as scenarios complete
 *   <run dir>/results.jsonl   one TrialRecord per line, appended and fsync'd as each trial ends
 *   <run dir>/telemetry/      per-trial side files (relay telemetry, iperf3 intervals), named by trial id
 *   <run dir>/verdict.json    written by the judge
 *   <run dir>/report.html     written by the report
 */

import type { Direction, JudgeSettings, MetricSpec } from '../scenario/judge.js';
import type { ReportSettings, SuiteInfo } from '../scenario/model.js';

export type { Direction, JudgeSettings, MetricSpec, ReportSettings, SuiteInfo };

export type Arm = 'control' | 'canary';
/** One expanded scenario as recorded in the manifest. */
export interface ManifestScenario {
  /** Stable id: file stem plus matrix point, e.g. "quickstart" or "grid[delay=20ms,loss=1%]". */
  id: string;
  name: string;
  /** The matrix point (dotted path -> value as written), empty when the file has no matrix. */
  params: Record<string, string | number | boolean>;
  /** sha256 of the canonical JSON of the expanded scenario. */
  hash: string;
  /** The expanded scenario (normalised: units resolved to numbers). */
  scenario: unknown;
  judge: JudgeSettings;
  /**
   * Engine chosen for this scenario ('netem' | 'userspace') and why; randomness: whether its random
   * draws were seeded ("netem: seeded", "netem: not supported by this kernel/tc (...)", the relay's).
   */
  engine?: { name: string; reason: string; randomness?: string };
  /** Tunings as read back after applying them, per arm and host. */
  readback?: Record<string, unknown>;
  /** Fidelity probe: measured vs configured path, see impairment/fidelity. */
  fidelity?: unknown;
  /** Theory inputs for the report: bottleneck rate, base RTT, loss, buffer, MSS. */
  path?: { rateMbit?: number; rttMs: number; loss?: number; bufferBytes?: number; mss: number };
  status?: 'pending' | 'running' | 'done' | 'failed';
  error?: string;
  /** The scenario file it came from (suites hold many files). */
  file?: string;
  /** The seed this scenario ran with (pair order, relay randomness, shared per-pair draws); older runs: manifest.seed. */
  seed?: number;
  /** Estimated wall time, seconds (plan, shard balancing, ETA). */
  estimateS?: number;
  /**
   * Suspect pairs re-run at the end of the schedule (trial/runner): the budget in pairs, how many
   * were used, each replacement (pair index, round, why the pair was suspect) and how many suspect
   * pairs were left when the budget ran out. The judge uses each pair's latest records.
   */
  replacements?: { budget: number; used: number; pairs: { pair: number; round: number; reason: string }[]; unreplaced: number };
  /** The file's `report:` settings (pivot names resolved to full matrix keys). */
  report?: ReportSettings;
}

export interface Attempt {
  attempt: number;
  startedAt: string;
  finishedAt?: string;
  interrupted?: boolean;
  command: string[];
}

export interface RunManifest {
  format: 'netab-run/1';
  runId: string;
  netabVersion: string;
  createdAt: string;
  command: string[];
  sourceFile: string;
  seed: number;
  backend: 'netns' | 'docker';
  aa: boolean;
  environment: {
    kernel: string;
    hostname: string;
    node: string;
    iproute2?: string;
    iperf3?: string;
    netem: boolean;
    vm?: { kernel: string; accelerator: string } | null;
  };
  scenarios: ManifestScenario[];
  finishedAt?: string;
  interrupted?: boolean;
  suite?: SuiteInfo;
  /** one entry per run attempt (first run, then each --resume) */
  attempts?: Attempt[];
}

/**
 * One trial = one arm measured once. Metrics are already reduced to one value per metric
 * (the unit of analysis); raw samples, when kept, live in `samples` or in telemetry side files.
 */
export interface TrialRecord {
  type: 'trial';
  runId: string;
  scenario: string; // ManifestScenario.id
  trial: string; // unique id "<scenario>#<pair>-<arm>"
  pair: number; // 0-based pair index, warm-up pairs included
  position: 0 | 1; // order inside the pair (0 ran first)
  arm: Arm;
  warmup: boolean;
  status: 'ok' | 'failed';
  /** Set when the trial ran but a health check (relay lateness, CPU) says its values are doubtful. */
  suspect?: string | null;
  reason?: string | null; // why failed
  startedAt: string; // ISO time
  durationMs: number;
  /** Attempt number when a suite was resumed (1 = first). */
  attempt: number;
  metrics: Record<string, number | null>;
  /** Small per-trial series for charts, e.g. { t: [...s], goodput: [...Mbit/s], rtt: [...ms] }. */
  series?: Record<string, number[]>;
  /** Tool-specific extras (iperf3 summary fields, transfer counts). */
  extra?: Record<string, unknown>;
}

/** verdict.json, written by the judge. */
export type Decision = 'promote' | 'hold' | 'rollback';
export type MetricVerdict = 'IMPROVED' | 'PASS' | 'REGRESSED' | 'INCONCLUSIVE' | 'NODATA' | 'ERROR';
export type ScenarioVerdict = 'IMPROVED' | 'PASS' | 'REGRESSED' | 'INCONCLUSIVE' | 'ERROR';

export interface MetricResult {
  name: string;
  direction: Direction;
  unit: string;
  margin: MetricSpec['margin'];
  critical: boolean;
  control: { n: number; median: number | null; dropped: number; droppedWhy: string[] };
  canary: { n: number; median: number | null; dropped: number; droppedWhy: string[] };
  /**
   * Effect oriented so positive is good, as a log ratio (ln(canary/control) for 'higher'). null if no data.
   * For scale 'linear' it is a difference in metric units (canary - control, sign flipped for 'lower').
   */
  effect: number | null;
  /**
   * Effect expressed in percent (exp(effect) - 1) * 100, for display. For scale 'linear':
   * 100 * effect / |median(control)|, null when the control median is 0.
   */
  effectPct: number | null;
  ci: [number, number] | null;
  ciPct: [number, number] | null;
  method: string;
  /** Two-sided p-value for "no difference" (signed-rank paired / Mann-Whitney unpaired). */
  p: number | null;
  /** `p` adjusted across the run's tests (gatekeeping: critical first, Holm across scenarios). */
  pAdjusted: number | null;
  /** One-sided p-value against the -margin boundary (H1: effect below -margin), used for REGRESSED. */
  pMargin?: number | null;
  /** `pMargin` adjusted with the run's rollback tests (gatekeeping); REGRESSED needs it ≤ alpha. */
  pMarginAdjusted?: number | null;
  /** The -margin boundary on the effect scale (ln(1 - m) for relative margins on the log scale). */
  threshold?: number | null;
  scale?: 'log' | 'linear';
  /** 'paired' (complete pairs) or 'unpaired' (fallback), null when there was nothing to analyse. */
  analysis?: 'paired' | 'unpaired' | null;
  /** Complete pairs used by a paired analysis. */
  pairs?: number;
  /** Extra pairs estimated to settle this metric (INCONCLUSIVE, or PASS that must still show IMPROVED). */
  morePairs?: number | null;
  cliffsDelta: number | null;
  verdict: MetricVerdict;
  label?: string;
  note?: string;
}

export interface ScenarioResult {
  id: string;
  name: string;
  params: Record<string, string | number | boolean>;
  verdict: ScenarioVerdict;
  pairs: number;
  metrics: MetricResult[];
  reasons: string[];
  /** Extra pairs estimated to settle an INCONCLUSIVE scenario. */
  morePairs?: number | null;
  /** Data-quality gates that fired (each also has a sentence in `reasons`). */
  gates?: string[];
  /** Sequential mode: the look this verdict comes from and its nominal one-sided level. */
  look?: { index: number; planned: number; alpha: number; stopped: boolean } | null;
  /** Failed and no-data trials per arm and the failure test (see docs/judge.md, "Failures"). */
  failures?: FailureResult;
}

/** Per arm: measured trials, and how many failed or completed without moving data. */
export interface ArmFailures {
  trials: number;
  failed: number;
  noData: number;
}

/**
 * The failure test: one-sided Fisher exact test on the 2×2 counts (H1: the canary fails more often
 * than control), adjusted with the run's other rollback tests. REGRESSED when pAdjusted ≤ alpha.
 */
export interface FailureResult {
  control: ArmFailures;
  canary: ArmFailures;
  /** One-sided Fisher exact p; null when an arm has no measured trial. */
  p: number | null;
  /** Smallest p attainable with these counts (all failures in the canary). */
  pMin: number | null;
  /** Adjusted p; null when the test is not in the family (it cannot reach alpha with these counts). */
  pAdjusted: number | null;
  verdict: 'REGRESSED' | 'NOT_SIGNIFICANT' | 'NODATA';
}

export interface Verdict {
  format: 'netab-verdict/1';
  runId: string;
  decision: Decision;
  reasons: string[];
  alpha: number;
  morePairs?: number | null;
  scenarios: ScenarioResult[];
  judgedAt: string;
  netabVersion: string;
  /** How the rollback tests were adjusted for multiplicity (see docs/judge.md). */
  multiplicity?: { scheme: 'gatekeeping'; criticalShare: number; tests: number; scenarios: number };
}
