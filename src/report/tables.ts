/**
 * Small view-model pieces shared by the report's HTML view: verdict styles, key/value rows and
 * tables for structured values (fidelity, readback, judge settings), metric column headers.
 * Text stays raw (Handlebars escapes it).
 */
import type { ManifestScenario, MetricResult } from '../results/types.js';
import { fmtNum, verdictStyle } from './format.js';

export const MINUS = '−';

type Cell = { text: string; cls?: string; title?: string };

export interface KvRow {
  key: string;
  value: string;
}

export interface TableView {
  head: string[];
  rows: { cells: Cell[]; cls?: string }[];
}

export function style(v: string | undefined) {
  const s = verdictStyle(v);
  return { text: v ?? 'NOT JUDGED', cls: s.cls, symbol: s.symbol };
}

export function metricHeader(m: Pick<MetricResult, 'name' | 'unit' | 'direction' | 'critical'>) {
  return {
    name: m.name,
    unit: m.unit,
    arrow: m.direction === 'lower' ? '↓' : '↑',
    dirText: m.direction === 'lower' ? 'lower is better' : 'higher is better',
    critical: m.critical,
  };
}

// ------------------------------------------------------------------------------------------------
// generic structured-value rendering (fidelity, readback, judge settings)

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function scalarText(v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') return fmtNum(v, 4);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object')) return v.map(scalarText).join(', ');
  return JSON.stringify(v);
}

/** Flatten nested objects to dotted keys (arrays of scalars stay one value). Bounded depth and size. */
function flatten(v: unknown, prefix = '', out: KvRow[] = [], depth = 0): KvRow[] {
  if (out.length > 500) return out;
  if (isPlainObject(v) && depth < 6) {
    const entries = Object.entries(v);
    if (!entries.length && prefix) out.push({ key: prefix, value: '{}' });
    for (const [k, x] of entries) flatten(x, prefix ? `${prefix}.${k}` : k, out, depth + 1);
  } else if (Array.isArray(v) && v.some((x) => typeof x === 'object' && x !== null) && depth < 6) {
    v.forEach((x, i) => {
      flatten(x, `${prefix}[${i}]`, out, depth + 1);
    });
  } else {
    out.push({ key: prefix || '(value)', value: scalarText(v) });
  }
  return out;
}

/**
 * Readback as a table. When the top level is a map of objects (per arm, or per host) it is pivoted:
 * one row per setting, one column per top-level key, rows that differ highlighted.
 */
export function readbackTable(v: unknown): TableView | null {
  if (v === undefined || v === null) return null;
  if (isPlainObject(v)) {
    const keys = Object.keys(v);
    if (keys.length >= 1 && keys.every((k) => isPlainObject(v[k]))) {
      const cols = keys.map((k) => new Map(flatten(v[k]).map((r) => [r.key, r.value])));
      const rowKeys: string[] = [];
      const seen = new Set<string>();
      for (const c of cols)
        for (const k of c.keys())
          if (!seen.has(k)) {
            seen.add(k);
            rowKeys.push(k);
          }
      return {
        head: ['setting', ...keys],
        rows: rowKeys.map((rk) => {
          const vals = cols.map((c) => c.get(rk) ?? '–');
          const differs = keys.length > 1 && new Set(vals).size > 1;
          return {
            cells: [{ text: rk, cls: 'mono' }, ...vals.map((t) => ({ text: t, cls: 'mono' }))],
            cls: differs ? 'differs' : undefined,
          };
        }),
      };
    }
  }
  const rows = flatten(v);
  return {
    head: ['setting', 'value'],
    rows: rows.map((r) => ({
      cells: [
        { text: r.key, cls: 'mono' },
        { text: r.value, cls: 'mono' },
      ],
    })),
  };
}

/** Fidelity: a checks table when it has `checks: {metric, configured, measured, tolerance, ok}[]`, plus key/value for the rest. */
export function fidelityView(v: unknown): { checks: TableView | null; kv: KvRow[]; allOk: boolean | null } | null {
  if (v === undefined || v === null) return null;
  let checks: TableView | null = null;
  let allOk: boolean | null = null;
  let rest: unknown = v;
  if (isPlainObject(v) && Array.isArray(v.checks) && v.checks.every(isPlainObject)) {
    const list = v.checks as Record<string, unknown>[];
    allOk = list.every((c) => c.ok !== false);
    checks = {
      head: ['metric', 'configured', 'measured', 'tolerance', 'ok'],
      rows: list.map((c) => ({
        cells: [
          { text: scalarText(c.metric) },
          { text: scalarText(c.configured), cls: 'num' },
          { text: scalarText(c.measured), cls: 'num' },
          { text: scalarText(c.tolerance), cls: 'num' },
          c.ok === false
            ? { text: '✗ out of tolerance', cls: 'v-regressed' }
            : c.ok === true
              ? { text: '✓', cls: 'v-pass' }
              : { text: '–' },
        ],
      })),
    };
    const { checks: _drop, ...others } = v;
    rest = others;
  }
  const kv = isPlainObject(rest) && Object.keys(rest).length === 0 ? [] : flatten(rest);
  return { checks, kv, allOk };
}

export function judgeSettingsRows(judge: NonNullable<ManifestScenario['judge']>): KvRow[] {
  return [
    { key: 'alpha', value: scalarText(judge.alpha) },
    { key: 'min pairs', value: scalarText(judge.minPairs) },
    { key: 'primary metric', value: `${judge.primary}${judge.expectImprovement ? ' (must improve)' : ''}` },
    { key: 'non-critical regressions to fail', value: scalarText(judge.nonCriticalRegressionsToFail) },
    { key: 'max failed fraction', value: scalarText(judge.maxFailedFraction) },
    { key: 'exclude suspect trials', value: scalarText(judge.excludeSuspect) },
    ...(judge.driftAlpha !== undefined
      ? [{ key: 'drift gate level', value: judge.driftAlpha === 0 ? 'off' : scalarText(judge.driftAlpha) }]
      : []),
    {
      key: 'sequential',
      value:
        judge.sequential && judge.sequentialPlan
          ? `yes, ${judge.sequentialPlan.looks} looks every ${judge.sequentialPlan.pairsPerLook} pairs`
          : scalarText(judge.sequential),
    },
    ...(judge.metrics ?? []).map((s) => ({
      key: `metric ${s.name}`,
      value: `${s.unit}, ${s.direction} is better, ${s.scale} scale, margin ${s.margin?.kind === 'relative' ? `${fmtNum(s.margin.value * 100)} %` : `${fmtNum(s.margin?.value)} ${s.unit}`}${s.critical ? ', critical' : ''}${s.required ? ', required' : ''}`,
    })),
  ];
}
