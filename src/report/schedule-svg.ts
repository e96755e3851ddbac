/**
 * A link schedule drawn behind a time-series chart: outages and ramps as shaded bands, steps as
 * dotted marks, each labelled with what changed, and the scheduled rate as a step line. Strings
 * only; labels go through escXml (svg.ts text()).
 */
import type { ScaleLinear } from 'd3-scale';
import { escXml } from './format.js';
import { clip, r1, text } from './svg.js';

export interface ScheduleOverlay {
  /** [x0, x1) in the chart's x unit (s) */
  bands: { x0: number; x1: number; kind: 'outage' | 'ramp'; label: string }[];
  marks: { x: number; label: string }[];
  /** the scheduled rate as a step line, in the chart's y unit (drawn on Mbit/s charts only) */
  rate?: { label: string; points: [number, number][] };
}

export const OVERLAY_COLORS = { outage: '#cf222e', ramp: '#8250df', rate: '#24292f' } as const;

/** Bands and marks (behind the data): clipped to the x domain; labels in two rows at the top, skipped when crowded. */
export function overlayBack(o: ScheduleOverlay, x: ScaleLinear<number, number>, top: number, bottom: number): string {
  const [d0, d1] = x.domain() as [number, number];
  let s = '';
  const labels: { px: number; label: string; color: string }[] = [];
  for (const b of o.bands) {
    const a = Math.max(b.x0, d0),
      z = Math.min(b.x1, d1);
    if (z <= a) continue;
    const c = OVERLAY_COLORS[b.kind];
    s += `<rect x="${r1(x(a))}" y="${r1(top)}" width="${r1(Math.max(1, x(z) - x(a)))}" height="${r1(bottom - top)}" fill="${c}" fill-opacity="${b.kind === 'outage' ? 0.14 : 0.07}"><title>${escXml(b.label)}</title></rect>`;
    labels.push({ px: x(a), label: b.label, color: c });
  }
  let marks = '';
  for (const m of o.marks) {
    if (m.x < d0 || m.x > d1) continue;
    marks += `M${r1(x(m.x))} ${r1(top)}V${r1(bottom)}`;
    labels.push({ px: x(m.x), label: m.label, color: '#57606a' });
  }
  if (marks) s += `<path d="${marks}" stroke="#57606a" stroke-width="1" stroke-dasharray="2 2" fill="none"/>`;
  labels.sort((a, b) => a.px - b.px);
  const lastEnd = [-Infinity, -Infinity];
  for (const l of labels) {
    const lab = clip(l.label, 22);
    const w = lab.length * 5.6 + 6;
    const row = lastEnd.findIndex((e) => e <= l.px);
    if (row < 0) continue;
    s += text(l.px + 2, top + 9 + row * 10, lab, `class="sched-label" style="fill:${l.color}"`);
    lastEnd[row] = l.px + w;
  }
  return s;
}

/** The scheduled-rate step line (over the data), clamped to the plot. */
export function overlayRate(o: ScheduleOverlay, x: ScaleLinear<number, number>, y: ScaleLinear<number, number>): string {
  if (!o.rate?.points.length) return '';
  const [d0, d1] = x.domain() as [number, number];
  const [, yTop] = y.domain() as [number, number];
  let d = '';
  // clamped to the x domain: a step outside it collapses onto the edge
  for (const [px, py] of o.rate.points) d += `${d ? 'L' : 'M'}${r1(x(Math.min(d1, Math.max(d0, px))))} ${r1(y(Math.min(py, yTop)))}`;
  return d ? `<path d="${d}" fill="none" stroke="${OVERLAY_COLORS.rate}" stroke-width="1.6" stroke-dasharray="5 2"/>` : '';
}
