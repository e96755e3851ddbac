/**
 * Turns the raw run data (manifest + verdict + trials) into the view model the HTML template renders.
 * Pure: no I/O. Text fields stay raw here (Handlebars escapes them); only the `*Svg` fields are
 * markup, built by charts.ts with every embedded label escaped.
 */
import { ascending } from 'd3-array';
import type { ManifestScenario, MetricResult, RunManifest, ScenarioResult, TrialRecord, Verdict } from '../results/types.js';
import { quantileSorted } from '../stats/quantile.js';
import { ARM_COLORS, barChart, distributionChart, forestPlot, runOrderChart, timeSeriesChart, type Bar, type ForestRow, type LineSeries, type OrderPoint, type RefLine } from './charts.js';
import {
  decisionSentence,
  decisionView,
  effectView,
  fmtBytes,
  fmtEffect,
  fmtInterval,
  fmtMargin,
  fmtNum,
  fmtSigned,
  paramsText,
  shellQuote,
  verdictStyle,
} from './format.js';
import type { RunData } from './load.js';
import { theoryFor, toMbit, type Theory } from './theory.js';

export interface RenderOptions {
  /** max points drawn per arm in strip / run-order charts before sampling or binning (default 300) */
  maxPointsPerArm?: number;
  /** max trials per arm overlaid in a time-series chart (default 8, 3 when the run has > 20 scenarios) */
  maxSeriesTrials?: number;
  /**
   * Size budget for charts, in bytes of SVG (default: 4 MB minus ~6 KB per scenario for its tables,
   * at least 0.5 MB). Scenarios get their charts in order of interest (REGRESSED, ERROR, INCONCLUSIVE,
   * unjudged, IMPROVED, PASS); once the budget is spent the rest keep their tables (metrics, theory,
   * environment) but no charts. The matrix always shows every effect and interval.
   * Pass Infinity to draw everything.
   */
  chartBudgetBytes?: number;
  /** timestamp printed in the footer (default: now) */
  generatedAt?: Date;
}

const MINUS = '−';

type Cell = { text: string; cls?: string; title?: string };

export interface KvRow {
  key: string;
  value: string;
}

export interface TableView {
  head: string[];
  rows: { cells: Cell[]; cls?: string }[];
}

function style(v: string | undefined) {
  const s = verdictStyle(v);
  return { text: v ?? 'NOT JUDGED', cls: s.cls, symbol: s.symbol };
}

// ------------------------------------------------------------------------------------------------
// generic structured-value rendering (fidelity, readback, judge settings)

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function scalarText(v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') return fmtNum(v, 4);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object')) return v.map(scalarText).join(', ');
  return JSON.stringify(v);
}

/** Flatten nested objects to dotted keys (arrays of scalars stay one value). Bounded depth and size. */
export function flatten(v: unknown, prefix = '', out: KvRow[] = [], depth = 0): KvRow[] {
  if (out.length > 500) return out;
  if (isPlainObject(v) && depth < 6) {
    const entries = Object.entries(v);
    if (!entries.length && prefix) out.push({ key: prefix, value: '{}' });
    for (const [k, x] of entries) flatten(x, prefix ? `${prefix}.${k}` : k, out, depth + 1);
  } else if (Array.isArray(v) && v.some((x) => typeof x === 'object' && x !== null) && depth < 6) {
    v.forEach((x, i) => flatten(x, `${prefix}[${i}]`, out, depth + 1));
  } else {
    out.push({ key: prefix || '(value)', value: scalarText(v) });
  }
  return out;
}

/**
 * Readback as a table. When the top level is a map of objects (per arm, or per host) it is pivoted:
 * one row per setting, one column per top-level key, rows that differ highlighted.
 */
export function readbackTable(v: unknown): TableView | null {
  if (v === undefined || v === null) return null;
  if (isPlainObject(v)) {
    const keys = Object.keys(v);
    if (keys.length >= 1 && keys.every((k) => isPlainObject(v[k]))) {
      const cols = keys.map((k) => new Map(flatten(v[k]).map((r) => [r.key, r.value])));
      const rowKeys: string[] = [];
      const seen = new Set<string>();
      for (const c of cols) for (const k of c.keys()) if (!seen.has(k)) seen.add(k), rowKeys.push(k);
      return {
        head: ['setting', ...keys],
        rows: rowKeys.map((rk) => {
          const vals = cols.map((c) => c.get(rk) ?? '–');
          const differs = keys.length > 1 && new Set(vals).size > 1;
          return { cells: [{ text: rk, cls: 'mono' }, ...vals.map((t) => ({ text: t, cls: 'mono' }))], cls: differs ? 'differs' : undefined };
        }),
      };
    }
  }
  const rows = flatten(v);
  return { head: ['setting', 'value'], rows: rows.map((r) => ({ cells: [{ text: r.key, cls: 'mono' }, { text: r.value, cls: 'mono' }] })) };
}

/** Fidelity: a checks table when it has `checks: {metric, configured, measured, tolerance, ok}[]`, plus key/value for the rest. */
export function fidelityView(v: unknown): { checks: TableView | null; kv: KvRow[]; allOk: boolean | null } | null {
  if (v === undefined || v === null) return null;
  let checks: TableView | null = null;
  let allOk: boolean | null = null;
  let rest: unknown = v;
  if (isPlainObject(v) && Array.isArray(v.checks) && v.checks.every(isPlainObject)) {
    const list = v.checks as Record<string, unknown>[];
    allOk = list.every((c) => c.ok !== false);
    checks = {
      head: ['metric', 'configured', 'measured', 'tolerance', 'ok'],
      rows: list.map((c) => ({
        cells: [
          { text: scalarText(c.metric) },
          { text: scalarText(c.configured), cls: 'num' },
          { text: scalarText(c.measured), cls: 'num' },
          { text: scalarText(c.tolerance), cls: 'num' },
          c.ok === false ? { text: '✗ out of tolerance', cls: 'v-regressed' } : c.ok === true ? { text: '✓', cls: 'v-pass' } : { text: '–' },
        ],
      })),
    };
    const { checks: _drop, ...others } = v;
    rest = others;
  }
  const kv = isPlainObject(rest) && Object.keys(rest).length === 0 ? [] : flatten(rest);
  return { checks, kv, allOk };
}

// ------------------------------------------------------------------------------------------------
// per-trial values

interface ArmValues {
  values: number[];
  labels: string[];
  order: OrderPoint[];
}

function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Per-arm values; hover labels only when asked (small runs): on 100k trials they were most of the report's time. */
function armValues(trials: TrialRecord[], metric: string, arm: 'control' | 'canary', excludeSuspect: boolean, withLabels = false): ArmValues {
  const values: number[] = [];
  const labels: string[] = [];
  const order: OrderPoint[] = [];
  for (const t of trials) {
    if (t.arm !== arm || t.status !== 'ok') continue;
    const v = t.metrics?.[metric];
    if (!finite(v)) continue;
    const excluded = !!t.suspect && excludeSuspect;
    order.push({ x: t.pair, y: v, warmup: t.warmup, excluded });
    if (t.warmup || excluded) continue;
    values.push(v);
    if (withLabels) labels.push(`${t.trial ?? `pair ${t.pair}`}: ${fmtNum(v)}${t.suspect ? ` (suspect: ${t.suspect})` : ''}`);
  }
  return { values, labels, order };
}

function medianIqr(values: number[]): { med: number; q1: number; q3: number } | null {
  if (!values.length) return null;
  const s = [...values].sort(ascending);
  return { med: quantileSorted(s, 0.5), q1: quantileSorted(s, 0.25), q3: quantileSorted(s, 0.75) };
}

/** Evenly pick up to k items, spread over the run (first, ..., last). */
function spread<T>(xs: T[], k: number): T[] {
  if (xs.length <= k) return xs;
  return Array.from({ length: k }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (k - 1))]!);
}

// ------------------------------------------------------------------------------------------------

function metricHeader(m: Pick<MetricResult, 'name' | 'unit' | 'direction' | 'critical'>) {
  return {
    name: m.name,
    unit: m.unit,
    arrow: m.direction === 'lower' ? '↓' : '↑',
    dirText: m.direction === 'lower' ? 'lower is better' : 'higher is better',
    critical: m.critical,
  };
}

function metricCell(m: MetricResult | undefined, sc: ManifestScenario | undefined) {
  if (!m) return { empty: true, text: '', interval: '', cls: 'v-none', symbol: '', title: 'not measured in this scenario', verdict: '' };
  const e = effectView(m, sc);
  const st = verdictStyle(m.verdict);
  const title = [
    `${m.name}: ${m.verdict}`,
    e.est !== null ? `effect ${fmtEffect(e)} ${fmtInterval(e)}`.trim() : 'no estimate',
    e.margin !== null ? `margin ${fmtMargin(e)}` : '',
    m.pAdjusted !== null && m.pAdjusted !== undefined ? `p(adj)=${fmtNum(m.pAdjusted)}` : '',
    m.note ?? '',
  ]
    .filter(Boolean)
    .join(' · ');
  return {
    empty: false,
    text: e.est === null ? m.verdict : fmtEffect(e, MINUS),
    interval: fmtInterval(e, MINUS),
    cls: st.cls,
    symbol: st.symbol,
    verdict: m.verdict,
    title,
  };
}

export function buildView(data: RunData, opts: RenderOptions = {}) {
  const { manifest, verdict } = data;
  const nScen = verdict.scenarios.length + (manifest.scenarios ?? []).filter((s) => !verdict.scenarios.some((v) => v.id === s.id)).length;
  const nMetricCharts = Math.max(1, verdict.scenarios.reduce((a, s) => a + (s.metrics?.length ?? 0), 0));
  // a global mark budget: many scenarios x metrics get fewer points per arm (never below 40)
  const maxPts = Math.min(opts.maxPointsPerArm ?? 300, Math.max(40, Math.floor(150_000 / (4 * nMetricCharts))));
  const maxSeries = opts.maxSeriesTrials ?? (nScen > 20 ? 3 : 8);
  const pointTitles = (data.trials?.length ?? 0) <= 4000;
  // what every scenario costs anyway (its tables: ~6 KB) comes out of a ~4 MB page budget
  const budget = { used: 0, max: opts.chartBudgetBytes ?? Math.max(500_000, 4_000_000 - nScen * 6_000), omitted: 0 };
  const manById = new Map<string, ManifestScenario>((manifest.scenarios ?? []).map((s) => [s.id, s]));
  const trialsBy = new Map<string, TrialRecord[]>();
  for (const t of data.trials ?? []) {
    let a = trialsBy.get(t.scenario);
    if (!a) trialsBy.set(t.scenario, (a = []));
    a.push(t);
  }

  // scenarios: the verdict's, then any manifest scenario the judge never saw (failed / interrupted)
  const judged = new Set(verdict.scenarios.map((s) => s.id));
  const rowsSrc: { res: ScenarioResult | null; man: ManifestScenario | undefined; id: string }[] = [
    ...verdict.scenarios.map((res) => ({ res, man: manById.get(res.id), id: res.id })),
    ...(manifest.scenarios ?? []).filter((s) => !judged.has(s.id)).map((man) => ({ res: null, man, id: man.id })),
  ];

  // matrix columns
  const paramKeys: string[] = [];
  const metricCols: ReturnType<typeof metricHeader>[] = [];
  for (const { res, man } of rowsSrc) {
    for (const k of Object.keys(res?.params ?? man?.params ?? {})) if (!paramKeys.includes(k)) paramKeys.push(k);
    for (const m of res?.metrics ?? []) if (!metricCols.some((c) => c.name === m.name)) metricCols.push(metricHeader(m));
  }

  const d = decisionView(verdict.decision);
  const counts = new Map<string, number>();
  for (const s of verdict.scenarios) counts.set(s.verdict, (counts.get(s.verdict) ?? 0) + 1);

  // shared settings are shown once in the environment block instead of in every scenario
  const judgeKeys = new Set(rowsSrc.map((r) => JSON.stringify(r.man?.judge ?? null)));
  const readbackKeys = new Set(rowsSrc.map((r) => JSON.stringify(r.man?.readback ?? null)));
  const sharedJudge = rowsSrc.length > 1 && judgeKeys.size === 1 ? (rowsSrc[0]!.man?.judge ?? null) : null;
  const sharedReadback = rowsSrc.length > 1 && readbackKeys.size === 1 ? (rowsSrc[0]!.man?.readback ?? null) : null;

  // charts are drawn in order of interest so a size budget drops the least interesting ones first
  const rank: Record<string, number> = { REGRESSED: 0, ERROR: 1, INCONCLUSIVE: 2, IMPROVED: 4, PASS: 5 };
  const order = rowsSrc.map((r, i) => ({ r, i, k: r.res ? (rank[r.res.verdict] ?? 3) : 3 })).sort((a, b) => a.k - b.k || a.i - b.i);
  const built = new Array<ReturnType<typeof scenarioView>>(rowsSrc.length);
  for (const { r, i } of order)
    built[i] = scenarioView(r.res, r.man, r.id, `s${i + 1}`, trialsBy.get(r.id) ?? [], {
      maxPts,
      maxSeries,
      pointTitles,
      budget,
      sharedJudge: sharedJudge !== null,
      sharedReadback: sharedReadback !== null,
    });
  const scenarios = built;

  const matrixRows = rowsSrc.map((r, i) => {
    const params = r.res?.params ?? r.man?.params ?? {};
    return {
      anchor: `s${i + 1}`,
      name: r.res?.name ?? r.man?.name ?? r.id,
      id: r.id,
      showId: (r.res?.name ?? r.man?.name) !== r.id,
      params: paramKeys.map((k) => (k in params ? String(params[k]) : '')),
      verdict: style(r.res?.verdict ?? (r.man?.status === 'failed' ? 'ERROR' : undefined)),
      pairs: r.res?.pairs ?? null,
      cells: metricCols.map((c) => metricCell(r.res?.metrics.find((m) => m.name === c.name), r.man)),
    };
  });

  const env = manifest.environment ?? ({} as RunManifest['environment']);
  const envRows: KvRow[] = [
    { key: 'netab version', value: manifest.netabVersion ?? '–' },
    { key: 'judged by', value: verdict.netabVersion ? `netab ${verdict.netabVersion} at ${verdict.judgedAt ?? '?'}` : '–' },
    { key: 'run id', value: manifest.runId ?? verdict.runId ?? '–' },
    { key: 'started', value: manifest.createdAt ?? '–' },
    { key: 'finished', value: manifest.finishedAt ? manifest.finishedAt : manifest.interrupted ? 'interrupted' : '–' },
    { key: 'kernel', value: env.kernel ?? '–' },
    { key: 'host', value: env.hostname ?? '–' },
    { key: 'node', value: env.node ?? '–' },
    { key: 'iproute2', value: env.iproute2 ?? '–' },
    { key: 'iperf3', value: env.iperf3 ?? '–' },
    { key: 'netem available', value: scalarText(env.netem) },
    { key: 'VM', value: env.vm ? `kernel ${env.vm.kernel}, ${env.vm.accelerator}` : 'no' },
    { key: 'backend', value: manifest.backend ?? '–' },
    { key: 'seed', value: scalarText(manifest.seed) },
    { key: 'scenario file', value: manifest.sourceFile ?? '–' },
    { key: 'A/A run', value: manifest.aa ? 'yes (both arms identical: a false-alarm check)' : 'no' },
    { key: 'alpha', value: scalarText(verdict.alpha) },
    { key: 'trials recorded', value: String(data.trials?.length ?? 0) },
  ];
  if (data.telemetry) envRows.push({ key: 'telemetry files', value: `${data.telemetry.files} (${fmtBytes(data.telemetry.bytes)})` });
  // resumed runs: which trials came from which attempt
  const attempts = new Map<number, number>();
  for (const t of data.trials ?? []) attempts.set(t.attempt ?? 1, (attempts.get(t.attempt ?? 1) ?? 0) + 1);
  if ((manifest.attempts?.length ?? 0) > 1 || attempts.size > 1)
    envRows.push({
      key: 'attempts',
      value: [...attempts.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([a, n]) => {
          const meta = manifest.attempts?.find((x) => x.attempt === a);
          return `attempt ${a}: ${n} trials${meta ? ` (started ${meta.startedAt}${meta.interrupted ? ', interrupted' : ''})` : ''}`;
        })
        .join('; '),
    });
  if (manifest.suite) {
    const sh = manifest.suite.shard;
    envRows.push({
      key: 'suite',
      value: `${manifest.suite.name} (hash ${manifest.suite.hash}, ${manifest.suite.files.length} files${sh ? `, shard ${sh.index}/${sh.count}` : ''}${manifest.suite.mergedFrom ? `, merged from ${manifest.suite.mergedFrom.length} shards` : ''})`,
    });
  }
  const aaLine = manifest.aa ? aaFalseAlarms(verdict) : null;
  if (aaLine) envRows.push({ key: 'A/A false alarms', value: aaLine });

  const pairsTotal = verdict.scenarios.reduce((a, s) => a + (s.pairs ?? 0), 0);

  return {
    title: `netab report: ${d.word} (${manifest.runId ?? verdict.runId ?? ''})`,
    runId: manifest.runId ?? verdict.runId ?? '',
    decision: {
      word: d.word,
      cls: d.cls,
      sentence: decisionSentence(verdict.decision, verdict.reasons),
      reasons: verdict.reasons ?? [],
      moreReasons: (verdict.reasons ?? []).length > 1,
      exitCode: d.exitCode,
      morePairs: verdict.morePairs ?? null,
      aa: !!manifest.aa,
      interrupted: !!manifest.interrupted,
      facts: [
        `${verdict.scenarios.length} scenario${verdict.scenarios.length === 1 ? '' : 's'}`,
        `${pairsTotal} judged pairs`,
        `α = ${scalarText(verdict.alpha)}`,
        ...(aaLine ? [`A/A: ${aaLine}`] : []),
        ...['REGRESSED', 'ERROR', 'INCONCLUSIVE', 'IMPROVED', 'PASS'].filter((k) => counts.get(k)).map((k) => `${counts.get(k)} ${k.toLowerCase()}`),
      ],
    },
    matrix: { paramKeys, metricCols, rows: matrixRows, hasParams: paramKeys.length > 0 },
    legend: ['IMPROVED', 'PASS', 'INCONCLUSIVE', 'REGRESSED', 'NODATA', 'ERROR'].map((v) => style(v)),
    scenarios,
    env: envRows,
    command: Array.isArray(manifest.command) && manifest.command.length ? shellQuote(manifest.command.map(String)) : '',
    sharedJudge: sharedJudge ? judgeSettingsRows(sharedJudge) : null,
    sharedReadback: sharedReadback ? readbackTable(sharedReadback) : null,
    chartsOmitted: budget.omitted,
    hashes: rowsSrc.map((r) => ({ name: r.res?.name ?? r.man?.name ?? r.id, id: r.id, hash: r.man?.hash ?? '–' })),
    warnings: data.warnings ?? [],
    generatedAt: (opts.generatedAt ?? new Date()).toISOString(),
    netabVersion: manifest.netabVersion ?? verdict.netabVersion ?? '',
  };
}

export type ReportView = ReturnType<typeof buildView>;

function scenarioView(
  res: ScenarioResult | null,
  man: ManifestScenario | undefined,
  id: string,
  anchor: string,
  trials: TrialRecord[],
  o: {
    maxPts: number;
    maxSeries: number;
    pointTitles: boolean;
    budget: { used: number; max: number; omitted: number };
    sharedJudge: boolean;
    sharedReadback: boolean;
  },
) {
  const name = res?.name ?? man?.name ?? id;
  const params = res?.params ?? man?.params ?? {};
  const excludeSuspect = man?.judge?.excludeSuspect ?? true;
  const metrics = res?.metrics ?? [];
  const theory = theoryFor(man);

  // metric table
  const metricRows = metrics.map((m) => {
    const e = effectView(m, man);
    const c = m.control?.median, k = m.canary?.median;
    const raw = finite(c) && finite(k) && c !== 0 ? ((k - c) / Math.abs(c)) * 100 : null;
    const dropped = [
      m.control?.dropped ? `control −${m.control.dropped}${m.control.droppedWhy?.length ? ` (${m.control.droppedWhy.join(', ')})` : ''}` : '',
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

  // forest plots: one for the percent-scale metrics (shared axis), one per linear metric (own unit)
  const drawCharts = o.budget.used < o.budget.max;
  if (!drawCharts) o.budget.omitted++;
  const forestSvgs: string[] = [];
  const pctRows: ForestRow[] = [];
  for (const m of metrics) {
    const e = effectView(m, man);
    const row: ForestRow = {
      label: `${m.critical ? '★ ' : ''}${m.name}`,
      est: e.est,
      lo: e.lo,
      hi: e.hi,
      margin: e.margin,
      lower: e.lower,
      color: verdictStyle(m.verdict).ink,
      valueText: e.est === null ? m.verdict : `${fmtEffect(e, MINUS)} ${fmtInterval(e, MINUS)}`,
    };
    if (e.kind === 'pct') pctRows.push(row);
    else
      forestSvgs.push(
        forestPlot([row], { title: `${name}: ${m.name} effect (${e.unit})`, unit: e.unit, axisLabel: `effect in ${e.unit || 'units'} (+ = canary better)` }),
      );
  }
  if (!drawCharts) forestSvgs.length = 0;
  else if (pctRows.length)
    forestSvgs.unshift(forestPlot(pctRows, { title: `${name}: effects with intervals vs margins`, unit: '%', axisLabel: 'effect, % (+ = canary better)' }));

  // per-metric distribution + run order
  const noValues: string[] = [];
  const metricCharts = (drawCharts ? metrics : []).flatMap((m) => {
    const ctl = armValues(trials, m.name, 'control', excludeSuspect, o.pointTitles);
    const can = armValues(trials, m.name, 'canary', excludeSuspect, o.pointTitles);
    if (!ctl.order.length && !can.order.length) {
      noValues.push(m.name);
      return [];
    }
    const unit = m.unit ? `${m.name} (${m.unit})` : m.name;
    return {
      name: m.name,
      distSvg: distributionChart(
        [
          { label: 'control', color: ARM_COLORS.control, values: ctl.values, labels: ctl.labels },
          { label: 'canary', color: ARM_COLORS.canary, values: can.values, labels: can.labels },
        ],
        { title: `${m.name}: per-trial values by arm`, unit, maxPoints: o.maxPts, pointTitles: o.pointTitles },
      ),
      orderSvg: runOrderChart(
        [
          { label: 'control', color: ARM_COLORS.control, points: ctl.order },
          { label: 'canary', color: ARM_COLORS.canary, points: can.order },
        ],
        { title: `${m.name}: per-trial values in run order`, unit: m.unit, maxPoints: o.maxPts, pointTitles: o.pointTitles },
      ),
    };
  });

  // time series (bulk trials)
  const judgedTrials = trials.filter((t) => t.status === 'ok' && !t.warmup && !(t.suspect && excludeSuspect));
  const withSeries = judgedTrials.filter((t) => t.series && Object.values(t.series).some((v) => Array.isArray(v) && v.length > 1));
  const seriesSvgs: string[] = [];
  // tKey: the series' own time axis (iperf3 intervals: t; ss -tin samples of bulk trials: ss_t)
  const seriesDefs: { key: string; tKey?: string; title: string; yLabel: string; refs: RefLine[] }[] = [
    {
      key: 'goodput',
      title: 'goodput over time',
      yLabel: 'Mbit/s',
      refs: (theory?.lines ?? [])
        .filter((l) => l.key !== 'ceiling')
        .map((l) => ({ value: l.mbit, label: l.label, color: l.key === 'rate' ? '#24292f' : l.key === 'mathis' ? '#8250df' : '#0969da' })),
    },
    {
      key: 'rtt',
      title: 'RTT over time',
      yLabel: 'ms',
      refs: theory
        ? [
            { value: theory.rttMs, label: 'base RTT', color: '#24292f' },
            ...(theory.maxQueueDelayMs !== null ? [{ value: theory.rttMs + theory.maxQueueDelayMs, label: 'base + full buffer', color: '#8250df' }] : []),
          ]
        : [],
    },
    {
      key: 'cwnd',
      title: 'cwnd over time',
      yLabel: 'packets',
      refs:
        theory?.bdpPackets != null
          ? [
              { value: theory.bdpPackets, label: 'BDP', color: '#24292f' },
              ...(theory.bufferBytes !== null ? [{ value: theory.bdpPackets + theory.bufferBytes / theory.mss, label: 'BDP + buffer', color: '#8250df' }] : []),
            ]
          : theory?.windowCapMbit != null && theory.bufferBytes !== null
            ? [{ value: theory.bufferBytes / theory.mss, label: 'window cap', color: '#0969da' }]
            : [],
    },
    {
      key: 'ss_delivery',
      tKey: 'ss_t',
      title: 'delivery rate over time (ss -tin, sender)',
      yLabel: 'Mbit/s',
      refs: theory?.lines.filter((l) => l.key === 'rate').map((l) => ({ value: l.mbit, label: l.label, color: '#24292f' })) ?? [],
    },
    {
      key: 'ss_pacing',
      tKey: 'ss_t',
      title: 'pacing rate over time (ss -tin, sender)',
      yLabel: 'Mbit/s',
      refs: [],
    },
  ];
  for (const def of drawCharts ? seriesDefs : []) {
    const lines: LineSeries[] = [];
    for (const arm of ['control', 'canary'] as const) {
      const ts = spread(
        withSeries.filter((t) => t.arm === arm && Array.isArray(t.series![def.key]) && t.series![def.key]!.length > 0 && Array.isArray(t.series![def.tKey ?? 't'])),
        o.maxSeries,
      );
      ts.forEach((t, i) => {
        const tt = t.series![def.tKey ?? 't']!, vv = t.series![def.key]!;
        const n = Math.min(tt.length, vv.length);
        const pts: [number, number][] = [];
        for (let j = 0; j < n; j++) if (finite(tt[j]) && finite(vv[j])) pts.push([tt[j]!, vv[j]!]);
        lines.push({ label: `${arm} (${ts.length} trial${ts.length === 1 ? '' : 's'})`, color: ARM_COLORS[arm], points: pts, opacity: 0.45, legend: i === 0 });
      });
    }
    if (lines.length) seriesSvgs.push(timeSeriesChart(lines, def.refs, { title: def.title, yLabel: def.yLabel }));
  }

  // theory vs measured goodput
  let theoryView: { rows: KvRow[]; svg: string; note: string } | null = null;
  if (theory) {
    const gp = measuredGoodput(metrics, trials, excludeSuspect, judgedTrials);
    theoryView = theoryBlock(theory, gp, drawCharts);
  }

  if (drawCharts)
    for (const c of [...metricCharts.flatMap((c) => [c.distSvg, c.orderSvg]), ...seriesSvgs, ...forestSvgs, theoryView?.svg ?? '']) o.budget.used += c.length;

  const fid = fidelityView(man?.fidelity);
  const judge = man?.judge;
  const judgeRows: KvRow[] = judge && !o.sharedJudge ? judgeSettingsRows(judge) : [];

  const failed = trials.filter((t) => t.status === 'failed');
  const suspect = trials.filter((t) => t.status === 'ok' && t.suspect);
  const trialFacts = [
    `${trials.filter((t) => !t.warmup).length} trials`,
    `${trials.filter((t) => t.warmup).length} warm-up`,
    failed.length ? `${failed.length} failed` : '',
    suspect.length ? `${suspect.length} suspect${excludeSuspect ? ' (excluded)' : ''}` : '',
  ].filter(Boolean);

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
    look: res?.look ? `sequential look ${res.look.index} of ${res.look.planned} (one-sided α ${fmtNum(res.look.alpha)})${res.look.stopped ? ', stopped early' : ''}` : '',
    trialFacts: trialFacts.join(' · '),
    failures: spread(failed, 5).map((t) => `${t.trial}: ${t.reason ?? 'failed'}`),
    metricRows,
    hasMetrics: metricRows.length > 0,
    forestSvgs,
    metricCharts,
    noValueMetrics: noValues.join(', '),
    chartsOmitted: !drawCharts && (metrics.length > 0 || trials.length > 0),
    seriesSvgs,
    theory: theoryView,
    env: {
      engine: man?.engine ? `${man.engine.name}` : '–',
      engineReason: man?.engine?.reason ?? '',
      hash: man?.hash ?? '–',
      status: man?.status ?? '',
      error: man?.error ?? '',
      fidelity: fid,
      readback: o.sharedReadback ? null : readbackTable(man?.readback),
      shared: o.sharedJudge || o.sharedReadback,
      judge: judgeRows,
    },
  };
}

function judgeSettingsRows(judge: NonNullable<ManifestScenario['judge']>): KvRow[] {
  return [
    { key: 'alpha', value: scalarText(judge.alpha) },
    { key: 'min pairs', value: scalarText(judge.minPairs) },
    { key: 'primary metric', value: `${judge.primary}${judge.expectImprovement ? ' (must improve)' : ''}` },
    { key: 'non-critical regressions to fail', value: scalarText(judge.nonCriticalRegressionsToFail) },
    { key: 'max failed fraction', value: scalarText(judge.maxFailedFraction) },
    { key: 'exclude suspect trials', value: scalarText(judge.excludeSuspect) },
    {
      key: 'sequential',
      value: judge.sequential && judge.sequentialPlan ? `yes, ${judge.sequentialPlan.looks} looks every ${judge.sequentialPlan.pairsPerLook} pairs` : scalarText(judge.sequential),
    },
    ...(judge.metrics ?? []).map((s) => ({
      key: `metric ${s.name}`,
      value: `${s.unit}, ${s.direction} is better, ${s.scale} scale, margin ${s.margin?.kind === 'relative' ? `${fmtNum(s.margin.value * 100)} %` : `${fmtNum(s.margin?.value)} ${s.unit}`}${s.critical ? ', critical' : ''}${s.required ? ', required' : ''}`,
    })),
  ];
}

/** Measured goodput per arm in Mbit/s: from a rate metric if the run has one, else from series means. */
function measuredGoodput(metrics: MetricResult[], trials: TrialRecord[], excludeSuspect: boolean, judgedTrials: TrialRecord[]) {
  const byName = metrics.filter((m) => toMbit(1, m.unit ?? '') !== null);
  const gm = byName.find((m) => /goodput|throughput/i.test(m.name)) ?? byName[0];
  const out: { arm: 'control' | 'canary'; med: number; q1: number; q3: number; source: string }[] = [];
  for (const arm of ['control', 'canary'] as const) {
    let vals: number[] = [];
    let source = '';
    if (gm) {
      const f = toMbit(1, gm.unit)!;
      vals = armValues(trials, gm.name, arm, excludeSuspect).values.map((v) => v * f);
      source = `metric ${gm.name}`;
    }
    if (!vals.length) {
      vals = judgedTrials
        .filter((t) => t.arm === arm && Array.isArray(t.series?.goodput) && t.series!.goodput!.length)
        .map((t) => t.series!.goodput!.filter(finite).reduce((a, b) => a + b, 0) / t.series!.goodput!.filter(finite).length)
        .filter(finite);
      source = 'mean of goodput series';
    }
    const mi = medianIqr(vals);
    if (mi) out.push({ arm, ...mi, source });
  }
  return out;
}

function theoryBlock(t: Theory, gp: ReturnType<typeof measuredGoodput>, chart: boolean) {
  const rows: KvRow[] = [];
  if (t.rateMbit !== null) rows.push({ key: 'bottleneck rate', value: `${fmtNum(t.rateMbit)} Mbit/s` });
  rows.push({ key: 'base RTT', value: `${fmtNum(t.rttMs)} ms` });
  rows.push({ key: 'MSS', value: `${t.mss} B` });
  if (t.bdpBytes !== null) rows.push({ key: 'BDP (rate × RTT)', value: `${fmtBytes(t.bdpBytes)} = ${fmtNum(t.bdpPackets)} packets` });
  if (t.loss !== null) rows.push({ key: 'random loss', value: `${fmtNum(t.loss * 100)} %` });
  if (t.bufferBytes !== null)
    rows.push({ key: 'buffer', value: `${fmtBytes(t.bufferBytes)}${t.bufferBdp !== null ? ` = ${fmtNum(t.bufferBdp)} × BDP` : ''}` });
  if (t.maxQueueDelayMs !== null) rows.push({ key: 'queueing delay, full buffer', value: `${fmtNum(t.maxQueueDelayMs)} ms` });
  if (t.mathisMbit !== null) rows.push({ key: 'Mathis bound MSS/RTT·√(3/(2p))', value: `${fmtNum(t.mathisMbit)} Mbit/s` });
  if (t.windowCapMbit !== null) rows.push({ key: 'rwnd/RTT cap (buffer-limited)', value: `${fmtNum(t.windowCapMbit)} Mbit/s` });
  if (t.ceilingMbit !== null) rows.push({ key: 'expected ceiling', value: `${fmtNum(t.ceilingMbit)} Mbit/s (${t.limitedBy})` });
  for (const g of gp)
    rows.push({
      key: `measured ${g.arm} (median)`,
      value: `${fmtNum(g.med)} Mbit/s${t.ceilingMbit ? ` = ${fmtNum((g.med / t.ceilingMbit) * 100)} % of ceiling` : ''}`,
    });
  const bars: Bar[] = [
    ...t.lines.map((l) => ({ label: l.label, value: l.mbit, color: l.key === 'mathis' ? '#8250df' : l.key === 'window' ? '#0969da' : '#57606a', theory: true })),
    ...gp.map((g) => ({ label: `measured ${g.arm}`, value: g.med, lo: g.q1, hi: g.q3, color: ARM_COLORS[g.arm] })),
  ];
  const svg = chart && bars.length ? barChart(bars, { title: 'theory vs measured goodput', unit: 'Mbit/s' }) : '';
  const note = gp.length ? `measured: ${gp[0]!.source}, median with interquartile range` : 'no goodput measured in this scenario';
  return { rows, svg, note };
}

/**
 * A/A calibration: both arms run the same profile, so every metric whose interval excludes 0
 * (IMPROVED or REGRESSED) is a false alarm. Each interval is a (1 - 2 alpha) one, so about 2 alpha of
 * them are expected to exclude 0 by chance; a ROLLBACK in an A/A run means the judge or the testbed
 * is not trustworthy.
 */
export function aaFalseAlarms(verdict: Verdict): string {
  const judged = verdict.scenarios.flatMap((s) => s.metrics).filter((m) => m.ci !== null);
  const alarms = judged.filter((m) => m.verdict === 'IMPROVED' || m.verdict === 'REGRESSED' || (m.ci && (m.ci[0] > 0 || m.ci[1] < 0)));
  const rate = judged.length ? alarms.length / judged.length : 0;
  return `${alarms.length} of ${judged.length} metric intervals exclude 0 (${(rate * 100).toFixed(1)} %; about ${(2 * verdict.alpha * 100).toFixed(0)} % expected by chance), ${verdict.scenarios.filter((s) => s.verdict === 'REGRESSED').length} regressed scenario(s)`;
}
