/**
 * The time-series chart of the report (per-trial lines of each arm over a run's time axis, with
 * reference lines and the links' schedule bands behind them), and armLines, the one builder of
 * an arm's per-trial overlay lines. Static SVG like charts.ts, with the building blocks from svg.ts.
 */
import { extent, max } from 'd3-array';
import { scaleLinear } from 'd3-scale';
import { line } from 'd3-shape';
import { fmtNum } from './format.js';
import { overlayBack, overlayRate, OVERLAY_COLORS, type ScheduleOverlay } from './schedule-svg.js';
import { ARM_COLORS } from './charts.js';
import { clip, emptyChart, legend, r1, svgOpen, text, xAxis, yAxis, type ChartOpts } from './svg.js';

export interface LineSeries {
  label: string;
  color: string;
  points: [number, number][];
  opacity?: number;
  width?: number;
  /** draw in the legend (only one per arm) */
  legend?: boolean;
}

/** One overlaid line per trial of an arm, labelled with the arm's trial count, the legend on the first. */
export function armLines<T>(
  arm: keyof typeof ARM_COLORS,
  trials: T[],
  opacity: number,
  points: (t: T) => [number, number][],
): LineSeries[] {
  const label = `${arm} (${trials.length} trial${trials.length === 1 ? '' : 's'})`;
  return trials.map((t, i) => ({ label, color: ARM_COLORS[arm], points: points(t), opacity, legend: i === 0 }));
}

export interface RefLine {
  value: number;
  label: string;
  color: string;
}

/** Keep at most m points of a series by stride, always keeping the last one. */
function strideSample<T>(pts: T[], m: number): T[] {
  if (pts.length <= m) return pts;
  const step = pts.length / m;
  const out: T[] = [];
  for (let i = 0; i < m; i++) out.push(pts[Math.floor(i * step)]!);
  out[out.length - 1] = pts[pts.length - 1]!;
  return out;
}

export function timeSeriesChart(
  series: LineSeries[],
  refs: RefLine[],
  opts: ChartOpts & { yLabel: string; xLabel?: string; schedule?: ScheduleOverlay | null },
): string {
  const W = opts.width ?? 460;
  const maxPts = opts.maxPoints ?? 240;
  const left = 56,
    right = 14,
    top = 52,
    bottom = 38,
    H = 232;
  const pts = series.flatMap((s) => s.points);
  if (pts.length === 0) return emptyChart(W, 90, opts.title, 'no series data');
  const xs = extent(pts, (p) => p[0]) as [number, number];
  const dataMax = max(pts, (p) => p[1]) ?? 1;
  // a reference far above the data (100 Mbit/s link, 2 Mbit/s loss-bound flow) would flatten the lines:
  // keep it off the plot and name it in the corner instead
  const onScale = refs.filter((r) => r.value <= Math.max(dataMax, 1e-9) * 2.5);
  const offScale = refs.filter((r) => !onScale.includes(r));
  refs = onScale;
  // the scheduled rate sets the scale unless it is far above the data (then it is clamped to the top)
  const sched = opts.schedule ?? null;
  const rateMax = max(sched?.rate?.points ?? [], (p) => p[1]) ?? 0;
  const yMax = max([dataMax, ...refs.map((r) => r.value), rateMax <= Math.max(dataMax, 1e-9) * 2.5 ? rateMax : 0]) ?? 1;
  const x = scaleLinear()
    .domain(xs[0] === xs[1] ? [xs[0], xs[0] + 1] : xs)
    .range([left, W - right]);
  const y = scaleLinear()
    .domain([0, (yMax || 1) * 1.08])
    .nice()
    .range([H - bottom, top]);
  let s = svgOpen(W, H, opts.title);
  s += yAxis(y, left, W - right, 5);
  s += xAxis(x, H - bottom, top, 6, opts.xLabel ?? 'time in trial (s)');
  if (sched) s += overlayBack(sched, x, top, H - bottom);
  for (const ser of series) {
    const d = line<[number, number]>()
      .defined((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]))
      .x((p) => x(p[0]))
      .y((p) => y(p[1]))
      .digits(1)(strideSample(ser.points, maxPts));
    if (d)
      s += `<path d="${d}" fill="none" stroke="${ser.color}" stroke-width="${ser.width ?? 1.2}" stroke-opacity="${ser.opacity ?? 0.8}"/>`;
  }
  for (const r of refs) {
    const py = r1(y(r.value));
    s += `<line x1="${left}" x2="${W - right}" y1="${py}" y2="${py}" stroke="${r.color}" stroke-width="1.5" stroke-dasharray="6 3"/>`;
    s += text(W - right - 2, py - 3, `${r.label} ${fmtNum(r.value)}`, `text-anchor="end" class="ref-label" style="fill:${r.color}"`);
  }
  if (sched) s += overlayRate(sched, x, y);
  const items: { label: string; color: string; dash?: boolean }[] = series
    .filter((s) => s.legend)
    .map((s) => ({ label: s.label, color: s.color }));
  if (sched?.rate?.points.length) items.push({ label: sched.rate.label, color: OVERLAY_COLORS.rate, dash: true });
  s += text(8, 13, clip(opts.title, Math.floor((W - 16) / 6.6)), 'class="chart-title"');
  s += legend(items, left, 30);
  s += text(left - 4, top - 10, opts.yLabel, 'text-anchor="end" class="muted small"');
  if (offScale.length)
    s += text(
      W - right,
      top - 10,
      `off scale: ${offScale.map((r) => `${r.label} ${fmtNum(r.value)}`).join(', ')}`,
      'text-anchor="end" class="muted small"',
    );
  return s + `</svg>`;
}

// ---------------------------------------------------------------------------------------------
// theory vs measured (horizontal bars)
