/** Wording helpers for the judge's reasons (plain ASCII minus signs so they grep well). */
import type { MetricSpec } from '../results/types.js';

/** "+4.2 %", "-10.3 %", "+0.05 %" (two decimals below 1 %). */
export function pct(v: number): string {
  const a = Math.abs(v);
  const s = a < 1 && a > 0 ? a.toFixed(2) : a.toFixed(1);
  if (Number(s) === 0) return '0 %';
  return `${v > 0 ? '+' : '-'}${s} %`;
}

/** A number in metric units with 3 significant digits and its sign. */
export function units(v: number, unit: string): string {
  const s = Number(v.toPrecision(3)).toString();
  return `${v > 0 ? '+' : ''}${s}${unit ? ` ${unit}` : ''}`;
}

/** p-value for text: 3 significant digits, "< 1e-12" below that. */
export function pval(p: number): string {
  if (p < 1e-12) return '< 1e-12';
  if (p < 0.001) return p.toExponential(1);
  return Number(p.toPrecision(2)).toString();
}

/** "90 %" for alpha = 0.05 (the two-sided (1 - 2α) interval). */
export function confText(alpha: number): string {
  return `${Number(((1 - 2 * alpha) * 100).toPrecision(4))} %`;
}

export function marginText(m: MetricSpec['margin'], unit: string): string {
  return m.kind === 'relative' ? `${Number((m.value * 100).toPrecision(4))} %` : `${m.value}${unit ? ` ${unit}` : ''}`;
}
