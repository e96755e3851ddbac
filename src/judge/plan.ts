/**
 * Multiplicity, reachability and option checks of the judge (pure).
 *
 * Multiplicity (docs/judge.md, "Multiplicity"): a sequentially rejective weighted Bonferroni
 * procedure (graphical gatekeeping, Bretz et al. 2009) over every rollback test of the run. The
 * scenarios share α equally (Holm across scenarios: a scenario whose tests are all rejected passes
 * its share on). Inside a scenario the critical family (the failure test and the critical metrics)
 * is tested first with CRITICAL_SHARE of the scenario's share, the non-critical metrics get the
 * rest; a family whose tests are all rejected passes its share to the other one. When the
 * non-critical metrics cannot make the scenario REGRESSED on their own (no non-critical test, or
 * fewer than nonCriticalRegressionsToFail of them, or that rule is off) the critical family gets
 * the scenario's whole share: a fixed sequence, critical first at full α. Inside a family the
 * share is split equally (Holm). The weights only grow as tests are rejected, so the procedure is
 * a closed test and controls the familywise error rate, hence the false-rollback rate, at α.
 */
import { consecutiveBonferroni, lookAlpha, signedRankInterval, signedRankTest } from '../stats/index.js';
import { InputError } from '../errors.js';
import type { JudgeSettings, MetricSpec } from '../results/types.js';

/** Share of a scenario's α spent on its critical family first, when non-critical metrics can also roll back. */
export const CRITICAL_SHARE = 2 / 3;

/** One rollback test of the run: its scenario (index), family and one-sided p (null: not tested). */
export interface FamilyTest {
  scenario: number;
  critical: boolean;
  p: number | null;
}

/** The critical family's share of a scenario: 1 when its non-critical tests cannot roll back on their own. */
export function criticalShare(settings: Pick<JudgeSettings, 'nonCriticalRegressionsToFail'>, nonCriticalTests: number): number {
  const k = settings.nonCriticalRegressionsToFail;
  return k > 0 && nonCriticalTests >= k ? CRITICAL_SHARE : 1;
}

/**
 * Adjusted p-values of the gatekeeping procedure. `shares[s]` is scenario s's critical share
 * (criticalShare), `budget` the fraction of α this family may spend (1, or less when part of the
 * run is judged elsewhere, e.g. sequential scenarios).
 */
export function gatekeeping(tests: readonly FamilyTest[], shares: readonly number[], budget = 1): Array<number | null> {
  const weights = (open: ReadonlyArray<boolean>): number[] => {
    const w = tests.map(() => 0);
    const byScenario = new Map<number, { c: number[]; o: number[] }>();
    tests.forEach((t, i) => {
      if (!open[i]) return;
      const g = byScenario.get(t.scenario) ?? { c: [], o: [] };
      (t.critical ? g.c : g.o).push(i);
      byScenario.set(t.scenario, g);
    });
    const S = byScenario.size;
    for (const [s, g] of byScenario) {
      const share = shares[s] ?? 1;
      const c = g.o.length ? share : 1;
      const o = g.c.length ? 1 - share : 1;
      for (const i of g.c) w[i] = (budget * c) / g.c.length / S;
      for (const i of g.o) w[i] = (budget * o) / g.o.length / S;
    }
    return w;
  };
  return consecutiveBonferroni(
    tests.map((t) => t.p),
    weights,
  );
}

// ---------------------------------------------------------------------------------------------
// reachability

/** Smallest one-sided p-value a signed-rank test on n pairs can give (2⁻ⁿ below 50 pairs, normal beyond). */
export function smallestPairedP(n: number): number {
  if (n < 1) return 1;
  return signedRankTest(
    Array.from({ length: n }, (_, i) => -(i + 1)),
    { alternative: 'less' },
  ).p;
}

/** Whether n pairs can give a bounded two-sided (1 - 2α) interval (needed for PASS / IMPROVED). */
export function boundedInterval(n: number, alpha: number): boolean {
  if (n < 1) return false;
  const ci = signedRankInterval(
    Array.from({ length: n }, (_, i) => i + 1),
    1 - 2 * alpha,
  );
  return Number.isFinite(ci.lower) && Number.isFinite(ci.upper);
}

export interface Reachability {
  /** Planned measured pairs. */
  pairs: number;
  alpha: number;
  /** Smallest one-sided p-value one metric test can reach with the planned pairs (exact signed-rank: 2⁻ⁿ). */
  smallestP: number;
  /** Level the most favoured rollback test must reach at the first step (α times its weight). */
  rollbackLevel: number;
  promoteReachable: boolean;
  rollbackReachable: boolean;
  /** Fewest planned pairs that make each decision reachable (null: not within 10000 pairs). */
  minPairs: { promote: number | null; rollback: number | null };
  /** One sentence per unreachable decision, with the fix. Empty when every decision is reachable. */
  problems: string[];
}

const MAX_PAIRS = 10000;

interface Plan {
  /** (pairs at the look, one-sided level of the look) for each look; one entry for fixed n. */
  looks: Array<{ pairs: number; alpha: number }>;
}

function planFor(settings: JudgeSettings, pairs: number, alpha: number): Plan {
  if (settings.sequential && settings.sequentialPlan) {
    const K = Math.max(1, Math.floor(settings.sequentialPlan.looks));
    const b = Math.max(1, Math.ceil(pairs / K));
    return { looks: Array.from({ length: K }, (_, i) => ({ pairs: Math.min(pairs, (i + 1) * b), alpha: lookAlpha(alpha, i + 1, K) })) };
  }
  return { looks: [{ pairs, alpha }] };
}

/**
 * Can a run with `pairs` measured pairs reach PROMOTE and ROLLBACK? Best case for each: no failed
 * trials, no ties (exact signed-rank p = 2⁻ⁿ), every pair on the same side. ROLLBACK needs one
 * critical metric (or, without critical metrics, non-critical ones) to reach its first-step level
 * α·weight under the gatekeeping scheme with `scenarios` scenarios in the run; PROMOTE needs a
 * bounded (1 - 2α) interval for every metric (no multiplicity: intersection-union). Both need at
 * least minPairs pairs. Sequential runs are checked look by look at the looks' levels.
 *
 * Pure: the CLI calls it in `validate` and before `run`, for each scenario with its planned pairs.
 */
export function reachability(settings: JudgeSettings, pairs: number, opts: { scenarios?: number } = {}): Reachability {
  const S = Math.max(1, Math.floor(opts.scenarios ?? 1));
  const alpha = settings.alpha;
  const critical = settings.metrics.filter((m) => m.critical).length;
  const other = settings.metrics.length - critical;
  const share = criticalShare(settings, other);
  // weight of the most favoured rollback test at the first step
  const weight = critical > 0 ? share / critical / S : 1 / Math.max(1, other) / S;
  const rollbackAt = (n: number): boolean =>
    n >= settings.minPairs && planFor(settings, n, alpha).looks.some((l) => smallestPairedP(l.pairs) <= l.alpha * weight);
  const promoteAt = (n: number): boolean =>
    n >= settings.minPairs && planFor(settings, n, alpha).looks.some((l) => boundedInterval(l.pairs, l.alpha));
  const search = (ok: (n: number) => boolean): number | null => {
    for (let n = 1; n <= MAX_PAIRS; n++) if (ok(n)) return n;
    return null;
  };
  const rollbackReachable = settings.metrics.length > 0 && rollbackAt(pairs);
  const promoteReachable = settings.metrics.length > 0 && promoteAt(pairs);
  const minPairs = {
    promote: settings.metrics.length ? search(promoteAt) : null,
    rollback: settings.metrics.length ? search(rollbackAt) : null,
  };
  const smallestP = smallestPairedP(pairs);
  const level = alpha * weight;
  const problems: string[] = [];
  const metricsText = `${settings.metrics.length} judged metric${settings.metrics.length === 1 ? '' : 's'}${S > 1 ? ` in a run of ${S} scenarios` : ''}`;
  const fix = (n: number | null) => (n === null ? 'no number of pairs up to 10000 reaches it' : `use at least ${n} pairs`);
  if (settings.metrics.length === 0) problems.push('no judged metrics: no decision other than HOLD is reachable');
  else {
    if (!rollbackReachable) {
      const why =
        pairs < settings.minPairs
          ? `fewer pairs than judge.min_pairs (${settings.minPairs})`
          : `the smallest one-sided p is ${pText(smallestP)}, above the level ${Number(level.toPrecision(3))} a ${critical > 0 ? 'critical' : 'non-critical'} metric must reach (alpha ${alpha} × weight ${Number(weight.toPrecision(3))})`;
      problems.push(`with ${pairs} pairs and ${metricsText} ROLLBACK is unreachable: ${why}; ${fix(minPairs.rollback)}`);
    }
    if (!promoteReachable) {
      const why =
        pairs < settings.minPairs
          ? `fewer pairs than judge.min_pairs (${settings.minPairs})`
          : `${pairs} pairs cannot give a bounded ${Number(((1 - 2 * alpha) * 100).toPrecision(4))} % interval`;
      problems.push(`with ${pairs} pairs PROMOTE is unreachable: ${why}; ${fix(minPairs.promote)}`);
    }
  }
  return { pairs, alpha, smallestP, rollbackLevel: level, promoteReachable, rollbackReachable, minPairs, problems };
}

function pText(p: number): string {
  const k = Math.round(-Math.log2(p));
  return Math.abs(2 ** -k - p) < 1e-15 * p ? `1/${2 ** k} = ${Number(p.toPrecision(3))}` : Number(p.toPrecision(3)).toString();
}

// ---------------------------------------------------------------------------------------------
// margins and alpha

/** Problem with a margin, or null: relative margins in (0, 1) (0 % … 100 % exclusive), absolute ones finite and > 0. */
export function checkMargin(m: MetricSpec['margin'] | undefined | null): string | null {
  if (!m || typeof m !== 'object' || (m.kind !== 'relative' && m.kind !== 'absolute'))
    return 'a margin must be relative (like "2%") or absolute (a number)';
  const v = m.value;
  if (typeof v !== 'number' || !Number.isFinite(v)) return `margin ${String(v)} is not a finite number`;
  if (m.kind === 'relative' && !(v > 0 && v < 1))
    return `a relative margin must be above 0 % and below 100 % (got ${Number((v * 100).toPrecision(6))} %)`;
  if (m.kind === 'absolute' && !(v > 0)) return `an absolute margin must be above 0 (got ${v})`;
  return null;
}

/** Problem with alpha, or null: alpha must be a finite number in (0, 0.5). */
export function checkAlpha(a: unknown): string | null {
  return typeof a === 'number' && a > 0 && a < 0.5 ? null : `alpha must be above 0 and below 0.5 (got ${String(a)})`;
}

/**
 * `--margin` text → margin: "2%" (relative, above 0 % and below 100 %) or a number above 0
 * (absolute, in the metric's unit). Throws InputError (exit 2) otherwise, e.g. for "100%" or "foo".
 */
export function parseMarginOption(text: string, flag = '--margin'): MetricSpec['margin'] {
  const t = String(text).trim();
  const rel = /^(\d{1,20}(\.\d{0,20})?|\.\d{1,20})\s*%$/.exec(t);
  let m: MetricSpec['margin'] | null = null;
  if (rel) m = { kind: 'relative', value: Number(rel[1]) / 100 };
  else if (/^(\d{1,20}(\.\d{0,20})?|\.\d{1,20})(e[-+]?\d{1,3})?$/i.test(t)) m = { kind: 'absolute', value: Number(t) };
  if (!m) throw new InputError(`${flag} must be a share like "2%" (relative) or a number above 0 like 0.005 (absolute), got "${text}"`);
  const bad = checkMargin(m);
  if (bad) throw new InputError(`${flag} ${text}: ${bad}`);
  return m;
}

/** `--alpha` text → alpha in (0, 0.5); throws InputError (exit 2) otherwise. */
export function parseAlphaOption(text: string, flag = '--alpha'): number {
  const t = String(text).trim();
  const a = /^(\d{1,20}(\.\d{0,20})?|\.\d{1,20})(e[-+]?\d{1,3})?$/i.test(t) ? Number(t) : NaN;
  const bad = checkAlpha(a);
  if (bad) throw new InputError(`${flag} must be a number above 0 and below 0.5, e.g. 0.05 (got "${text}")`);
  return a;
}
