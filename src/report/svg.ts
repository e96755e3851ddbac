/**
 * SVG building blocks for the report's charts: text, axes, legends, dots, empty charts. Strings
 * only (no DOM); every label goes through escXml. Numbers are written with one decimal (r1).
 */
import type { ScaleLinear, ScaleLogarithmic } from 'd3-scale';
import { ascending } from 'd3-array';
import { escXml, fmtNum } from './format.js';

export const r1 = (v: number) => Math.round(v * 10) / 10;
export const FONT = 11;

export function svgOpen(w: number, h: number, title: string, cls = 'chart'): string {
  return `<svg class="${cls}" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img">` + `<title>${escXml(title)}</title>`;
}

export function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${r1(x)}" y="${r1(y)}"${attrs ? ' ' + attrs : ''}>${escXml(s)}</text>`;
}

/** Fit a label into roughly `maxChars`, keeping the start. */
export function clip(s: string, maxChars: number): string {
  return s.length <= maxChars ? s : s.slice(0, Math.max(1, maxChars - 1)) + '…';
}

export function linearDomain(values: readonly number[], opts: { includeZero?: boolean; pad?: number } = {}): [number, number] {
  return linearDomainOf([values], opts);
}

/**
 * linearDomain of the values of several lists taken in order, without building the concatenation:
 * the first finite value, then any strictly smaller (larger) one, as d3's min and max of the
 * finite values.
 */
export function linearDomainOf(
  parts: ReadonlyArray<ArrayLike<number>>,
  opts: { includeZero?: boolean; pad?: number } = {},
): [number, number] {
  let lo: number | undefined;
  let hi: number | undefined;
  for (const part of parts)
    for (let i = 0; i < part.length; i++) {
      const v = part[i]!;
      if (!Number.isFinite(v)) continue;
      if (lo === undefined || lo > v) lo = v;
      if (hi === undefined || hi < v) hi = v;
    }
  return padDomain(lo ?? 0, hi ?? 1, opts);
}

function padDomain(lo: number, hi: number, opts: { includeZero?: boolean; pad?: number }): [number, number] {
  if (opts.includeZero) {
    lo = Math.min(lo, 0);
    hi = Math.max(hi, 0);
  }
  if (lo === hi) {
    const d = Math.abs(lo) * 0.05 || 1;
    lo -= d;
    hi += d;
  } else if (opts.pad) {
    const d = (hi - lo) * opts.pad;
    lo -= d;
    hi += d;
  }
  return [lo, hi];
}

export function xAxis(
  x: ScaleLinear<number, number>,
  y: number,
  top: number,
  count: number,
  label?: string,
  fmt?: (v: number) => string,
): string {
  const ticks = x.ticks(count);
  const f = fmt ?? x.tickFormat(count);
  return axisX(
    ticks.map((t) => [x(t), f(t)]),
    x.range() as [number, number],
    y,
    top,
    label,
  );
}

/** Vertical grid + tick marks as two paths, labels as text: compact for reports with hundreds of charts. */
function axisX(ticks: [number, string][], range: [number, number], y: number, top: number, label?: string): string {
  let grid = '',
    marks = '',
    labels = '';
  for (const [px0, lab] of ticks) {
    const px = r1(px0);
    grid += `M${px} ${r1(top)}V${r1(y)}`;
    marks += `M${px} ${r1(y)}v4`;
    if (lab) labels += text(px, y + 4 + FONT, lab, 'text-anchor="middle"');
  }
  const [a, b] = range;
  let s = `<g class="axis"><path class="grid" d="${grid}"/><path d="${marks}M${r1(a)} ${r1(y)}H${r1(b)}"/>${labels}`;
  if (label) s += text((a + b) / 2, y + 8 + FONT * 2, label, 'text-anchor="middle" class="axis-label"');
  return s + `</g>`;
}

export function yAxis(y: ScaleLinear<number, number>, x: number, right: number, count: number, label?: string): string {
  const ticks = y.ticks(count);
  const f = y.tickFormat(count);
  let grid = '',
    labels = '';
  for (const t of ticks) {
    const py = r1(y(t));
    grid += `M${r1(x)} ${py}H${r1(right)}`;
    labels += text(x - 4, py + FONT / 3, f(t), 'text-anchor="end"');
  }
  const [a, b] = y.range() as [number, number];
  let s = `<g class="axis"><path class="grid" d="${grid}"/><path d="M${r1(x)} ${r1(a)}V${r1(b)}"/>${labels}`;
  if (label)
    s += text(
      4,
      (a + b) / 2,
      label,
      `class="axis-label" text-anchor="middle" transform="rotate(-90 ${r1(4 + FONT / 2)} ${r1((a + b) / 2)})" dy="${FONT / 2}"`,
    );
  return s + `</g>`;
}

/** Many dots as one path of zero-length round-capped segments (about a third of the bytes of circles). */
export function dots(pts: [number, number][], color: string, r: number, opacity = 1): string {
  if (!pts.length) return '';
  let d = '';
  for (const [x, y] of pts) d += `M${r1(x)} ${r1(y)}h0`;
  return `<path d="${d}" fill="none" stroke="${color}" stroke-width="${r * 2}" stroke-linecap="round"${opacity < 1 ? ` stroke-opacity="${opacity}"` : ''}/>`;
}

export function legend(items: { label: string; color: string; dash?: boolean; hollow?: boolean }[], x: number, y: number): string {
  let s = `<g class="legend">`;
  let cx = x;
  for (const it of items) {
    if (it.dash)
      s += `<line x1="${r1(cx)}" x2="${r1(cx + 14)}" y1="${r1(y - 3)}" y2="${r1(y - 3)}" stroke="${it.color}" stroke-width="2" stroke-dasharray="4 2"/>`;
    else if (it.hollow) s += `<circle cx="${r1(cx + 5)}" cy="${r1(y - 3)}" r="3.5" fill="#fff" stroke="${it.color}" stroke-width="1.5"/>`;
    else s += `<rect x="${r1(cx)}" y="${r1(y - 8)}" width="10" height="10" rx="2" fill="${it.color}"/>`;
    const lab = clip(it.label, 28);
    s += text(cx + (it.dash ? 18 : 14), y + 1, lab);
    cx += (it.dash ? 18 : 14) + lab.length * 6.2 + 12;
  }
  return s + `</g>`;
}

export interface ChartOpts {
  title: string;
  width?: number;
  /** cap on drawn points per arm/series before sampling or binning kicks in */
  maxPoints?: number;
  /** per-point hover labels (small runs only; they cost ~100 bytes a point) */
  pointTitles?: boolean;
}

export function logXAxis(x: ScaleLogarithmic<number, number>, y: number, top: number, label: string): string {
  // 1-2-5 ticks per decade
  const [d0, d1] = x.domain() as [number, number];
  const ticks: [number, string][] = [];
  for (let e = Math.floor(Math.log10(d0)); e <= Math.ceil(Math.log10(d1)); e++)
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= d0 && v <= d1) ticks.push([x(v), fmtNum(v)]);
    }
  return axisX(ticks, x.range() as [number, number], y, top, label);
}

export function emptyChart(W: number, H: number, title: string, msg: string): string {
  return svgOpen(W, H, title) + text(W / 2, H / 2, msg, 'text-anchor="middle" class="muted"') + `</svg>`;
}

/** Numbers sorted ascending as a stable comparator sort gives them: a typed sort, unless a -0 is there to keep in place. */
export function sortedNumbers(values: ArrayLike<number>): number[] {
  const s = sortedValues(values);
  if (Array.isArray(s)) return s;
  const out = new Array<number>(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s[i]!;
  return out;
}

/** sortedNumbers, left in a typed array when it was sorted as one (for readers that only index it). */
export function sortedValues(values: ArrayLike<number>): number[] | Float64Array {
  let negZero = false;
  for (let i = 0; i < values.length; i++) if (values[i] === 0 && Object.is(values[i], -0)) negZero = true;
  if (negZero) return Array.from(values).sort(ascending);
  return Float64Array.from(values).sort();
}
