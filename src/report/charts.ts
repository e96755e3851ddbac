/**
 * Static SVG charts rendered in Node at report time. Scales, ticks and paths come from d3-scale,
 * d3-shape and d3-array (pure modules, no DOM); this file only lays out marks, with the building
 * blocks (axes, text, legends) from svg.ts.
 * Every label that can carry user text goes through escXml. Output is deterministic (seeded jitter),
 * so re-rendering a run gives the same file.
 */
import { ascending, max, min } from 'd3-array';
import { scaleLinear, scaleLog, type ScaleLinear, type ScaleLogarithmic } from 'd3-scale';
import { area, line } from 'd3-shape';
import { uniformAt } from '../stats/random.js';
import { quantileSorted } from '../stats/quantile.js';
import { escXml, fmtNum } from './format.js';
import {
  clip,
  dots,
  emptyChart,
  FONT,
  legend,
  linearDomainOf,
  logXAxis,
  r1,
  sortedValues,
  svgOpen,
  text,
  xAxis,
  yAxis,
  type ChartOpts,
} from './svg.js';

export const ARM_COLORS = { control: '#4c78a8', canary: '#e4761b' } as const;

/** Pick m values from sorted ascending data at evenly spaced quantiles: keeps the shape, drops the bulk. */
function quantileSample(sorted: ArrayLike<number>, m: number): number[] {
  if (sorted.length <= m) return Array.from(sorted);
  const out: number[] = [];
  for (let i = 0; i < m; i++) out.push(sorted[Math.round((i * (sorted.length - 1)) / (m - 1))]!);
  return out;
}

// ---------------------------------------------------------------------------------------------
// distribution (box + jittered strip) per arm

export interface DistArm {
  label: string;
  color: string;
  values: ArrayLike<number>;
  /** optional per-value hover labels (same order as values), used only for small n */
  labels?: string[];
}

export function distributionChart(arms: DistArm[], opts: ChartOpts & { unit: string }): string {
  const W = opts.width ?? 460;
  const maxPts = opts.maxPoints ?? 300;
  const left = 92,
    right = 14,
    top = 32,
    rowH = 50,
    bottom = 38;
  const H = top + rowH * arms.length + bottom;
  if (arms.every((a) => a.values.length === 0)) return emptyChart(W, 90, opts.title, 'no per-trial values');
  const x = scaleLinear()
    .domain(linearDomainOf(arms.map((a) => a.values)))
    .nice()
    .range([left, W - right]);
  let s = svgOpen(W, H, opts.title);
  s += xAxis(x, top + rowH * arms.length, top, 5, opts.unit);
  let sampledNote = '';
  arms.forEach((a, ai) => {
    const cy = top + rowH * ai + rowH / 2;
    // the index order only for hover labels (small runs); otherwise a typed sort of the values
    const titled = a.values.length <= maxPts && !!a.labels && opts.pointTitles !== false;
    const values = titled ? Array.from(a.values) : [];
    const idx = titled ? values.map((_, i) => i).sort((i, j) => ascending(values[i], values[j])) : [];
    const sorted = titled ? idx.map((i) => values[i]!) : sortedValues(a.values);
    s += text(left - 8, cy - 2, clip(a.label, 14), 'text-anchor="end" class="arm-label"');
    s += text(left - 8, cy + FONT, `n=${sorted.length}`, 'text-anchor="end" class="muted"');
    if (sorted.length === 0) {
      s += text(left + 6, cy + 4, 'no data', 'class="muted"');
      return;
    }
    const q1 = quantileSorted(sorted, 0.25),
      med = quantileSorted(sorted, 0.5),
      q3 = quantileSorted(sorted, 0.75);
    const iqr = q3 - q1;
    let lo = sorted[0]!;
    for (let k = 0; k < sorted.length; k++)
      if (sorted[k]! >= q1 - 1.5 * iqr) {
        lo = sorted[k]!;
        break;
      }
    let hi = sorted[sorted.length - 1]!;
    for (let k = sorted.length - 1; k >= 0; k--)
      if (sorted[k]! <= q3 + 1.5 * iqr) {
        hi = sorted[k]!;
        break;
      }
    const bh = rowH * 0.55;
    // whiskers + box
    s += `<g stroke="${a.color}" stroke-width="1.2" fill="none">`;
    s += `<line x1="${r1(x(lo))}" x2="${r1(x(q1))}" y1="${r1(cy)}" y2="${r1(cy)}"/><line x1="${r1(x(q3))}" x2="${r1(x(hi))}" y1="${r1(cy)}" y2="${r1(cy)}"/>`;
    s += `<line x1="${r1(x(lo))}" x2="${r1(x(lo))}" y1="${r1(cy - bh / 4)}" y2="${r1(cy + bh / 4)}"/><line x1="${r1(x(hi))}" x2="${r1(x(hi))}" y1="${r1(cy - bh / 4)}" y2="${r1(cy + bh / 4)}"/>`;
    s += `<rect x="${r1(x(q1))}" y="${r1(cy - bh / 2)}" width="${r1(Math.max(1, x(q3) - x(q1)))}" height="${r1(bh)}" fill="${a.color}" fill-opacity="0.10"/>`;
    s += `</g>`;
    // points (sampled at quantiles when many)
    const many = sorted.length > maxPts;
    const pts = many ? quantileSample(sorted, maxPts) : Array.from(sorted);
    if (many) sampledNote = `${maxPts} points per arm shown (quantile sample); box and n use all`;
    const jit = (i: number) => cy + (uniformAt(i * 7919 + ai * 104729) - 0.5) * bh * 0.9;
    if (!many && a.labels && opts.pointTitles !== false) {
      // small runs: real circles with a hover label (trial id and value)
      s += `<g fill="${a.color}" fill-opacity="0.6">`;
      pts.forEach((v, i) => {
        s += `<circle cx="${r1(x(v))}" cy="${r1(jit(i))}" r="2.6"><title>${escXml(a.labels![idx[i]!] ?? '')}</title></circle>`;
      });
      s += `</g>`;
    } else {
      s += dots(
        pts.map((v, i) => [x(v), jit(i)]),
        a.color,
        many ? 2 : 2.6,
        many ? 0.35 : 0.6,
      );
    }
    s += `<line x1="${r1(x(med))}" x2="${r1(x(med))}" y1="${r1(cy - bh / 2)}" y2="${r1(cy + bh / 2)}" stroke="${a.color}" stroke-width="3"><title>median ${escXml(fmtNum(med))}</title></line>`;
  });
  s += text(8, 13, clip(opts.title, Math.floor((W - 16) / 6.6)), 'class="chart-title"');
  if (sampledNote) s += text(W - right, 27, sampledNote, 'text-anchor="end" class="muted small"');
  return s + `</svg>`;
}

// ---------------------------------------------------------------------------------------------
// per-trial values in run order (drift)

export interface OrderPoint {
  x: number;
  y: number;
  warmup?: boolean;
  /** suspect or otherwise excluded from the judged sample */
  excluded?: boolean;
}

/** Flags of an OrderColumns point. */
export const WARMUP = 1;
export const EXCLUDED = 2;

/** Points as columns (what the report builds for big runs: no object per point). */
export interface OrderColumns {
  x: Float64Array;
  y: Float64Array;
  /** WARMUP | EXCLUDED bits per point, 0 for a judged point */
  flags: Uint8Array;
}

export interface OrderSeries {
  label: string;
  color: string;
  points: readonly OrderPoint[] | OrderColumns;
}

function columnsOf(points: readonly OrderPoint[] | OrderColumns): OrderColumns {
  if (!Array.isArray(points)) return points as OrderColumns;
  const ps = points as readonly OrderPoint[];
  return {
    x: Float64Array.from(ps, (p) => p.x),
    y: Float64Array.from(ps, (p) => p.y),
    flags: Uint8Array.from(ps, (p) => (p.warmup ? WARMUP : 0) | (p.excluded ? EXCLUDED : 0)),
  };
}

/**
 * Point indices in x order, as a stable sort by x gives them: points already in that order (the
 * usual case, trials in pair order) are one ascending run, which the sort leaves as it is.
 */
function byX(c: OrderColumns): Int32Array {
  const idx = new Int32Array(c.x.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  for (let i = 1; i < c.x.length; i++) if (c.x[i]! - c.x[i - 1]! < 0) return idx.sort((a, b) => c.x[a]! - c.x[b]!);
  return idx;
}

/** The indices whose flags are set (or clear), in order (a loop: a typed array's filter is slow). */
function withFlags(idx: Int32Array, flags: Uint8Array, set: boolean): Int32Array {
  let n = 0;
  for (let k = 0; k < idx.length; k++) if ((flags[idx[k]!] !== 0) === set) n++;
  const out = new Int32Array(n);
  n = 0;
  for (let k = 0; k < idx.length; k++) if ((flags[idx[k]!] !== 0) === set) out[n++] = idx[k]!;
  return out;
}

// Long by design: one SVG built top to bottom (scales, axes, series, legend).
export function runOrderChart(series: OrderSeries[], opts: ChartOpts & { unit: string; xLabel?: string }): string {
  const W = opts.width ?? 460;
  const maxPts = opts.maxPoints ?? 300;
  const left = 56,
    right = 14,
    top = 52,
    bottom = 38,
    H = 222;
  const cols = series.map((s) => columnsOf(s.points));
  if (cols.every((c) => c.x.length === 0)) return emptyChart(W, 90, opts.title, 'no per-trial values');
  const x = scaleLinear()
    .domain(linearDomainOf(cols.map((c) => c.x)))
    .range([left, W - right]);
  const y = scaleLinear()
    .domain(
      linearDomainOf(
        cols.map((c) => c.y),
        { pad: 0.05 },
      ),
    )
    .nice()
    .range([H - bottom, top]);
  let s = svgOpen(W, H, opts.title);
  s += yAxis(y, left, W - right, 5);
  s += xAxis(x, H - bottom, top, 6, opts.xLabel ?? 'pair (run order)', (v) => (Number.isInteger(v) ? String(v) : ''));
  let binned = false;
  series.forEach((ser, si) => {
    const c = cols[si]!;
    const X = c.x;
    const Y = c.y;
    const pts = byX(c);
    const main = withFlags(pts, c.flags, false);
    if (main.length > maxPts) {
      binned = true;
      const nb = Math.max(10, Math.floor(maxPts / 3));
      const [x0, x1] = x.domain() as [number, number];
      const w = (x1 - x0) / nb || 1;
      // each bin's values in run order, in a typed array of its size
      const binOf = (i: number) => Math.min(nb - 1, Math.floor((X[i]! - x0) / w));
      const sizes = new Int32Array(nb);
      for (let k = 0; k < main.length; k++) sizes[binOf(main[k]!)]!++;
      const bins = Array.from(sizes, (n) => new Float64Array(n));
      const filled = new Int32Array(nb);
      for (let k = 0; k < main.length; k++) {
        const i = main[k]!;
        const b = binOf(i);
        bins[b]![filled[b]!++] = Y[i]!;
      }
      const rows = bins
        .map((b, i) => {
          if (!b.length) return null;
          const q = sortedValues(b);
          return { x: x0 + w * (i + 0.5), lo: quantileSorted(q, 0.1), med: quantileSorted(q, 0.5), hi: quantileSorted(q, 0.9) };
        })
        .filter((r): r is { x: number; lo: number; med: number; hi: number } => r !== null);
      const band = area<(typeof rows)[number]>()
        .x((d) => x(d.x))
        .y0((d) => y(d.lo))
        .y1((d) => y(d.hi))
        .digits(1)(rows);
      const mid = line<(typeof rows)[number]>()
        .x((d) => x(d.x))
        .y((d) => y(d.med))
        .digits(1)(rows);
      s += `<path d="${band}" fill="${ser.color}" fill-opacity="0.18"/>`;
      s += `<path d="${mid}" fill="none" stroke="${ser.color}" stroke-width="1.6"/>`;
    } else {
      const few = Array.from(main);
      const path = line<number>()
        .x((i) => x(X[i]!))
        .y((i) => y(Y[i]!))
        .digits(1)(few);
      if (path) s += `<path d="${path}" fill="none" stroke="${ser.color}" stroke-width="1" stroke-opacity="0.55"/>`;
      s += dots(
        few.map((i) => [x(X[i]!), y(Y[i]!)]),
        ser.color,
        2.4,
      );
    }
    const other = withFlags(pts, c.flags, true);
    if (other.length && other.length <= maxPts) {
      s += `<g fill="#fff" stroke="${ser.color}" stroke-width="1.2">`;
      for (const i of other)
        s +=
          opts.pointTitles === false
            ? `<circle cx="${r1(x(X[i]!))}" cy="${r1(y(Y[i]!))}" r="2.6"/>`
            : `<circle cx="${r1(x(X[i]!))}" cy="${r1(y(Y[i]!))}" r="2.6"><title>${c.flags[i]! & WARMUP ? 'warm-up' : 'excluded'} pair ${X[i]}: ${escXml(fmtNum(Y[i]!))}</title></circle>`;
      s += `</g>`;
    }
  });
  const items: { label: string; color: string; hollow?: boolean }[] = series.map((s) => ({ label: s.label, color: s.color }));
  if (cols.some((c) => c.flags.some((f) => f !== 0))) items.push({ label: 'warm-up / excluded', color: '#57606a', hollow: true });
  s += text(8, 13, clip(opts.title, Math.floor((W - 16) / 6.6)), 'class="chart-title"');
  s += legend(items, left, 30);
  if (binned) s += text(W - right, 44, 'binned: median and 10–90 % band', 'text-anchor="end" class="muted small"');
  s += text(left - 4, top - 10, opts.unit, 'text-anchor="end" class="muted small"');
  return s + `</svg>`;
}

// ---------------------------------------------------------------------------------------------
// forest plot: effect with interval against the margin

export interface Bar {
  label: string;
  value: number;
  color: string;
  /** theory bars are drawn hollow, measured solid */
  theory?: boolean;
  /** optional whisker (e.g. IQR of the measured value) */
  lo?: number;
  hi?: number;
}

export function barChart(bars: Bar[], opts: ChartOpts & { unit: string }): string {
  const W = opts.width ?? 460;
  const left = 130,
    right = 70,
    top = 24,
    rowH = 24,
    bottom = 36;
  const H = top + rowH * Math.max(1, bars.length) + bottom;
  if (!bars.length) return emptyChart(W, 90, opts.title, 'nothing to compare');
  const hiV = max(bars, (b) => Math.max(b.value, b.hi ?? 0)) || 1;
  const pos = bars.map((b) => Math.min(b.value, b.lo ?? b.value)).filter((v) => v > 0);
  const loV = min(pos) ?? hiV;
  // values spanning more than ~20x would squash the small ones: switch to a log axis with lollipops
  const useLog = loV > 0 && hiV / loV > 20;
  const x = useLog
    ? scaleLog()
        .domain([loV / 1.6, hiV * 1.3])
        .range([left, W - right])
    : scaleLinear()
        .domain([0, hiV])
        .nice()
        .range([left, W - right]);
  let s = svgOpen(W, H, opts.title);
  s += useLog
    ? logXAxis(x as ScaleLogarithmic<number, number>, top + rowH * bars.length, top, `${opts.unit} (log scale)`)
    : xAxis(x as ScaleLinear<number, number>, top + rowH * bars.length, top, 5, opts.unit);
  bars.forEach((b, i) => {
    const y0 = top + rowH * i + 4;
    const h = rowH - 8;
    const cy = y0 + h / 2;
    s += text(left - 8, cy + 4, clip(b.label, 20), 'text-anchor="end"');
    const vx = x(Math.max(b.value, useLog ? loV / 1.6 : 0));
    if (useLog) {
      s += `<line x1="${left}" x2="${r1(vx)}" y1="${r1(cy)}" y2="${r1(cy)}" stroke="${b.color}" stroke-width="2"${b.theory ? ' stroke-dasharray="4 2"' : ''}/>`;
      s += b.theory
        ? `<circle cx="${r1(vx)}" cy="${r1(cy)}" r="5" fill="#fff" stroke="${b.color}" stroke-width="2"/>`
        : `<circle cx="${r1(vx)}" cy="${r1(cy)}" r="5.5" fill="${b.color}"/>`;
    } else {
      const w = Math.max(1, vx - left);
      s += b.theory
        ? `<rect x="${left}" y="${r1(y0)}" width="${r1(w)}" height="${h}" fill="${b.color}" fill-opacity="0.12" stroke="${b.color}" stroke-width="1.2" stroke-dasharray="4 2"/>`
        : `<rect x="${left}" y="${r1(y0)}" width="${r1(w)}" height="${h}" fill="${b.color}" fill-opacity="0.85"/>`;
    }
    if (b.lo !== undefined && b.hi !== undefined && (!useLog || b.lo > 0))
      s += `<line x1="${r1(x(b.lo))}" x2="${r1(x(b.hi))}" y1="${r1(cy)}" y2="${r1(cy)}" stroke="#24292f" stroke-width="1.2"/>`;
    s += text(vx + 8, cy + 4, fmtNum(b.value), 'class="value"');
  });
  s += text(8, 14, clip(opts.title, Math.floor((W - 16) / 6.6)), 'class="chart-title"');
  return s + `</svg>`;
}
