/**
 * sweep.csv: one row per scenario x metric of a matrix run, the matrix dimensions as columns with
 * their values as written in the matrix. RFC 4180 (CRLF line ends, fields with `,` `"` CR or LF
 * quoted, `"` doubled). Scenario names and dimension values are user input: a text cell that starts
 * with `=`, `+`, `-`, `@`, a tab or CR gets a leading apostrophe so no spreadsheet runs it as a
 * formula. Numbers netab computed are written as plain numbers (a negative effect stays -3.2).
 */
import type { RunManifest, Verdict } from '../results/types.js';
import { type ExpectedFn, sweepRows } from './sweep.js';

/** One CSV field: numbers as numbers, text guarded against formula injection and quoted when needed. */
export function csvField(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(Object.is(v, -0) ? 0 : v) : '';
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Round for the CSV: medians to 6 significant digits, percentages to 2 decimals. */
const sig = (v: number | null) => (v === null ? null : Number(v.toPrecision(6)));
const pct = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);

export const SWEEP_COLUMNS = [
  'metric',
  'unit',
  'direction',
  'control_median',
  'canary_median',
  'effect_pct',
  'ci_low_pct',
  'ci_high_pct',
  'verdict',
  'expected_pct',
];

/** sweep.csv's text, or null when no scenario of the run has matrix coordinates. */
export function renderSweepCsv(verdict: Verdict, manifest: RunManifest | null | undefined, expected?: ExpectedFn): string | null {
  const { dims, rows } = sweepRows(verdict, manifest, expected);
  if (rows.length === 0) return null;
  const lines = [['scenario', ...dims, ...SWEEP_COLUMNS].map(csvField).join(',')];
  for (const r of rows)
    lines.push(
      [
        r.scenario,
        ...dims.map((d) => (Object.hasOwn(r.coords, d) ? r.coords[d] : null)),
        r.metric,
        r.unit,
        r.direction,
        sig(r.controlMedian),
        sig(r.canaryMedian),
        pct(r.effectPct),
        pct(r.ciPct?.[0] ?? null),
        pct(r.ciPct?.[1] ?? null),
        r.verdict,
        pct(r.expectedPct),
      ]
        .map(csvField)
        .join(','),
    );
  return `${lines.join('\r\n')}\r\n`;
}
