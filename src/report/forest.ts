/** The forest plot: one row per metric, the effect and its interval against the margin band. */
import { scaleLinear } from 'd3-scale';
import { clip, linearDomain, r1, svgOpen, text, xAxis, type ChartOpts } from './svg.js';

export interface ForestRow {
  label: string;
  est: number | null;
  lo: number | null;
  hi: number | null;
  margin: number | null;
  /** regression boundary (negative); defaults to -margin */
  lower?: number | null;
  color: string;
  valueText: string;
}

export function forestPlot(rows: ForestRow[], opts: ChartOpts & { unit: string; axisLabel: string }): string {
  const W = opts.width ?? 620;
  const left = 150,
    right = 170,
    top = 26,
    rowH = 26,
    bottom = 40;
  const H = top + rowH * Math.max(1, rows.length) + bottom;
  const vals: number[] = [0];
  for (const r of rows) {
    for (const v of [r.est, r.lo, r.hi]) if (v !== null && Number.isFinite(v)) vals.push(v);
    if (r.margin !== null) vals.push(r.margin * 1.5, -r.margin * 1.5);
    if (r.lower !== undefined && r.lower !== null) vals.push(r.lower * 1.5);
  }
  const x = scaleLinear()
    .domain(linearDomain(vals, { includeZero: true, pad: 0.08 }))
    .nice()
    .range([left, W - right]);
  const yEnd = top + rowH * Math.max(1, rows.length);
  let s = svgOpen(W, H, opts.title, 'chart forest');
  // margin band: a shared margin when all rows agree, else per row
  const key = (r: ForestRow) => (r.margin === null ? null : `${r.lower ?? -r.margin}|${r.margin}`);
  const margins = [...new Set(rows.map(key).filter((k): k is string => k !== null))];
  const bandFor = (lo: number, hi: number, y0: number, y1: number) =>
    `<rect x="${r1(x(lo))}" y="${r1(y0)}" width="${r1(x(hi) - x(lo))}" height="${r1(y1 - y0)}" fill="#8c959f" fill-opacity="0.13"/>` +
    `<line x1="${r1(x(lo))}" x2="${r1(x(lo))}" y1="${r1(y0)}" y2="${r1(y1)}" stroke="#cf222e" stroke-dasharray="4 3" stroke-width="1"/>` +
    `<line x1="${r1(x(hi))}" x2="${r1(x(hi))}" y1="${r1(y0)}" y2="${r1(y1)}" stroke="#1a7f37" stroke-dasharray="4 3" stroke-width="1"/>`;
  const withMargin = rows.filter((r) => r.margin !== null);
  if (margins.length === 1 && withMargin.length === rows.length) {
    const r = withMargin[0]!;
    s += bandFor(r.lower ?? -r.margin!, r.margin!, top, yEnd);
  } else
    rows.forEach((r, i) => {
      if (r.margin !== null) s += bandFor(r.lower ?? -r.margin, r.margin, top + rowH * i + 2, top + rowH * (i + 1) - 2);
    });
  s += xAxis(x, yEnd, top, 6, opts.axisLabel);
  s += `<line x1="${r1(x(0))}" x2="${r1(x(0))}" y1="${r1(top - 4)}" y2="${r1(yEnd)}" stroke="#24292f" stroke-width="1.2"/>`;
  rows.forEach((r, i) => {
    const cy = top + rowH * i + rowH / 2;
    s += text(left - 8, cy + 4, clip(r.label, 22), 'text-anchor="end" class="arm-label"');
    s += text(W - right + 8, cy + 4, r.valueText, 'class="value"');
    if (r.est === null) {
      s += text(x(0) + 6, cy + 4, 'no estimate', 'class="muted"');
      return;
    }
    if (r.lo !== null && r.hi !== null) {
      s += `<g stroke="${r.color}" stroke-width="2"><line x1="${r1(x(r.lo))}" x2="${r1(x(r.hi))}" y1="${r1(cy)}" y2="${r1(cy)}"/>`;
      s += `<line x1="${r1(x(r.lo))}" x2="${r1(x(r.lo))}" y1="${r1(cy - 5)}" y2="${r1(cy + 5)}"/><line x1="${r1(x(r.hi))}" x2="${r1(x(r.hi))}" y1="${r1(cy - 5)}" y2="${r1(cy + 5)}"/></g>`;
    }
    const px = x(r.est);
    s += `<path d="M${r1(px)},${r1(cy - 6)}L${r1(px + 6)},${r1(cy)}L${r1(px)},${r1(cy + 6)}L${r1(px - 6)},${r1(cy)}Z" fill="${r.color}" stroke="#fff" stroke-width="1"/>`;
  });
  s += text(x(0), top - 8, '0', 'text-anchor="middle" class="muted small"');
  if (margins.length) {
    s += text(left, 12, '← canary worse', 'class="muted small"');
    s += text(W - right, 12, 'canary better →', 'text-anchor="end" class="muted small"');
    s += text(W - right + 8, 12, 'dashed: ± margin', 'class="muted small"');
  }
  return s + `</svg>`;
}

// ---------------------------------------------------------------------------------------------
// time series (goodput / RTT / cwnd over a trial) with theory reference lines
