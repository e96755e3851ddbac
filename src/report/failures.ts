/**
 * What the judge and the runner add beyond the metrics, as sentences for report.html and summary.md:
 * the failure test (verdict `failures`), the multiplicity scheme (verdict `multiplicity`) and the
 * suspect pairs re-run at the end of the schedule (manifest `replacements`). Text stays raw; each
 * renderer escapes it.
 */
import type { ArmFailures, FailureResult, ManifestScenario, Verdict } from '../results/types.js';
import { fmtNum } from './format.js';

/** "3 of 10 trials (2 failed, 1 moved no data)"; the split only when some trial moved no data. */
function armText(a: ArmFailures, unit: string): string {
  const parts = [a.failed ? `${a.failed} failed` : '', a.noData ? `${a.noData} moved no data` : ''].filter(Boolean);
  return `${a.failed + a.noData} of ${a.trials}${unit}${a.noData ? ` (${parts.join(', ')})` : ''}`;
}

/**
 * "canary failed 3 of 10 trials, control 0 of 10 (one-sided Fisher p 0.105, not in the multiplicity
 * family): not significant". Null when the verdict has no failure test, or neither arm lost a trial
 * and the test is not significant (nothing to say).
 */
export function failureLine(f: FailureResult | undefined): { text: string; regressed: boolean } | null {
  if (!f) return null;
  const lost = f.control.failed + f.control.noData + f.canary.failed + f.canary.noData;
  if (!lost && f.verdict === 'NOT_SIGNIFICANT') return null;
  const test =
    f.p === null
      ? 'no test: an arm has no measured trial'
      : `one-sided Fisher p ${fmtNum(f.p)}, ${f.pAdjusted === null ? 'not in the multiplicity family' : `adjusted ${fmtNum(f.pAdjusted)}`}`;
  const outcome = f.verdict === 'REGRESSED' ? 'regressed' : f.verdict === 'NODATA' ? 'no data' : 'not significant';
  return {
    text: `canary failed ${armText(f.canary, ' trials')}, control ${armText(f.control, '')} (${test}): ${outcome}`,
    regressed: f.verdict === 'REGRESSED',
  };
}

/** Re-run suspect pairs listed in a line: at most this many by name. */
const MAX_PAIRS = 10;

/** "2 suspect pairs re-run (budget 4): pair 4 (lateness 31 ms), pair 9 (…)"; null when nothing was re-run or left. */
export function replacementLine(r: ManifestScenario['replacements']): string | null {
  if (!r || (r.used === 0 && r.unreplaced === 0 && r.pairs.length === 0)) return null;
  const named = r.pairs.slice(0, MAX_PAIRS).map((p) => `pair ${p.pair} (${p.reason}${p.round > 1 ? `, round ${p.round}` : ''})`);
  if (r.pairs.length > MAX_PAIRS) named.push(`${r.pairs.length - MAX_PAIRS} more`);
  const head = `${r.used} suspect pair${r.used === 1 ? '' : 's'} re-run (budget ${r.budget})`;
  const left = r.unreplaced ? `; ${r.unreplaced} suspect pair${r.unreplaced === 1 ? '' : 's'} left as they were (budget spent)` : '';
  return `${head}${named.length ? `: ${named.join(', ')}` : ''}${left}`;
}

/** "rollback tests adjusted by gatekeeping: 12 tests in 3 scenarios, critical family first (share 0.667)". */
export function multiplicityLine(m: Verdict['multiplicity']): string | null {
  if (!m) return null;
  return `rollback tests adjusted by ${m.scheme}: ${m.tests} test${m.tests === 1 ? '' : 's'} in ${m.scenarios} scenario${m.scenarios === 1 ? '' : 's'}, critical family first (share ${fmtNum(m.criticalShare)})`;
}

/** Path-fidelity checks named in a line: at most this many. */
const MAX_CHECKS = 5;

/**
 * "path fidelity out of tolerance: rtt_p50 configured 40 ms, measured 41.077 (±0.5 ms); …" from the
 * manifest's fidelity probe (pre-trial); null when it passed, was not run, or is not the probe's
 * shape (the manifest is data: every field is checked before use).
 */
export function fidelityLine(fidelity: unknown): string | null {
  if (typeof fidelity !== 'object' || fidelity === null || !Array.isArray((fidelity as { checks?: unknown }).checks)) return null;
  const bad = ((fidelity as { checks: unknown[] }).checks as Record<string, unknown>[]).filter(
    (c) => typeof c === 'object' && c !== null && c.ok === false,
  );
  if (!bad.length) return null;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? fmtNum(v) : 'none');
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const items = bad
    .slice(0, MAX_CHECKS)
    .map(
      (c) =>
        `${str(c.metric) || '?'} configured ${num(c.configured)}${str(c.unit) ? ` ${str(c.unit)}` : ''}, measured ${num(c.measured)}` +
        (str(c.tolerance) ? ` (${str(c.tolerance)})` : ''),
    );
  const more = bad.length > MAX_CHECKS ? `; ${bad.length - MAX_CHECKS} more` : '';
  return `path fidelity out of tolerance before the trials: ${items.join('; ')}${more}`;
}
