/**
 * The charts of one scenario in the report: effect forest plots, per-metric distributions and run
 * order, time series with theory reference lines, theory vs measured goodput. Each returns SVG
 * strings from charts.ts; scenario.ts decides whether the size budget allows drawing them.
 */
import type { ManifestScenario, MetricResult, TrialRecord } from '../results/types.js';
import { bothArmValues, finite, spread } from './arms.js';
import { ARM_COLORS, distributionChart, runOrderChart } from './charts.js';
import { armLines, timeSeriesChart, type LineSeries, type RefLine } from './timeseries-chart.js';
import { type ForestRow, forestPlot } from './forest.js';
import { effectView, fmtEffect, fmtInterval, verdictStyle } from './format.js';
import { MINUS } from './tables.js';
import type { ScheduleOverlay } from './schedule-svg.js';
import type { Theory } from './theory.js';
import { loadSeries, type SeriesShape, seriesLength, seriesShape } from '../results/series.js';

/** Forest plots: one for the percent-scale metrics (shared axis), one per linear metric (own unit). */
export function forestSvgs(metrics: MetricResult[], man: ManifestScenario | undefined, name: string): string[] {
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
        forestPlot([row], {
          title: `${name}: ${m.name} effect (${e.unit})`,
          unit: e.unit,
          axisLabel: `effect in ${e.unit || 'units'} (+ = canary better)`,
        }),
      );
  }
  if (pctRows.length)
    forestSvgs.unshift(
      forestPlot(pctRows, { title: `${name}: effects with intervals vs margins`, unit: '%', axisLabel: 'effect, % (+ = canary better)' }),
    );
  return forestSvgs;
}

export interface PointLimits {
  maxPts: number;
  pointTitles: boolean;
}

/** Per-metric distribution and run-order charts; metrics without a single value are named in noValues. */
export function metricCharts(metrics: MetricResult[], trials: TrialRecord[], excludeSuspect: boolean, o: PointLimits, noValues: string[]) {
  return metrics.flatMap((m) => {
    const { control: ctl, canary: can } = bothArmValues(trials, m.name, excludeSuspect, o.pointTitles);
    if (!ctl.order.x.length && !can.order.x.length) {
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
}

/** Time series of the judged trials that carry them (bulk), a few trials per arm overlaid. */
export function seriesSvgs(
  withSeries: TrialRecord[],
  theory: Theory | null,
  maxSeries: number,
  schedule: ScheduleOverlay | null = null,
): string[] {
  const seriesSvgs: string[] = [];
  const drawn = new Set<string>();
  const byArm = { control: withSeries.filter((t) => t.arm === 'control'), canary: withSeries.filter((t) => t.arm === 'canary') };
  const shapesOf = { control: new Set(byArm.control.map(seriesShape)), canary: new Set(byArm.canary.map(seriesShape)) };
  for (const def of seriesDefs(theory)) {
    if (def.group && drawn.has(def.group)) continue;
    const lines: LineSeries[] = [];
    // trials share their series shapes: decide once per shape
    const drawable = new Map<SeriesShape | null, boolean>();
    const has = (t: TrialRecord): boolean => {
      const shape = seriesShape(t);
      let ok = drawable.get(shape);
      if (ok === undefined) drawable.set(shape, (ok = seriesLength(t, def.key) > 0 && seriesLength(t, def.tKey ?? 't') >= 0));
      return ok;
    };
    for (const arm of ['control', 'canary'] as const) {
      const mine = byArm[arm];
      // one shape among the arm's trials (the usual case): the filter keeps all of them or none
      const ts = spread(shapesOf[arm].size === 1 ? (has(mine[0]!) ? mine : []) : mine.filter(has), maxSeries);
      // only the drawn trials' series are read (a big run's records leave them in results.jsonl)
      const loaded = loadSeries(ts);
      lines.push(
        ...armLines(arm, loaded, 0.45, (series) => {
          const tt = series![def.tKey ?? 't']!,
            vv = series![def.key]!;
          const n = Math.min(tt.length, vv.length);
          const pts: [number, number][] = [];
          for (let j = 0; j < n; j++) if (finite(tt[j]) && finite(vv[j])) pts.push([tt[j]!, vv[j]!]);
          return pts;
        }),
      );
    }
    if (!lines.length) continue;
    // the link schedule behind every series; its rate line only on the rate charts
    const overlay = schedule && (def.yLabel === 'Mbit/s' ? schedule : { bands: schedule.bands, marks: schedule.marks });
    seriesSvgs.push(timeSeriesChart(lines, def.refs, { title: def.title, yLabel: def.yLabel, schedule: overlay }));
    if (def.group) drawn.add(def.group);
  }
  return seriesSvgs;
}

interface SeriesDef {
  key: string;
  /** the series' own time axis (iperf3 client intervals: t; server intervals: rx_t; rx counters: wire_t; ss -tin: ss_t) */
  tKey?: string;
  /** of the defs sharing a group only the first with data is drawn */
  group?: string;
  title: string;
  yLabel: string;
  refs: RefLine[];
}

function seriesDefs(theory: Theory | null): SeriesDef[] {
  const rate = theory?.lines.filter((l) => l.key === 'rate').map((l) => ({ value: l.mbit, label: l.label, color: '#24292f' })) ?? [];
  const windowPackets = (theory?.arms ?? [])
    .filter((a) => theory!.bdpBytes === null || a.windowShare * a.ends.rmem.value[2] < theory!.bdpBytes)
    .map((a) => ({ value: (a.windowShare * a.ends.rmem.value[2]) / theory!.mss, label: `receive window (${a.arm})`, color: '#0969da' }));
  const goodputRefs = (theory?.lines ?? []).map((l) => ({
    value: l.mbit,
    label: l.label,
    color: l.key === 'rate' ? '#24292f' : l.key === 'response' ? '#8250df' : '#0969da',
  }));
  return [
    {
      // frames arriving at the receiver's interfaces: cannot outrun the bottleneck
      key: 'wire_rx',
      tKey: 'wire_t',
      group: 'goodput',
      title: 'goodput over time: arrivals at the receiver (rx counters)',
      yLabel: 'Mbit/s',
      refs: goodputRefs,
    },
    {
      // in-order bytes the iperf3 server read: a retransmission filling a hole releases a burst
      key: 'rx_goodput',
      tKey: 'rx_t',
      group: 'goodput',
      title: 'goodput over time: read by the receiver (iperf3 server)',
      yLabel: 'Mbit/s',
      refs: goodputRefs,
    },
    {
      // runs before the receiver-side series: iperf3's client intervals count bytes written into the
      // socket buffer, which burst far above the link rate
      key: 'goodput',
      group: 'goodput',
      title: 'sender write rate (iperf3 client intervals, not goodput)',
      yLabel: 'Mbit/s',
      refs: rate,
    },
    {
      key: 'rtt',
      title: 'RTT over time',
      yLabel: 'ms',
      refs: theory
        ? [
            { value: theory.rttMs, label: 'base RTT', color: '#24292f' },
            ...(theory.maxQueueDelayMs !== null
              ? [{ value: theory.rttMs + theory.maxQueueDelayMs, label: 'base + full buffer', color: '#8250df' }]
              : []),
          ]
        : [],
    },
    {
      key: 'cwnd',
      title: 'cwnd over time',
      yLabel: 'packets',
      refs: [
        ...(theory?.bdpPackets != null
          ? [
              { value: theory.bdpPackets, label: 'BDP', color: '#24292f' },
              ...(theory.bufferBytes !== null
                ? [{ value: theory.bdpPackets + theory.bufferBytes / theory.mss, label: 'BDP + buffer', color: '#8250df' }]
                : []),
            ]
          : []),
        ...windowPackets,
      ],
    },
    {
      key: 'ss_delivery',
      tKey: 'ss_t',
      title: 'delivery rate over time (ss -tin, sender)',
      yLabel: 'Mbit/s',
      refs: rate,
    },
    {
      key: 'ss_pacing',
      tKey: 'ss_t',
      title: 'pacing rate over time (ss -tin, sender)',
      yLabel: 'Mbit/s',
      refs: [],
    },
  ];
}
