/**
 * One scenario's section of report.html: verdict, metric table, charts (while the size budget lasts),
 * trial facts, environment. Pure: no I/O.
 */
import type { ManifestScenario, MetricResult, ScenarioResult, TrialRecord } from '../results/types.js';
import { finite, measuredGoodput, spread } from './arms.js';
import { failureLine, replacementLine } from './failures.js';
import { effectView, fmtEffect, fmtInterval, fmtMargin, fmtNum, fmtSigned, paramsText } from './format.js';
import { forestSvgs, metricCharts, seriesSvgs } from './scenario-charts.js';
import { fidelityView, judgeSettingsRows, type KvRow, metricHeader, MINUS, readbackTable, style } from './tables.js';
import type { DirTelemetry } from './schedule.js';
import { scheduleSection } from './schedule-view.js';
import { theoryFor } from './theory.js';
import { theoryBlock } from './theory/view.js';
import { type SeriesShape, seriesShape } from '../results/series.js';

export interface ScenarioOptions {
  maxPts: number;
  maxSeries: number;
  pointTitles: boolean;
  /** chart bytes spent so far across the report, its cap, and how many scenarios went without charts */
  budget: { used: number; max: number; omitted: number };
  sharedJudge: boolean;
  sharedReadback: boolean;
  /** kernel the endpoints ran on (the VM's with --vm), for the receive-window rule */
  kernel?: string | null;
  /** the schedule parts of the trials' telemetry (load.ts), by trial id */
  schedules?: Map<string, DirTelemetry[]>;
}

export function scenarioView(
  res: ScenarioResult | null,
  man: ManifestScenario | undefined,
  id: string,
  anchor: string,
  trials: TrialRecord[],
  o: ScenarioOptions,
) {
  const name = res?.name ?? man?.name ?? id;
  const params = res?.params ?? man?.params ?? {};
  const excludeSuspect = man?.judge?.excludeSuspect ?? true;
  const metrics = res?.metrics ?? [];
  const theory = theoryFor(man, o.kernel);
  const metricRows = metricTableRows(metrics, man);

  // charts only while the report's size budget lasts (scenarios come in order of interest)
  const drawCharts = o.budget.used < o.budget.max;
  if (!drawCharts) o.budget.omitted++;
  const forest = drawCharts ? forestSvgs(metrics, man, name) : [];
  const noValues: string[] = [];
  const charts = drawCharts ? metricCharts(metrics, trials, excludeSuspect, o, noValues) : [];
  const judgedTrials = trials.filter((t) => t.status === 'ok' && !t.warmup && !(t.suspect && excludeSuspect));
  const multi = new Map<SeriesShape, boolean>(); // trials share their series shapes
  const withSeries = judgedTrials.filter((t) => {
    const shape = seriesShape(t);
    if (!shape) return false;
    let ok = multi.get(shape);
    if (ok === undefined) multi.set(shape, (ok = [...shape.values()].some((n) => n > 1)));
    return ok;
  });
  const schedule = scheduleSection(man, trials, excludeSuspect, o.schedules, o.maxSeries, drawCharts);
  const series = drawCharts ? seriesSvgs(withSeries, theory, o.maxSeries, schedule?.overlay ?? null) : [];

  // theory vs measured goodput
  let theoryView: { rows: KvRow[]; svg: string; note: string } | null = null;
  if (theory) {
    const gp = measuredGoodput(metrics, trials, excludeSuspect, judgedTrials);
    theoryView = theoryBlock(theory, gp, drawCharts, metrics);
  }

  if (drawCharts)
    for (const c of [
      ...charts.flatMap((c) => [c.distSvg, c.orderSvg]),
      ...series,
      ...forest,
      theoryView?.svg ?? '',
      ...(schedule?.deliveredSvgs ?? []),
    ])
      o.budget.used += c.length;

  const failed = trials.filter((t) => t.status === 'failed');
  const failureTest = failureLine(res?.failures);

  return {
    anchor,
    id,
    name,
    showId: name !== id,
    params: Object.entries(params).map(([k, v]) => ({ key: k, value: String(v) })),
    paramsText: paramsText(params),
    verdict: style(res?.verdict ?? (man?.status === 'failed' ? 'ERROR' : undefined)),
    judged: !!res,
    pairs: res?.pairs ?? null,
    morePairs: res?.morePairs ?? null,
    reasons: res?.reasons ?? (man?.error ? [man.error] : res ? [] : ['the judge has no result for this scenario']),
    gates: res?.gates ?? [],
    look: res?.look
      ? `sequential look ${res.look.index} of ${res.look.planned} (one-sided α ${fmtNum(res.look.alpha)})${res.look.stopped ? ', stopped early' : ''}`
      : '',
    trialFacts: trialFacts(trials, failed, excludeSuspect),
    failures: spread(failed, 5).map((t) => `${t.trial}: ${t.reason ?? 'failed'}`),
    failureTest: failureTest && { text: failureTest.text, cls: failureTest.regressed ? 'v-regressed' : '' },
    replacements: replacementLine(man?.replacements),
    metricRows,
    hasMetrics: metricRows.length > 0,
    forestSvgs: forest,
    metricCharts: charts,
    noValueMetrics: noValues.join(', '),
    chartsOmitted: !drawCharts && (metrics.length > 0 || trials.length > 0),
    seriesSvgs: series,
    schedule,
    theory: theoryView,
    env: scenarioEnv(man, o),
  };
}

function trialFacts(trials: TrialRecord[], failed: TrialRecord[], excludeSuspect: boolean): string {
  const suspect = trials.filter((t) => t.status === 'ok' && t.suspect);
  return [
    `${trials.filter((t) => !t.warmup).length} trials`,
    `${trials.filter((t) => t.warmup).length} warm-up`,
    failed.length ? `${failed.length} failed` : '',
    suspect.length ? `${suspect.length} suspect${excludeSuspect ? ' (excluded)' : ''}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

/** The collapsed environment block of a scenario: engine, hash, fidelity, readback, judge settings. */
function scenarioEnv(man: ManifestScenario | undefined, o: ScenarioOptions) {
  return {
    engine: man?.engine ? `${man.engine.name}` : '–',
    engineReason: man?.engine?.reason ?? '',
    hash: man?.hash ?? '–',
    status: man?.status ?? '',
    error: man?.error ?? '',
    fidelity: fidelityView(man?.fidelity),
    readback: o.sharedReadback ? null : readbackTable(man?.readback),
    shared: o.sharedJudge || o.sharedReadback,
    judge: man?.judge && !o.sharedJudge ? judgeSettingsRows(man.judge) : ([] as KvRow[]),
  };
}

/** The metric table: medians per arm, raw change, effect with interval and margin, p-values, notes. */
function metricTableRows(metrics: MetricResult[], man: ManifestScenario | undefined) {
  return metrics.map((m) => {
    const e = effectView(m, man);
    const c = m.control?.median,
      k = m.canary?.median;
    const raw = finite(c) && finite(k) && c !== 0 ? ((k - c) / Math.abs(c)) * 100 : null;
    const dropped = [
      m.control?.dropped
        ? `control −${m.control.dropped}${m.control.droppedWhy?.length ? ` (${m.control.droppedWhy.join(', ')})` : ''}`
        : '',
      m.canary?.dropped ? `canary −${m.canary.dropped}${m.canary.droppedWhy?.length ? ` (${m.canary.droppedWhy.join(', ')})` : ''}` : '',
    ].filter(Boolean);
    return {
      ...metricHeader(m),
      label: m.label ?? '',
      control: `${fmtNum(c)}`,
      canary: `${fmtNum(k)}`,
      n: `${m.control?.n ?? 0} / ${m.canary?.n ?? 0}`,
      raw: raw === null ? '–' : `${fmtSigned(raw, 1, MINUS)} %`,
      effect: fmtEffect(e, MINUS),
      interval: fmtInterval(e, MINUS),
      margin: fmtMargin(e) || '–',
      p: m.p === null || m.p === undefined ? '–' : fmtNum(m.p),
      pAdj: m.pAdjusted === null || m.pAdjusted === undefined ? '–' : fmtNum(m.pAdjusted),
      cliff: m.cliffsDelta === null || m.cliffsDelta === undefined ? '–' : fmtSigned(m.cliffsDelta, 2, MINUS),
      method: m.method ?? '',
      verdict: style(m.verdict),
      note: [
        m.analysis ? `${m.analysis}${m.pairs !== undefined ? `, ${m.pairs} pairs` : ''}` : '',
        m.pMarginAdjusted !== null && m.pMarginAdjusted !== undefined ? `p(beyond −margin) adj. ${fmtNum(m.pMarginAdjusted)}` : '',
        m.morePairs ? `≈${m.morePairs} more pairs to settle` : '',
        m.note ?? '',
        ...dropped,
      ]
        .filter(Boolean)
        .join(' · '),
    };
  });
}
