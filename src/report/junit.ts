/**
 * junit.xml: one <testsuite> per scenario, one <testcase> per metric.
 *   REGRESSED -> <failure>, INCONCLUSIVE / NODATA -> <skipped>, ERROR -> <error>, IMPROVED / PASS -> passed.
 * A scenario judged ERROR without metric results gets one "(scenario)" testcase carrying the error,
 * so it cannot vanish from a CI dashboard.
 */
import type { MetricResult, RunManifest, ScenarioResult, TrialRecord, Verdict } from '../results/types.js';
import { fidelityLine } from './failures.js';
import { decisionSentence, effectView, escXml, fmtEffect, fmtInterval, fmtMargin, fmtNum, paramsText } from './format.js';

export interface JunitOptions {
  /** used for classnames (scenario hash) and testsuite timing, when available */
  manifest?: RunManifest;
  trials?: TrialRecord[];
  /** per scenario id: the schedule phases its telemetry flagged (schedule-view.ts scheduleFidelityNotes) */
  scheduleNotes?: Map<string, string>;
}

const attr = (v: unknown) => escXml(v).replace(/\r?\n|\r|\t/g, (c) => (c === '\t' ? '&#9;' : '&#10;'));

function metricMessage(m: MetricResult, sc: RunManifest['scenarios'][number] | undefined): string {
  const e = effectView(m, sc);
  const parts = [`${m.name} ${m.verdict}`];
  if (e.est !== null) parts.push(`effect ${fmtEffect(e)}${fmtInterval(e) ? ` ${fmtInterval(e)}` : ''}`);
  if (e.margin !== null) parts.push(`margin ${fmtMargin(e)}`);
  if (m.pAdjusted !== null && m.pAdjusted !== undefined) parts.push(`p adj ${fmtNum(m.pAdjusted)}`);
  if (m.pMarginAdjusted !== null && m.pMarginAdjusted !== undefined) parts.push(`p(beyond -margin) adj ${fmtNum(m.pMarginAdjusted)}`);
  if (m.note) parts.push(m.note);
  return parts.join(', ');
}

function metricDetails(m: MetricResult): string {
  return [
    `metric: ${m.name} (${m.unit}, ${m.direction} is better${m.critical ? ', critical' : ''})`,
    `control: n=${m.control?.n ?? 0} median=${fmtNum(m.control?.median)}${m.control?.dropped ? ` dropped=${m.control.dropped}` : ''}`,
    `canary:  n=${m.canary?.n ?? 0} median=${fmtNum(m.canary?.median)}${m.canary?.dropped ? ` dropped=${m.canary.dropped}` : ''}`,
    `method: ${m.method ?? '-'}, p=${fmtNum(m.p)}, p adj=${fmtNum(m.pAdjusted)}, Cliff's delta=${fmtNum(m.cliffsDelta)}`,
  ].join('\n');
}

// Long by design: the JUnit document written out element by element.
export function renderJunit(verdict: Verdict, opts: JunitOptions = {}): string {
  const man = new Map((opts.manifest?.scenarios ?? []).map((s) => [s.id, s]));
  const seconds = new Map<string, number>();
  for (const t of opts.trials ?? []) seconds.set(t.scenario, (seconds.get(t.scenario) ?? 0) + (Number(t.durationMs) || 0) / 1000);

  let tests = 0,
    failures = 0,
    errors = 0,
    skipped = 0,
    totalTime = 0;
  const suites: string[] = [];
  verdict.scenarios.forEach((s: ScenarioResult) => {
    const sc = man.get(s.id);
    const p = paramsText(s.params);
    const suiteName = p && !s.name.includes(p) ? `${s.name} [${p}]` : s.name;
    const classname = `netab.${s.id}`;
    const cases: string[] = [];
    let sf = 0,
      se = 0,
      ss = 0;
    const metrics = s.metrics ?? [];
    for (const m of metrics) {
      const msg = metricMessage(m, sc);
      let body = '';
      if (m.verdict === 'REGRESSED') {
        sf++;
        body = `<failure message="${attr(msg)}" type="REGRESSED">${escXml(metricDetails(m))}</failure>`;
      } else if (m.verdict === 'ERROR') {
        se++;
        body = `<error message="${attr(msg)}" type="ERROR">${escXml(metricDetails(m))}</error>`;
      } else if (m.verdict === 'INCONCLUSIVE' || m.verdict === 'NODATA') {
        ss++;
        const why = m.verdict === 'NODATA' ? `${m.name}: no data${m.note ? ` (${m.note})` : ''}` : msg;
        body = `<skipped message="${attr(why)}"/>`;
      } else {
        body = `<system-out>${escXml(msg)}</system-out>`;
      }
      cases.push(`    <testcase name="${attr(m.name)}" classname="${attr(classname)}" time="0">${body}</testcase>`);
    }
    if (!metrics.length || (s.verdict === 'ERROR' && !metrics.some((m) => m.verdict === 'ERROR'))) {
      const why = (s.reasons ?? []).join('; ') || `scenario verdict ${s.verdict}`;
      if (s.verdict === 'ERROR') {
        se++;
        cases.push(
          `    <testcase name="(scenario)" classname="${attr(classname)}" time="0"><error message="${attr(why)}" type="ERROR"/></testcase>`,
        );
      } else if (s.verdict === 'REGRESSED') {
        sf++;
        cases.push(
          `    <testcase name="(scenario)" classname="${attr(classname)}" time="0"><failure message="${attr(why)}" type="REGRESSED"/></testcase>`,
        );
      } else if (s.verdict === 'INCONCLUSIVE') {
        ss++;
        cases.push(`    <testcase name="(scenario)" classname="${attr(classname)}" time="0"><skipped message="${attr(why)}"/></testcase>`);
      } else {
        cases.push(`    <testcase name="(scenario)" classname="${attr(classname)}" time="0"/>`);
      }
    }
    const time = seconds.get(s.id) ?? 0;
    tests += cases.length;
    failures += sf;
    errors += se;
    skipped += ss;
    totalTime += time;
    const props = [
      ['verdict', s.verdict],
      ['scenario.id', s.id],
      ['pairs', String(s.pairs ?? 0)],
      ...(sc?.hash ? [['scenario.hash', sc.hash]] : []),
      ...Object.entries(s.params ?? {}).map(([k, v]) => [`param.${k}`, String(v)]),
      ...(s.reasons ?? []).map((r, i) => [`reason.${i + 1}`, r]),
    ];
    const fid = fidelityLine(sc?.fidelity);
    if (fid) props.push(['fidelity', fid]);
    const sched = opts.scheduleNotes?.get(s.id);
    if (sched) props.push(['schedule', sched]);
    suites.push(
      `  <testsuite name="${attr(suiteName)}" tests="${cases.length}" failures="${sf}" errors="${se}" skipped="${ss}" time="${time.toFixed(3)}"${
        verdict.judgedAt
          ? ` timestamp="${attr(
              String(verdict.judgedAt)
                .replace(/\.\d+/, '')
                .replace(/(Z|[+-]\d\d:?\d\d)$/, ''),
            )}"`
          : ''
      }>\n` +
        `    <properties>\n${props.map(([k, v]) => `      <property name="${attr(k)}" value="${attr(v)}"/>`).join('\n')}\n    </properties>\n` +
        cases.join('\n') +
        `\n  </testsuite>`,
    );
  });
  const name = `netab ${verdict.runId ?? ''}: ${decisionSentence(verdict.decision, verdict.reasons)}`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="${attr(name)}" tests="${tests}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${totalTime.toFixed(3)}">\n` +
    suites.join('\n') +
    `\n</testsuites>\n`
  );
}
