/**
 * The judge: from a run's manifest and trial records to a Verdict (pure; see docs/judge.md).
 */
import { lookAlpha } from '../stats/index.js';
import { InputError } from '../errors.js';
import type {
  Decision,
  JudgeSettings,
  ManifestScenario,
  MetricSpec,
  RunManifest,
  ScenarioResult,
  TrialRecord,
  Verdict,
} from '../results/types.js';
import { confText, pct, pval, units } from './format.js';
import { collectTrials, groupByScenario, type ScenarioTrials, truncatePairs } from './prepare.js';
import { analyzeScenario, failureCounts, finishScenario, type ScenarioAnalysis, type ScenarioInput } from './scenario.js';
import { checkAlpha, checkMargin, criticalShare, type FamilyTest, gatekeeping } from './plan.js';

export interface JudgeOverrides {
  /** Replaces every scenario's alpha. */
  alpha?: number;
  /** Replaces every metric's margin (e.g. from `netab judge --margin 3%`). */
  margin?: MetricSpec['margin'];
  /** Per-metric margins, by metric name; win over `margin`. */
  margins?: Record<string, MetricSpec['margin']>;
  minPairs?: number;
  excludeSuspect?: boolean;
  /** false: judge a sequential run as fixed-n (ignores the look schedule). */
  sequential?: boolean;
  /** judgedAt timestamp (default: now), for reproducible output. */
  now?: string;
  /** netabVersion written into the verdict (default: the manifest's). */
  netabVersion?: string;
  /** 'holm': plain Holm across every rollback test instead of gatekeeping (calibration comparisons only). */
  multiplicity?: 'gatekeeping' | 'holm';
}

/**
 * Scenario settings with the overrides applied, validated: alpha in (0, 0.5), relative margins in
 * (0, 1), absolute margins finite and > 0. Throws InputError (exit 2) naming the offending value
 * (an override from the command line, or a setting recorded in the manifest).
 */
export function resolveSettings(base: JudgeSettings, o: JudgeOverrides = {}, where = 'judge'): JudgeSettings {
  const problems: string[] = [];
  if (o.alpha !== undefined && checkAlpha(o.alpha)) problems.push(`--alpha: ${checkAlpha(o.alpha)}`);
  if (o.margin !== undefined && checkMargin(o.margin)) problems.push(`--margin: ${checkMargin(o.margin)}`);
  for (const [name, m] of Object.entries(o.margins ?? {})) if (checkMargin(m)) problems.push(`margin of ${name}: ${checkMargin(m)}`);
  if (problems.length) throw new InputError(problems.join('; '));
  const s: JudgeSettings = { ...base, metrics: base.metrics.map((m) => ({ ...m, margin: { ...m.margin } })) };
  if (o.alpha !== undefined) s.alpha = o.alpha;
  if (o.minPairs !== undefined) s.minPairs = o.minPairs;
  if (o.excludeSuspect !== undefined) s.excludeSuspect = o.excludeSuspect;
  if (o.sequential !== undefined) s.sequential = o.sequential;
  for (const m of s.metrics) {
    if (o.margin) m.margin = { ...o.margin };
    const per = o.margins?.[m.name];
    if (per) m.margin = { ...per };
  }
  if (checkAlpha(s.alpha)) problems.push(`${where}: ${checkAlpha(s.alpha)}`);
  const d = s.driftAlpha as unknown;
  if (d !== undefined && !(typeof d === 'number' && d >= 0 && d < 0.5))
    problems.push(`${where}: driftAlpha must be at least 0 and below 0.5 (got ${String(d)})`);
  for (const m of s.metrics) if (checkMargin(m.margin)) problems.push(`${where}: metric ${m.name}: ${checkMargin(m.margin)}`);
  if (problems.length) throw new InputError(`${problems.join('; ')}; re-judge with --alpha / --margin to override`);
  return s;
}

/** Stand-in for a manifest scenario without judge settings (it then judges as ERROR: no metrics, no trials). */
const MISSING_SETTINGS: JudgeSettings = {
  alpha: 0.05,
  minPairs: 5,
  primary: '',
  expectImprovement: false,
  nonCriticalRegressionsToFail: 2,
  maxFailedFraction: 0.2,
  excludeSuspect: true,
  sequential: false,
  metrics: [],
};

interface ScenarioMeta {
  id: string;
  name: string;
  params: Record<string, string | number | boolean>;
  error?: string;
}

/** Scenario-level decision: rollback / promote / hold, from one scenario's verdict. */
export function scenarioDecision(r: ScenarioResult, settings: JudgeSettings): Decision {
  if (r.verdict === 'REGRESSED') return 'rollback';
  if (r.verdict === 'IMPROVED') return 'promote';
  if (r.verdict === 'PASS') {
    if (!settings.expectImprovement) return 'promote';
    const p = r.metrics.find((m) => m.name === settings.primary);
    // primary not measured in this scenario: nothing to require here
    return !p || p.verdict === 'NODATA' ? 'promote' : 'hold';
  }
  return 'hold';
}

export interface LookResult {
  result: ScenarioResult;
  decision: Decision;
  stop: boolean;
  alphaLook: number;
}

/**
 * One sequential look at a scenario: interval level 1 - 2α_k and REGRESSED threshold α_k, where
 * α_k is the HSD(γ = -4) alpha-spending increment of look k of K (Bonferroni split, so the levels
 * over all looks sum to α). The scenario's tests are adjusted with the gatekeeping scheme (plan.ts)
 * within a Bonferroni share 1/S of α (the runner looks at one scenario at a time).
 */
export function evaluateLook(
  meta: ScenarioMeta,
  settings: JudgeSettings,
  trials: ScenarioTrials,
  index: number,
  planned: number,
  scenarios: number,
): LookResult {
  const alphaLook = lookAlpha(settings.alpha, index, planned);
  const sa = analyzeScenario({ ...meta, settings, trials, ciAlpha: alphaLook });
  const adj = adjustRun([sa], alphaLook, 1 / Math.max(1, scenarios));
  const provisional = finishScenario(sa, { ...adj[0]!, testAlpha: alphaLook, driftFamily: sa.drift.length * Math.max(1, scenarios) });
  const decision = scenarioDecision(provisional, settings);
  const stop = decision !== 'hold' || index >= planned;
  provisional.look = { index, planned, alpha: alphaLook, stopped: stop };
  provisional.reasons.unshift(
    `Sequential look ${index} of ${planned} after ${trials.pairs.length} measured pairs: one-sided level ${Number(alphaLook.toPrecision(3))} (${confText(alphaLook)} intervals), ` +
      `${stop ? (decision === 'hold' ? 'last planned look' : `stop (${decision})`) : 'continue'}.`,
  );
  return { result: provisional, decision, stop, alphaLook };
}

/** Replays the planned looks of a sequential scenario over the stored records; returns the stopping look. */
function replaySequential(meta: ScenarioMeta, settings: JudgeSettings, trials: ScenarioTrials, scenarios: number): ScenarioResult {
  const plan = settings.sequentialPlan!;
  const K = Math.max(1, Math.floor(plan.looks));
  const b = Math.max(1, Math.floor(plan.pairsPerLook));
  const total = trials.pairs.length;
  const lastLook = Math.min(K, Math.max(1, Math.ceil(total / b)));
  for (let k = 1; k <= lastLook; k++) {
    const count = k === K ? total : Math.min(total, k * b);
    const look = evaluateLook(meta, settings, truncatePairs(trials, count, settings), k, K, scenarios);
    if (look.stop || k === lastLook) {
      if (count < total)
        look.result.reasons.push(`Sequential: stopped at look ${k}; the ${total - count} pairs recorded after it are not used.`);
      if (!look.stop)
        look.result.reasons.push(`Sequential: the data end at look ${k} of ${K} (${total} pairs); judged at that look's level.`);
      return look.result;
    }
  }
  throw new Error('unreachable');
}

/** Judge a whole run (pure apart from the default judgedAt timestamp). */
export function judgeRecords(manifest: RunManifest, records: TrialRecord[], overrides: JudgeOverrides = {}): Verdict {
  const scenarios = manifest.scenarios ?? [];
  const S = scenarios.length;
  const runReasons: string[] = [];
  const settingsList = scenarios.map((ms) => resolveSettings(ms.judge ?? MISSING_SETTINGS, overrides, `manifest scenario "${ms.id}"`));
  const alphas = [...new Set(settingsList.map((s) => s.alpha))];
  const runAlpha = overrides.alpha ?? (alphas.length ? Math.min(...alphas) : 0.05);
  if (alphas.length > 1)
    runReasons.push(`Scenarios use different alphas (${alphas.join(', ')}); the run-wide Holm adjustment uses the smallest, ${runAlpha}.`);
  const { byScenario, stray } = groupByScenario(
    records,
    scenarios.map((s) => s.id),
  );
  if (stray) runReasons.push(`${stray} trial record${stray === 1 ? '' : 's'} of scenarios not in the manifest ignored.`);

  const results: ScenarioResult[] = new Array(S);
  // fixed-n scenarios: analyse, then Holm across all their scenario × metric tests
  const fixed: Array<{ i: number; sa: ReturnType<typeof analyzeScenario> }> = [];
  scenarios.forEach((ms: ManifestScenario, i) => {
    const settings = settingsList[i]!;
    const trials = collectTrials(byScenario.get(ms.id) ?? [], ms.id, settings);
    const meta: ScenarioMeta = { id: ms.id, name: ms.name, params: ms.params ?? {}, ...(ms.error ? { error: ms.error } : {}) };
    if (settings.sequential && settings.sequentialPlan) {
      results[i] = replaySequential(meta, settings, trials, S);
      return;
    }
    const input: ScenarioInput = { ...meta, settings, trials, ciAlpha: settings.alpha };
    fixed.push({ i, sa: analyzeScenario(input) });
    if (settings.sequential)
      runReasons.push(
        `Scenario "${ms.id}" ran in sequential mode but no look schedule (judge.sequentialPlan) was recorded: judged as fixed-n, which only controls the error rate if the runner did not stop early.`,
      );
  });
  let multiplicity: Verdict['multiplicity'];
  if (fixed.length) {
    const scale = S / fixed.length; // Bonferroni share of the fixed-n family when the run also has sequential scenarios
    const adj = adjustRun(
      fixed.map((f) => f.sa),
      runAlpha,
      1 / scale,
      overrides.multiplicity === 'holm',
    );
    // drift family: every fixed scenario's drift tests, plus a Bonferroni share for sequential ones
    const driftFamily = Math.round(fixed.reduce((n, f) => n + f.sa.drift.length, 0) * scale);
    fixed.forEach((f, j) => {
      results[f.i] = finishScenario(f.sa, { ...adj[j]!, testAlpha: runAlpha, driftFamily });
    });
    const tests = adj.reduce((n, a) => n + a.tests, 0);
    const shares = [...new Set(adj.filter((a) => a.tests > 0).map((a) => a.share))];
    multiplicity = {
      scheme: 'gatekeeping',
      criticalShare: shares.length === 1 ? shares[0]! : Math.min(...shares, 1),
      tests,
      scenarios: fixed.length,
    };
    if (tests > 1)
      runReasons.push(
        `Multiplicity: ${tests} rollback tests in ${fixed.length} scenario${fixed.length === 1 ? '' : 's'} at alpha = ${runAlpha}, gatekeeping: ` +
          `the failure test and critical metrics first (${shares.map((x) => `${Number((x * 100).toPrecision(3))} %`).join(' / ')} of each scenario's share), the other metrics with the rest, Holm across scenarios.`,
      );
  }
  for (const r of results) {
    const d = r?.reasons.find((x) => x.startsWith('Dropped values'));
    if (d) runReasons.push(`Scenario "${r!.id}": ${d}`);
  }

  const { decision, reasons, morePairs } = decide(results, settingsList);
  const verdict: Verdict = {
    format: 'netab-verdict/1',
    runId: manifest.runId,
    decision,
    reasons: [...reasons, ...runReasons],
    alpha: runAlpha,
    morePairs,
    scenarios: results,
    judgedAt: overrides.now ?? new Date().toISOString(),
    netabVersion: overrides.netabVersion ?? manifest.netabVersion,
  };
  if (multiplicity) verdict.multiplicity = multiplicity;
  return verdict;
}

interface Adjusted {
  pAdjusted: Array<number | null>;
  pMarginAdjusted: Array<number | null>;
  pFailuresAdjusted: number | null;
  /** Critical share used for the scenario. */
  share: number;
  /** Rollback tests of the scenario in the family. */
  tests: number;
}

/**
 * Gatekeeping adjustment (plan.ts) over the rollback tests of several scenarios judged together:
 * per scenario the failure test (when it can reach alpha·budget with its counts: Tarone) and the
 * critical metrics form the critical family, the other metrics the second one. `budget` is the
 * share of alpha this group of scenarios may spend. The two-sided p-values are adjusted the same
 * way over the metrics only (they are reported, not used for decisions).
 */
function adjustRun(sas: readonly ScenarioAnalysis[], alpha: number, budget: number, plainHolm = false): Adjusted[] {
  const margin: FamilyTest[] = [];
  const two: FamilyTest[] = [];
  const shares: number[] = [];
  const failIndex: Array<number | null> = [];
  const metricStart: number[] = [];
  sas.forEach((sa, s) => {
    const f = sa.failures;
    const failIn = f.p !== null && f.pMin !== null && f.pMin <= alpha * budget;
    failIndex.push(failIn ? margin.length : null);
    if (failIn) margin.push({ scenario: s, critical: true, p: f.p });
    metricStart.push(margin.length);
    for (const m of sa.metrics) {
      margin.push({ scenario: s, critical: m.spec.critical, p: m.pMargin });
      two.push({ scenario: s, critical: m.spec.critical, p: m.p });
    }
    const nonCritical = sa.metrics.filter((m) => !m.spec.critical && m.pMargin !== null).length;
    shares.push(criticalShare(sa.input.settings, nonCritical));
  });
  // plain Holm (comparison only): every test its own "scenario", equal shares
  const flat = (t: FamilyTest[]) => (plainHolm ? t.map((x, i) => ({ ...x, scenario: i })) : t);
  const adjM = gatekeeping(flat(margin), plainHolm ? margin.map(() => 1) : shares, budget);
  const adjP = gatekeeping(flat(two), plainHolm ? two.map(() => 1) : shares, budget);
  let k = 0;
  return sas.map((sa, s) => {
    const n = sa.metrics.length;
    const start = metricStart[s]!;
    const fi = failIndex[s];
    const out: Adjusted = {
      pAdjusted: adjP.slice(k, k + n),
      pMarginAdjusted: adjM.slice(start, start + n),
      pFailuresAdjusted: fi === null || fi === undefined ? null : adjM[fi]!,
      share: shares[s]!,
      tests: margin.filter((t) => t.scenario === s && t.p !== null).length,
    };
    k += n;
    return out;
  });
}

function regressionSentence(s: ScenarioResult, m: ScenarioResult['metrics'][number], ciAlpha: number): string {
  const conf = confText(ciAlpha);
  const margin =
    m.margin.kind === 'relative' ? `-${Number((m.margin.value * 100).toPrecision(4))} %` : `-${m.margin.value} ${m.unit}`.trim();
  const eff =
    m.effectPct !== null && m.ciPct
      ? `${pct(m.effectPct)} (${conf} CI ${pct(m.ciPct[0])} to ${pct(m.ciPct[1])})`
      : m.effect !== null && m.ci
        ? `${units(m.effect, m.unit)} (${conf} CI ${units(m.ci[0], m.unit)} to ${units(m.ci[1], m.unit)})`
        : 'an unknown amount';
  return `Scenario "${s.id}": ${m.name} regressed by ${eff}, beyond the ${margin} margin (adjusted p = ${pval(m.pMarginAdjusted ?? 1)}).`;
}

/**
 * Rollout decision:
 *   ROLLBACK  any scenario REGRESSED (one sentence per regressed metric, and one for failures);
 *   PROMOTE   every scenario PASS or IMPROVED (an intersection-union test: each scenario must pass
 *             on its own, so no multiplicity adjustment) and, for scenarios with expectImprovement,
 *             the primary metric IMPROVED in every scenario where it is measured (and it must be
 *             measured in at least one);
 *   HOLD      otherwise, with morePairs = the largest per-scenario estimate.
 */
export function decide(
  results: ScenarioResult[],
  settingsList: JudgeSettings[],
): { decision: Decision; reasons: string[]; morePairs: number | null } {
  const reasons: string[] = [];
  if (results.length === 0) return { decision: 'hold', reasons: ['No scenarios to judge.'], morePairs: null };
  const regressed = results.filter((r) => r.verdict === 'REGRESSED');
  if (regressed.length) {
    for (const s of regressed) {
      const i = results.indexOf(s);
      const ciAlpha = s.look?.alpha ?? settingsList[i]!.alpha;
      const f = s.failures;
      if (f?.verdict === 'REGRESSED')
        reasons.push(
          `Scenario "${s.id}": ${failureCounts(f)} (one-sided Fisher exact p = ${pval(f.p ?? 1)}, adjusted p = ${pval(f.pAdjusted ?? 1)}).`,
        );
      for (const m of s.metrics.filter((x) => x.verdict === 'REGRESSED')) reasons.push(regressionSentence(s, m, ciAlpha));
    }
    reasons.unshift(
      `ROLLBACK: ${regressed.length} of ${results.length} scenario${results.length === 1 ? '' : 's'} regressed (${regressed.map((s) => `"${s.id}"`).join(', ')}).`,
    );
    return { decision: 'rollback', reasons, morePairs: null };
  }
  let more: number | null = null;
  const bump = (v: number | null | undefined) => {
    if (v !== null && v !== undefined) more = more === null ? v : Math.max(more, v);
  };
  const notPassing = results.filter((r) => r.verdict !== 'PASS' && r.verdict !== 'IMPROVED');
  // expectImprovement: the primary must improve wherever it is measured, and be measured somewhere
  const mustImprove: string[] = [];
  let measuredSomewhere = false;
  let anyExpect = false;
  results.forEach((r, i) => {
    const st = settingsList[i]!;
    if (!st.expectImprovement) return;
    anyExpect = true;
    const p = r.metrics.find((m) => m.name === st.primary);
    if (!p || p.verdict === 'NODATA') return;
    measuredSomewhere = true;
    if (p.verdict !== 'IMPROVED' && (r.verdict === 'PASS' || r.verdict === 'IMPROVED')) {
      const eff =
        p.effectPct !== null && p.ciPct
          ? `${pct(p.effectPct)} (${confText(r.look?.alpha ?? st.alpha)} CI ${pct(p.ciPct[0])} to ${pct(p.ciPct[1])})`
          : 'no bounded interval';
      mustImprove.push(
        `Scenario "${r.id}": the primary metric ${p.name} did not show the expected improvement: ${eff} does not lie entirely above 0.`,
      );
      bump(r.morePairs);
    }
  });
  if (notPassing.length === 0 && mustImprove.length === 0 && (!anyExpect || measuredSomewhere)) {
    reasons.push(
      `PROMOTE: all ${results.length} scenario${results.length === 1 ? '' : 's'} pass: every metric's interval lies above its -margin boundary (intersection-union test, no multiplicity adjustment needed).`,
    );
    if (anyExpect) reasons.push(`The primary metric improved in every scenario where it was measured.`);
    return { decision: 'promote', reasons, morePairs: null };
  }
  reasons.push(
    `HOLD: ${notPassing.length ? `${notPassing.length} of ${results.length} scenario${results.length === 1 ? '' : 's'} did not pass (${notPassing.map((r) => `"${r.id}" ${r.verdict}`).join(', ')})` : 'no scenario regressed'}` +
      `${mustImprove.length ? `${notPassing.length ? ', and ' : ', but '}the expected improvement was not shown` : ''}.`,
  );
  for (const r of notPassing) {
    // dropped values are named once per scenario at run level by judgeRecords
    for (const why of r.reasons)
      if (!why.startsWith('Sequential look') && !why.startsWith('All ') && !why.startsWith('Dropped values'))
        reasons.push(`Scenario "${r.id}": ${why}`);
    bump(r.morePairs);
  }
  reasons.push(...mustImprove);
  if (anyExpect && !measuredSomewhere)
    reasons.push('An improvement of the primary metric is expected but it was not measured in any scenario.');
  if (more !== null)
    reasons.push(
      `About ${more} more pair${more === 1 ? '' : 's'} per scenario would be needed to settle it (precision estimate from the observed spread and the distance to the boundary, 80 % power).`,
    );
  return { decision: 'hold', reasons, morePairs: more };
}
