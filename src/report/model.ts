/**
 * Turns the raw run data (manifest + verdict + trials) into the view model the HTML template renders.
 * Pure: no I/O. Text fields stay raw here (Handlebars escapes them); only the `*Svg` fields are
 * markup, built by charts.ts with every embedded label escaped.
 */
import type { ManifestScenario, MetricResult, RunManifest, ScenarioResult, TrialRecord, Verdict } from '../results/types.js';
import {
  decisionSentence,
  decisionView,
  effectView,
  fmtBytes,
  fmtEffect,
  fmtInterval,
  fmtMargin,
  fmtNum,
  shellQuote,
  verdictStyle,
} from './format.js';
import { multiplicityLine } from './failures.js';
import type { RunData } from './load.js';
import { scenarioView } from './scenario.js';
import { type ExpectedFn, sweepPivots } from './sweep.js';
import { judgeSettingsRows, type KvRow, metricHeader, MINUS, readbackTable, scalarText, style } from './tables.js';

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
  /** the theory hook of the sweep: expected effect % per scenario and metric (default: none) */
  expected?: ExpectedFn;
}

type ScenarioRow = { res: ScenarioResult | null; man: ManifestScenario | undefined; id: string };

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

// a little over 80 lines: most of it is the page's view object, one field a line
export function buildView(data: RunData, opts: RenderOptions = {}) {
  const { manifest, verdict } = data;
  const { maxPts, maxSeries, pointTitles, budget } = chartLimits(data, opts);
  const manById = new Map<string, ManifestScenario>((manifest.scenarios ?? []).map((s) => [s.id, s]));
  const trialsBy = new Map<string, TrialRecord[]>();
  for (const t of data.trials ?? []) {
    let a = trialsBy.get(t.scenario);
    if (!a) trialsBy.set(t.scenario, (a = []));
    a.push(t);
  }

  // scenarios: the verdict's, then any manifest scenario the judge never saw (failed / interrupted)
  const judged = new Set(verdict.scenarios.map((s) => s.id));
  const rowsSrc: ScenarioRow[] = [
    ...verdict.scenarios.map((res) => ({ res, man: manById.get(res.id), id: res.id })),
    ...(manifest.scenarios ?? []).filter((s) => !judged.has(s.id)).map((man) => ({ res: null, man, id: man.id })),
  ];

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
  const scenarios = new Array<ReturnType<typeof scenarioView>>(rowsSrc.length);
  for (const { r, i } of order)
    scenarios[i] = scenarioView(r.res, r.man, r.id, `s${i + 1}`, trialsBy.get(r.id) ?? [], {
      maxPts,
      maxSeries,
      pointTitles,
      budget,
      sharedJudge: sharedJudge !== null,
      sharedReadback: sharedReadback !== null,
      kernel: manifest.environment?.vm?.kernel ?? manifest.environment?.kernel ?? null,
      schedules: data.schedules,
    });

  const aaLine = manifest.aa ? aaFalseAlarms(verdict) : null;
  const envRows = environmentRows(data, aaLine);
  const pairsTotal = verdict.scenarios.reduce((a, s) => a + (s.pairs ?? 0), 0);
  const { paramKeys, metricCols, matrixRows } = matrixView(rowsSrc);

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
        ...(multiplicityLine(verdict.multiplicity) ? [multiplicityLine(verdict.multiplicity)!] : []),
        ...['REGRESSED', 'ERROR', 'INCONCLUSIVE', 'IMPROVED', 'PASS']
          .filter((k) => counts.get(k))
          .map((k) => `${counts.get(k)} ${k.toLowerCase()}`),
      ],
    },
    matrix: { paramKeys, metricCols, rows: matrixRows, hasParams: paramKeys.length > 0 },
    sweeps: sweepPivots(verdict, manifest, { minus: MINUS, expected: opts.expected }),
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

/** How much the charts may draw: points per arm, series per chart, hover labels, the page's size budget. */
function chartLimits(data: RunData, opts: RenderOptions) {
  const { manifest, verdict } = data;
  const nScen = verdict.scenarios.length + (manifest.scenarios ?? []).filter((s) => !verdict.scenarios.some((v) => v.id === s.id)).length;
  const nMetricCharts = Math.max(
    1,
    verdict.scenarios.reduce((a, s) => a + (s.metrics?.length ?? 0), 0),
  );
  // a global mark budget: many scenarios x metrics get fewer points per arm (never below 40)
  const maxPts = Math.min(opts.maxPointsPerArm ?? 300, Math.max(40, Math.floor(150_000 / (4 * nMetricCharts))));
  const maxSeries = opts.maxSeriesTrials ?? (nScen > 20 ? 3 : 8);
  const pointTitles = (data.trials?.length ?? 0) <= 4000;
  // what every scenario costs anyway (its tables: ~6 KB) comes out of a ~4 MB page budget
  const budget = { used: 0, max: opts.chartBudgetBytes ?? Math.max(500_000, 4_000_000 - nScen * 6_000), omitted: 0 };
  return { maxPts, maxSeries, pointTitles, budget };
}

/** The scenario x metric matrix: parameter and metric columns, one row per scenario. */
function matrixView(rowsSrc: ScenarioRow[]) {
  // matrix columns
  const paramKeys: string[] = [];
  const metricCols: ReturnType<typeof metricHeader>[] = [];
  for (const { res, man } of rowsSrc) {
    for (const k of Object.keys(res?.params ?? man?.params ?? {})) if (!paramKeys.includes(k)) paramKeys.push(k);
    for (const m of res?.metrics ?? []) if (!metricCols.some((c) => c.name === m.name)) metricCols.push(metricHeader(m));
  }

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
      cells: metricCols.map((c) =>
        metricCell(
          r.res?.metrics.find((m) => m.name === c.name),
          r.man,
        ),
      ),
    };
  });
  return { paramKeys, metricCols, matrixRows };
}

/** The environment block: versions, host, backend, seed, attempts of a resumed run, suite, A/A line. */
function environmentRows(data: RunData, aaLine: string | null): KvRow[] {
  const { manifest, verdict } = data;
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
  if (aaLine) envRows.push({ key: 'A/A false alarms', value: aaLine });
  return envRows;
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
