/**
 * Shared formatting for all three report files: numbers, effects, escaping, verdict styling.
 * Everything user-provided (scenario names, params, reasons, metric names) goes through one of the
 * escapers here before it reaches HTML, SVG, XML or Markdown.
 */
import type { Decision, ManifestScenario, MetricResult } from '../results/types.js';

/** Escape text for HTML/SVG/XML content and attribute values. Also drops characters XML forbids. */
export function escXml(value: unknown): string {
  return stripInvalidXml(String(value ?? '')).replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;',
  );
}

/** Remove code points that are not allowed in XML 1.0 (C0 controls except tab/LF/CR, lone surrogates, U+FFFE/F). */
export function stripInvalidXml(s: string): string {
  return s.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
    /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    '',
  );
}

/**
 * Escape text for a GitHub-flavoured Markdown table cell or paragraph: no HTML, no table breaks,
 * no accidental emphasis/links/code, no line breaks.
 */
export function escMd(value: unknown): string {
  return stripInvalidXml(String(value ?? ''))
    .replace(/\r?\n|\r/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|~])/g, '\\$1');
}

/** A number with about 3 significant digits, no exponent for the usual range. */
export function fmtNum(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return v.toExponential(digits - 1);
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(a)));
  return v
    .toFixed(Math.min(decimals, 6))
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '');
}

/** Signed value; `minus` lets HTML use the typographic minus while XML/Markdown keep ASCII. */
export function fmtSigned(v: number, decimals: number, minus = '-'): string {
  const s = Math.abs(v).toFixed(decimals);
  if (Number(s) === 0) return (0).toFixed(decimals);
  return (v < 0 ? minus : '+') + s;
}

export function fmtBytes(b: number): string {
  if (!Number.isFinite(b)) return '–';
  if (b >= 1 << 20) return `${fmtNum(b / (1 << 20))} MiB`;
  if (b >= 1 << 10) return `${fmtNum(b / (1 << 10))} KiB`;
  return `${Math.round(b)} B`;
}

export type EffectKind = 'pct' | 'abs';

/** How an effect is displayed: percent (log-scale metrics) or metric units (linear-scale metrics). */
export interface EffectView {
  kind: EffectKind;
  /** oriented so positive = canary better */
  est: number | null;
  lo: number | null;
  hi: number | null;
  /** practical-significance margin in the same units as est (always >= 0), null if unknown */
  margin: number | null;
  /** the regression boundary (negative), from the judge's `threshold` when given, else -margin */
  lower: number | null;
  unit: string;
}

/** Resolve the metric's scale from the manifest's judge settings; fall back to the margin kind. */
export function metricScale(m: MetricResult, sc?: ManifestScenario): 'log' | 'linear' {
  if (m.scale === 'log' || m.scale === 'linear') return m.scale;
  const spec = sc?.judge?.metrics?.find((s) => s.name === m.name);
  if (spec?.scale) return spec.scale;
  return m.margin?.kind === 'absolute' ? 'linear' : 'log';
}

const pctOf = (x: number) => (Math.exp(x) - 1) * 100;

export function effectView(m: MetricResult, sc?: ManifestScenario): EffectView {
  const scale = metricScale(m, sc);
  if (scale === 'linear') {
    const margin = m.margin?.kind === 'absolute' ? Math.abs(m.margin.value) : null;
    const thr = num(m.threshold);
    return {
      kind: 'abs',
      est: num(m.effect),
      lo: num(m.ci?.[0]),
      hi: num(m.ci?.[1]),
      margin,
      lower: thr !== null && thr <= 0 ? thr : margin === null ? null : -margin,
      unit: m.unit ?? '',
    };
  }
  const est = num(m.effectPct) ?? (num(m.effect) === null ? null : pctOf(m.effect as number));
  const lo = num(m.ciPct?.[0]) ?? (num(m.ci?.[0]) === null ? null : pctOf(m.ci![0]));
  const hi = num(m.ciPct?.[1]) ?? (num(m.ci?.[1]) === null ? null : pctOf(m.ci![1]));
  const margin = m.margin?.kind === 'relative' ? Math.abs(m.margin.value) * 100 : null;
  const thr = num(m.threshold);
  const lower = thr !== null && thr <= 0 ? pctOf(thr) : margin === null ? null : -margin;
  return { kind: 'pct', est, lo, hi, margin, lower, unit: '%' };
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function decimalsFor(e: EffectView): number {
  if (e.kind === 'pct') return 1;
  const ref = Math.max(Math.abs(e.est ?? 0), Math.abs(e.lo ?? 0), Math.abs(e.hi ?? 0), e.margin ?? 0);
  if (ref === 0) return 2;
  return Math.min(6, Math.max(0, 2 - Math.floor(Math.log10(ref))));
}

/** "+3.2 %" or "-0.0012 ratio"; '–' when there is no estimate. */
export function fmtEffect(e: EffectView, minus = '-'): string {
  if (e.est === null) return '–';
  const d = decimalsFor(e);
  return `${fmtSigned(e.est, d, minus)}${e.kind === 'pct' ? ' %' : e.unit ? ` ${e.unit}` : ''}`;
}

/** "[-1.0, +4.2]" or '' when there is no interval. */
export function fmtInterval(e: EffectView, minus = '-'): string {
  if (e.lo === null || e.hi === null) return '';
  const d = decimalsFor(e);
  return `[${fmtSigned(e.lo, d, minus)}, ${fmtSigned(e.hi, d, minus)}]`;
}

export function fmtMargin(e: EffectView): string {
  if (e.margin === null) return '';
  const d = decimalsFor(e);
  return `±${e.margin.toFixed(d)}${e.kind === 'pct' ? ' %' : e.unit ? ` ${e.unit}` : ''}`;
}

export interface VerdictStyle {
  cls: string;
  symbol: string;
  emoji: string;
  /** cell background */
  fill: string;
  /** text on `fill` */
  text: string;
  /** mark colour in charts (readable on white) */
  ink: string;
}

const STYLES: Record<string, VerdictStyle> = {
  IMPROVED: { cls: 'v-improved', symbol: '▲', emoji: '🟢', fill: '#1a7f37', text: '#ffffff', ink: '#1a7f37' },
  PASS: { cls: 'v-pass', symbol: '✓', emoji: '✅', fill: '#d1f0d8', text: '#0f3d1c', ink: '#4a9d5b' },
  REGRESSED: { cls: 'v-regressed', symbol: '✗', emoji: '🔴', fill: '#cf222e', text: '#ffffff', ink: '#cf222e' },
  INCONCLUSIVE: { cls: 'v-inconclusive', symbol: '?', emoji: '🟡', fill: '#fbe6a2', text: '#4d3800', ink: '#b07d00' },
  NODATA: { cls: 'v-nodata', symbol: '∅', emoji: '⚪', fill: '#e8eaed', text: '#424a53', ink: '#8c959f' },
  ERROR: { cls: 'v-error', symbol: '!', emoji: '🟣', fill: '#6639ba', text: '#ffffff', ink: '#6639ba' },
  'NOT JUDGED': { cls: 'v-nodata', symbol: '–', emoji: '⚪', fill: '#e8eaed', text: '#424a53', ink: '#8c959f' },
};

export function verdictStyle(v: string | undefined): VerdictStyle {
  return STYLES[v ?? ''] ?? STYLES['NOT JUDGED']!;
}

export interface DecisionView {
  word: string;
  headline: string;
  cls: string;
  emoji: string;
  exitCode: number;
}

export function decisionView(d: Decision | string): DecisionView {
  switch (d) {
    case 'promote':
      return { word: 'PROMOTE', headline: 'Promote: the canary tuning is safe to roll out', cls: 'd-promote', emoji: '✅', exitCode: 0 };
    case 'rollback':
      return { word: 'ROLL BACK', headline: 'Roll back: the canary tuning made things worse', cls: 'd-rollback', emoji: '❌', exitCode: 1 };
    case 'hold':
      return { word: 'HOLD', headline: 'Hold: the evidence does not settle it yet', cls: 'd-hold', emoji: '⏸️', exitCode: 4 };
    default:
      return { word: String(d).toUpperCase(), headline: `Decision: ${String(d)}`, cls: 'd-hold', emoji: '❔', exitCode: 4 };
  }
}

/** The one-sentence decision: headline plus the rule(s) that fired. */
export function decisionSentence(d: Decision | string, reasons: string[] | undefined): string {
  const v = decisionView(d);
  // the rule that fired is the first reason (the judge states it first); the rest are listed below it
  const first = (reasons ?? [])
    .map((s) =>
      String(s)
        .trim()
        .replace(/^(PROMOTE|HOLD|ROLLBACK|ROLL BACK)\s*:\s*/i, '')
        .replace(/[.\s]+$/, ''),
    )
    .find(Boolean);
  return first ? `${v.headline}, because ${first.charAt(0).toLowerCase()}${first.slice(1)}.` : `${v.headline}.`;
}

/** Scenario label with its matrix point: `grid (delay=20ms, loss=1%)`. */
export function paramsText(params: Record<string, unknown> | undefined): string {
  const e = Object.entries(params ?? {});
  return e.map(([k, v]) => `${k}=${String(v)}`).join(', ');
}

/** POSIX-shell quoting for the re-run command. */
export function shellQuote(argv: string[]): string {
  return argv.map((a) => (a !== '' && /^[A-Za-z0-9_\-+=/.,:@%^]+$/.test(a) ? a : `'${String(a).replace(/'/g, `'\\''`)}'`)).join(' ');
}
