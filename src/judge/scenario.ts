/**
 * Per-scenario judgement: metric analyses, data-quality gates and the scenario verdict.
 *
 * Failures: a trial that failed or moved no data counts against its arm. The failure test (one-sided
 * Fisher exact on the 2×2 counts, adjusted with the run's rollback tests in the critical family)
 * makes the scenario REGRESSED when the canary fails significantly more often than control; that
 * verdict stands even when a data-quality gate fires (the failures are the finding).
 *
 * Gates (each forces the scenario to INCONCLUSIVE, hence the decision to HOLD, and adds a sentence):
 *  - failed:    per arm, (failed + no-data + excluded suspect trials) / the arm's measured trials
 *               > maxFailedFraction (each arm on its own: a canary failing 3 of 10 trips it even
 *               when control never fails);
 *  - imbalance: more than one measured pair has a record for one arm only (an interrupted last pair
 *               explains one; more means trials went missing unevenly);
 *  - drift:     Spearman correlation of the control values with the pair index, per metric with at
 *               least max(5, minPairs) control values, with R's exact / AS 89 p-value (the t
 *               approximation alone fired in 1 of 12 stable runs of 5 pairs). Fires for a metric
 *               whose p-value times the number of drift tests in the run (Bonferroni over all
 *               scenario × metric drift tests, so a stable run trips it with probability ≤ its level
 *               however many scenarios it has) is below the level (judge.drift_alpha, default α; 0:
 *               off) AND whose control moved by at least the metric's margin over the run
 *               (Theil-Sen slope × span of pair indices, on the effect scale: ln for log metrics).
 *               Pairing with random order protects the effect estimate from slow drift, but a
 *               control that moves by more than the margin means the environment was not stable
 *               at the scale of the decision, so the result is not trusted for a rollout;
 *  - minPairs:  fewer than minPairs complete pairs (both arms ok and not excluded as suspect).
 */
import { fisherExact, spearman, theilSenSlope } from '../stats/index.js';
import type { ArmFailures, FailureResult, JudgeSettings, MetricResult, ScenarioResult, ScenarioVerdict } from '../results/types.js';
import { pct, pval } from './format.js';
import { analyzeMetric, decideMetric, type MetricAnalysis, morePairsFor } from './metric.js';
import { metricData, type ScenarioTrials, whyList } from './prepare.js';

export interface ScenarioInput {
  id: string;
  name: string;
  params: Record<string, string | number | boolean>;
  settings: JudgeSettings;
  trials: ScenarioTrials;
  /** One-sided level of each side of the interval: α (fixed) or α_k (sequential look k). */
  ciAlpha: number;
  /** Error recorded for the scenario in the manifest, if any. */
  error?: string;
}

export interface Gate {
  key: 'failed' | 'imbalance' | 'drift' | 'minPairs';
  sentence: string;
}

export interface DriftTest {
  name: string;
  rho: number;
  p: number;
  /** Theil-Sen trend of the control over the run, on the effect scale (ln units for log metrics). */
  readonly trend: number;
  /** |margin boundary| on the effect scale; null when it cannot be placed. */
  limit: number | null;
}

export interface FailureAnalysis {
  control: ArmFailures;
  canary: ArmFailures;
  /** One-sided Fisher exact p (canary fails more often); null when an arm has no measured trial. */
  p: number | null;
  /** Smallest p attainable with these margins. */
  pMin: number | null;
}

export interface ScenarioAnalysis {
  input: ScenarioInput;
  metrics: MetricAnalysis[];
  drift: DriftTest[];
  failures: FailureAnalysis;
}

/** Failure counts per arm and the one-sided Fisher exact test (H1: the canary fails more often). */
export function analyzeFailures(trials: ScenarioTrials): FailureAnalysis {
  const arm = (a: 'control' | 'canary'): ArmFailures => ({
    trials: trials.perArm[a].records,
    failed: trials.perArm[a].failed,
    noData: trials.perArm[a].noData,
  });
  const control = arm('control');
  const canary = arm('canary');
  if (control.trials === 0 || canary.trials === 0) return { control, canary, p: null, pMin: null };
  const fk = canary.failed + canary.noData;
  const fc = control.failed + control.noData;
  const r = fisherExact(fk, canary.trials - fk, fc, control.trials - fc, 'greater');
  return { control, canary, p: r.p, pMin: r.pMin };
}

/** "canary failed 3 of 10 trials (2 failed, 1 moved no data), control 0 of 10" */
export function failureCounts(f: Pick<FailureAnalysis, 'control' | 'canary'>): string {
  const one = (name: string, a: ArmFailures): string => {
    const n = a.failed + a.noData;
    const parts = a.failed && a.noData ? ` (${a.failed} failed, ${a.noData} moved no data)` : a.noData ? ` (moved no data)` : '';
    return `${name} failed ${n} of ${a.trials} trial${a.trials === 1 ? '' : 's'}${parts}`;
  };
  const c = f.control;
  const nc = c.failed + c.noData;
  const ctl = `control ${nc} of ${c.trials}${c.failed && c.noData ? ` (${c.failed} failed, ${c.noData} moved no data)` : c.noData ? ' (moved no data)' : ''}`;
  return `${one('canary', f.canary)}, ${ctl}`;
}

export function analyzeScenario(input: ScenarioInput): ScenarioAnalysis {
  const { settings, trials } = input;
  const metrics = settings.metrics.map((spec) => analyzeMetric(spec, metricData(trials, spec), input.ciAlpha, settings.minPairs));
  const minDrift = Math.max(5, settings.minPairs);
  const drift: DriftTest[] = [];
  for (const m of metrics) {
    const c = m.data.control;
    if (c.values.length < minDrift) continue;
    const r = spearman(c.pairOf, c.values);
    const limit = m.threshold !== null && Number.isFinite(m.threshold) ? Math.abs(m.threshold) : null;
    drift.push(driftTest(m, r, limit));
  }
  return { input, metrics, drift, failures: analyzeFailures(trials) };
}

/**
 * A drift test whose trend is computed when first read. The gate reads it only for a test below its
 * Bonferroni level, which a stable run rarely has, and the Theil-Sen selection is the costliest
 * statistic of a big run (a quarter of judging 100,000 trials).
 */
function driftTest(m: MetricAnalysis, r: { rho: number; p: number }, limit: number | null): DriftTest {
  let trend: number | undefined;
  return {
    name: m.spec.name,
    rho: r.rho,
    p: r.p,
    get trend(): number {
      if (trend === undefined) {
        const c = m.data.control;
        const y = m.spec.scale === 'log' ? c.values.map(Math.log) : c.values;
        const span = Math.max(...c.pairOf) - Math.min(...c.pairOf);
        const slope = theilSenSlope(c.pairOf, y);
        trend = Number.isFinite(slope) ? slope * span : 0;
      }
      return trend;
    },
    limit,
  };
}

function qualityGates(sa: ScenarioAnalysis, driftFamily: number): Gate[] {
  const { settings, trials } = sa.input;
  const gates: Gate[] = [];
  const total = trials.perArm.control.records + trials.perArm.canary.records;
  if (total === 0) return gates;
  // each arm on its own: a canary that fails often is not hidden by a control that never does.
  // Suspect trials count against data quality only when they are excluded: with exclude_suspect off
  // the user has chosen to judge them like any other trial
  const lost = (a: 'control' | 'canary') => {
    const c = trials.perArm[a];
    const bad = c.failed + c.noData + (settings.excludeSuspect ? c.suspect : 0);
    return { ...c, bad, frac: c.records ? bad / c.records : 0, suspectCounted: settings.excludeSuspect ? c.suspect : 0 };
  };
  const arms = { control: lost('control'), canary: lost('canary') };
  const over = (['canary', 'control'] as const).filter((a) => arms[a].frac > settings.maxFailedFraction);
  if (over.length) {
    const text = (a: 'control' | 'canary') => {
      const x = arms[a];
      const parts = [
        `${x.failed} failed`,
        `${x.noData} moved no data`,
        ...(settings.excludeSuspect ? [`${x.suspectCounted} suspect`] : []),
      ].join(', ');
      return `${a} lost ${x.bad} of ${x.records} trials (${parts}; ${pct(x.frac * 100).replace('+', '')})`;
    };
    gates.push({
      key: 'failed',
      sentence: `Data quality: ${text('canary')}, ${text('control')}; ${over.join(' and ')} above the ${Number((settings.maxFailedFraction * 100).toPrecision(3))} % limit per arm.`,
    });
  }
  const half = trials.pairs.filter((p) => !p.control !== !p.canary).length;
  if (half > 1) {
    gates.push({
      key: 'imbalance',
      sentence: `Data quality: unequal arm counts, ${trials.perArm.control.records} control vs ${trials.perArm.canary.records} canary trial records with ${half} pairs missing one arm; an interrupted last pair explains at most one.`,
    });
  }
  const family = Math.max(driftFamily, sa.drift.length, 1);
  const level = settings.driftAlpha ?? settings.alpha;
  const drifting = sa.drift.filter((d) => d.p * family < level && (d.limit === null || Math.abs(d.trend) >= d.limit));
  if (drifting.length) {
    const worst = drifting.reduce((a, b) => (b.p < a.p ? b : a));
    const m = sa.metrics.find((x) => x.spec.name === worst.name)!;
    const moved =
      m.spec.scale === 'log'
        ? pct(Math.expm1(worst.trend) * 100)
        : `${worst.trend > 0 ? '+' : ''}${Number(worst.trend.toPrecision(3))}${m.spec.unit ? ` ${m.spec.unit}` : ''}`;
    gates.push({
      key: 'drift',
      sentence:
        `Data quality: control ${worst.name} drifts with run order (Spearman rho = ${worst.rho.toFixed(2)}, p = ${pval(worst.p)}` +
        `${family > 1 ? `, Bonferroni over ${family} drift tests` : ''}, below ${level}; it moved ${moved} over the run, at least the margin): the environment was not stable.`,
    });
  }
  if (trials.completePairs < settings.minPairs) {
    gates.push({
      key: 'minPairs',
      sentence: `Data quality: ${trials.completePairs} complete pair${trials.completePairs === 1 ? '' : 's'}, fewer than the ${settings.minPairs} required (minPairs).`,
    });
  }
  return gates;
}

export interface FinishOptions {
  /** Adjusted p of the failure test; null when it is not in the family (cannot reach α with these counts). */
  pFailuresAdjusted?: number | null;
  /** Number of drift tests in the run's family (default: this scenario's). */
  driftFamily?: number;
  /** Holm-adjusted p-values (two-sided and against the margin), aligned with analysis.metrics. */
  pAdjusted: Array<number | null>;
  pMarginAdjusted: Array<number | null>;
  testAlpha: number;
  look?: ScenarioResult['look'];
}

/**
 * Scenario verdict from its metric verdicts:
 *   REGRESSED    a critical metric regressed, or ≥ nonCriticalRegressionsToFail non-critical ones;
 *   ERROR        a required metric has no data (or no trials were recorded);
 *   PASS         every metric PASS/IMPROVED (NODATA of non-required metrics doesn't block) and at
 *                least one metric was judged; IMPROVED when, in addition, the primary improved;
 *   INCONCLUSIVE otherwise, and whenever a data-quality gate fired (the statistical verdict is kept
 *                in the reasons).
 */
// Long by design: the decision rules in the order docs/judge.md states them, kept as one rulebook.
export function finishScenario(sa: ScenarioAnalysis, o: FinishOptions): ScenarioResult {
  const { input } = sa;
  const { settings } = input;
  const gates = qualityGates(sa, o.driftFamily ?? sa.drift.length);
  const reasons: string[] = [];
  const f = sa.failures;
  const pFail = o.pFailuresAdjusted ?? null;
  const failures: FailureResult = {
    control: f.control,
    canary: f.canary,
    p: f.p,
    pMin: f.pMin,
    pAdjusted: pFail,
    verdict: f.p === null ? 'NODATA' : pFail !== null && pFail <= o.testAlpha ? 'REGRESSED' : 'NOT_SIGNIFICANT',
  };
  const anyFailure = f.control.failed + f.control.noData + f.canary.failed + f.canary.noData > 0;
  if (failures.verdict === 'REGRESSED') {
    reasons.push(
      `Failures regressed: ${failureCounts(f)} (one-sided Fisher exact p = ${pval(f.p!)}, adjusted p = ${pval(pFail!)} ≤ ${Number(o.testAlpha.toPrecision(3))}).`,
    );
  } else if (anyFailure && f.p !== null) {
    reasons.push(
      `Failures: ${failureCounts(f)}; one-sided Fisher exact p = ${pval(f.p)}` +
        (pFail === null
          ? ` (at best ${pval(f.pMin!)} with these counts, so it cannot reach ${Number(o.testAlpha.toPrecision(3))} and is not in the multiplicity family)`
          : `, adjusted p = ${pval(pFail)} > ${Number(o.testAlpha.toPrecision(3))}`) +
        ': not significant.',
    );
  }
  const dropped = droppedSentence(sa);
  if (dropped) reasons.push(dropped);
  const results: MetricResult[] = [];
  sa.metrics.forEach((a, i) => {
    const { result, reason } = decideMetric({
      a,
      pAdjusted: o.pAdjusted[i] ?? null,
      pMarginAdjusted: o.pMarginAdjusted[i] ?? null,
      testAlpha: o.testAlpha,
    });
    results.push(result);
    if (reason && result.verdict !== 'IMPROVED') reasons.push(reason);
    else if (reason && result.name === settings.primary) reasons.push(reason);
  });
  const noTrials = input.trials.records.length === 0;
  const regressedCritical = results.filter((m) => m.verdict === 'REGRESSED' && m.critical);
  const regressedOther = results.filter((m) => m.verdict === 'REGRESSED' && !m.critical);
  const need = settings.nonCriticalRegressionsToFail;
  let verdict: ScenarioVerdict;
  const failuresRegressed = failures.verdict === 'REGRESSED';
  if (failuresRegressed || regressedCritical.length || (need > 0 && regressedOther.length >= need)) {
    verdict = 'REGRESSED';
    if (failuresRegressed && !regressedCritical.length && !(need > 0 && regressedOther.length >= need))
      reasons.push('The canary fails significantly more often than control.');
    else if (regressedCritical.length)
      reasons.push(
        `Critical metric${regressedCritical.length > 1 ? 's' : ''} ${regressedCritical.map((m) => m.name).join(', ')} regressed.`,
      );
    else
      reasons.push(
        `${regressedOther.length} non-critical metrics regressed (${regressedOther.map((m) => m.name).join(', ')}), the limit is ${need}.`,
      );
  } else if (noTrials || results.some((m) => m.verdict === 'ERROR')) {
    verdict = 'ERROR';
    if (noTrials) reasons.push(`No measured trials recorded for this scenario${input.error ? ` (${input.error})` : ''}.`);
    else
      reasons.push(
        `Scenario ERROR: required metric${results.filter((m) => m.verdict === 'ERROR').length > 1 ? 's' : ''} ${results
          .filter((m) => m.verdict === 'ERROR')
          .map((m) => m.name)
          .join(', ')} had no data.`,
      );
  } else if (
    results.every((m) => m.verdict === 'PASS' || m.verdict === 'IMPROVED' || m.verdict === 'NODATA') &&
    results.some((m) => m.verdict !== 'NODATA')
  ) {
    const primary = results.find((m) => m.name === settings.primary);
    verdict = primary?.verdict === 'IMPROVED' ? 'IMPROVED' : 'PASS';
    const judged = results.filter((m) => m.verdict !== 'NODATA').length;
    reasons.push(
      `All ${judged} judged metric${judged === 1 ? '' : 's'} pass: every interval lies above its -margin boundary${verdict === 'IMPROVED' ? `, and the primary metric ${settings.primary} improved` : ''}.`,
    );
    const noData = results.filter((m) => m.verdict === 'NODATA');
    if (noData.length)
      reasons.push(
        `No data for non-required metric${noData.length > 1 ? 's' : ''} ${noData.map((m) => m.name).join(', ')} (NODATA, not blocking).`,
      );
  } else {
    verdict = 'INCONCLUSIVE';
    if (regressedOther.length)
      reasons.push(
        `${regressedOther.length} non-critical metric${regressedOther.length > 1 ? 's' : ''} regressed (${regressedOther.map((m) => m.name).join(', ')}), fewer than the ${need} needed to fail the scenario, so it cannot pass either.`,
      );
    if (!results.some((m) => m.verdict !== 'NODATA')) reasons.push('No metric had any data.');
  }
  const statistical = verdict;
  if (gates.length && failuresRegressed) {
    // the failures are the finding: a gate about the data's quality does not hide them
    for (const g of gates) reasons.push(g.sentence);
  } else if (gates.length && verdict !== 'ERROR') {
    for (const g of gates) reasons.push(g.sentence);
    if (verdict !== 'INCONCLUSIVE')
      reasons.push(`The statistics alone say ${statistical}, but a data-quality gate fired: INCONCLUSIVE (hold).`);
    verdict = 'INCONCLUSIVE';
  } else if (gates.length) {
    for (const g of gates) reasons.push(g.sentence);
  }

  // extra pairs: for every metric that blocks a decision, and for a primary that must still improve
  let more: number | null = null;
  const bump = (v: number | null) => {
    if (v !== null) more = more === null ? v : Math.max(more, v);
  };
  if (verdict === 'INCONCLUSIVE' || (verdict === 'PASS' && settings.expectImprovement)) {
    sa.metrics.forEach((a, i) => {
      const r = results[i]!;
      let need: number | null = null;
      if (r.verdict === 'INCONCLUSIVE' && a.threshold !== null && Number.isFinite(a.threshold))
        need = morePairsFor(a, a.threshold, input.ciAlpha);
      else if (r.verdict === 'PASS' && settings.expectImprovement && r.name === settings.primary && a.effect !== null && a.effect > 0)
        need = morePairsFor(a, 0, input.ciAlpha);
      else return;
      r.morePairs = need;
      bump(need);
    });
    if (input.trials.completePairs < settings.minPairs) bump(settings.minPairs - input.trials.completePairs);
  }
  const out: ScenarioResult = {
    id: input.id,
    name: input.name,
    params: input.params,
    verdict,
    pairs: input.trials.completePairs,
    metrics: results,
    reasons,
  };
  if (verdict === 'INCONCLUSIVE' || (verdict === 'PASS' && settings.expectImprovement)) out.morePairs = more;
  if (gates.length) out.gates = gates.map((g) => g.key);
  if (o.look !== undefined) out.look = o.look;
  out.failures = failures;
  return out;
}

/**
 * Every value the judge does not analyse, named: per metric and arm with the reason, plus
 * replaced attempts and warm-up records. null when nothing was dropped.
 */
export function droppedSentence(sa: ScenarioAnalysis): string | null {
  const parts: string[] = [];
  for (const m of sa.metrics) {
    const arms: string[] = [];
    for (const a of ['control', 'canary'] as const) {
      const d = m.data[a];
      if (d.dropped) arms.push(`${a} ${d.dropped} (${whyList(d.why).join(', ')})`);
    }
    if (arms.length) parts.push(`${m.spec.name}: ${arms.join(', ')}`);
  }
  const t = sa.input.trials;
  const other: string[] = [];
  if (t.superseded) other.push(`${t.superseded} record${t.superseded === 1 ? '' : 's'} replaced by a later attempt`);
  if (t.warmup) other.push(`${t.warmup} warm-up record${t.warmup === 1 ? '' : 's'} (not judged by design)`);
  if (!parts.length && !other.length) return null;
  return `Dropped values${parts.length ? `: ${parts.join('; ')}` : ''}${other.length ? `${parts.length ? '. Also ignored' : ': none; ignored'} ${other.join(', ')}` : ''}.`;
}
