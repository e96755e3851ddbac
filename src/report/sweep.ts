/**
 * Sweep tables: the scenarios of a matrix (or of suite files whose matrices share dimension names)
 * read as one experiment. `sweepRows` gives sweep.csv its rows (one per scenario x metric, the
 * matrix coordinates as columns); `sweepPivots` gives report.html and summary.md a pivot of each
 * sweep's primary metric. Pure: reads only the manifest and the verdict (the run directory).
 *
 * Rows and columns of a pivot: `report.pivot` of the scenario file (else of the suite file) when set;
 * otherwise the last dimension is the columns and every other one a row header. When `report.pivot`
 * names both rows and cols and leaves dimensions out, there is one pivot per value of those.
 */
import type { ManifestScenario, MetricResult, RunManifest, ScenarioResult, Verdict } from '../results/types.js';
import { fmtSigned, metricScale, verdictStyle } from './format.js';

type DimValue = string | number | boolean;

/**
 * The theory hook: the expected effect of a scenario's metric in percent (oriented like the effect,
 * + = canary better), or null when theory has nothing to say. Shown next to the measured effect.
 */
export type ExpectedFn = (scenarioId: string, metric: string) => number | null;
const noExpectation: ExpectedFn = () => null;

export interface SweepRow {
  scenario: string;
  coords: Record<string, DimValue>;
  metric: string;
  unit: string;
  direction: string;
  controlMedian: number | null;
  canaryMedian: number | null;
  /** effect in percent, + = canary better (the report's orientation) */
  effectPct: number | null;
  ciPct: [number, number] | null;
  verdict: string;
  /** theory's expected effect in percent; null until a theory source is wired in */
  expectedPct: number | null;
}

interface Entry {
  id: string;
  name: string;
  params: Record<string, DimValue>;
  res: ScenarioResult | null;
  man: ManifestScenario | undefined;
}

/** Scenarios with matrix coordinates: the judged ones in verdict order, then those never judged. */
function entries(verdict: Verdict, manifest: RunManifest | null | undefined): Entry[] {
  const man = new Map((manifest?.scenarios ?? []).map((s) => [s.id, s]));
  const judged = new Set(verdict.scenarios.map((s) => s.id));
  const all: Entry[] = [
    ...verdict.scenarios.map((res) => ({
      id: res.id,
      name: res.name,
      params: res.params ?? man.get(res.id)?.params ?? {},
      res,
      man: man.get(res.id),
    })),
    ...(manifest?.scenarios ?? [])
      .filter((s) => !judged.has(s.id))
      .map((s) => ({ id: s.id, name: s.name, params: s.params ?? {}, res: null, man: s })),
  ];
  return all.filter((e) => Object.keys(e.params).length > 0);
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The effect and its interval in percent, + = canary better; linear-scale effects relative to |control median|. */
export function effectPercent(m: MetricResult, sc?: ManifestScenario): { est: number | null; ci: [number, number] | null } {
  const ciPct = m.ciPct && num(m.ciPct[0]) !== null && num(m.ciPct[1]) !== null ? ([m.ciPct[0], m.ciPct[1]] as [number, number]) : null;
  if (metricScale(m, sc) === 'linear') {
    const base = Math.abs(num(m.control?.median) ?? 0);
    const rel = (x: unknown) => (num(x) === null || base === 0 ? null : (100 * (x as number)) / base);
    const lo = rel(m.ci?.[0]);
    const hi = rel(m.ci?.[1]);
    return { est: num(m.effectPct) ?? rel(m.effect), ci: ciPct ?? (lo !== null && hi !== null ? [lo, hi] : null) };
  }
  const pct = (x: unknown) => (num(x) === null ? null : (Math.exp(x as number) - 1) * 100);
  const lo = pct(m.ci?.[0]);
  const hi = pct(m.ci?.[1]);
  return { est: num(m.effectPct) ?? pct(m.effect), ci: ciPct ?? (lo !== null && hi !== null ? [lo, hi] : null) };
}

const unjudgedVerdict = (e: Entry) => (e.man?.status === 'failed' ? 'ERROR' : 'NOT_JUDGED');

/** sweep.csv's content: the dimension names (matrix keys, first-seen order) and one row per scenario x metric. */
export function sweepRows(
  verdict: Verdict,
  manifest: RunManifest | null | undefined,
  expected: ExpectedFn = noExpectation,
): { dims: string[]; rows: SweepRow[] } {
  const es = entries(verdict, manifest);
  const dims: string[] = [];
  for (const e of es) for (const k of Object.keys(e.params)) if (!dims.includes(k)) dims.push(k);
  const rows: SweepRow[] = [];
  for (const e of es) {
    if (!e.res) {
      const primary = e.man?.judge?.primary ?? '';
      const spec = e.man?.judge?.metrics?.find((m) => m.name === primary);
      rows.push({
        scenario: e.id,
        coords: e.params,
        metric: primary,
        unit: spec?.unit ?? '',
        direction: spec?.direction ?? '',
        controlMedian: null,
        canaryMedian: null,
        effectPct: null,
        ciPct: null,
        verdict: unjudgedVerdict(e),
        expectedPct: expected(e.id, primary),
      });
      continue;
    }
    for (const m of e.res.metrics ?? []) {
      const p = effectPercent(m, e.man);
      rows.push({
        scenario: e.id,
        coords: e.params,
        metric: m.name,
        unit: m.unit ?? '',
        direction: m.direction ?? '',
        controlMedian: num(m.control?.median),
        canaryMedian: num(m.canary?.median),
        effectPct: p.est,
        ciPct: p.ci,
        verdict: m.verdict,
        expectedPct: expected(e.id, m.name),
      });
    }
  }
  return { dims, rows };
}

export interface PivotCell {
  empty: boolean;
  text: string;
  interval: string;
  cls: string;
  symbol: string;
  emoji: string;
  verdict: string;
  title: string;
  /** "theory +5.0 %" when the theory hook gives a value */
  expected: string | null;
}

/** Most cells one pivot draws: coordinates that are not a product (suite files with their own values) can make R x C explode. */
export const MAX_PIVOT_CELLS = 2500;

export interface Pivot {
  metric: string;
  unit: string;
  arrow: string;
  /** the dimensions held fixed in this pivot ("rate=5mbit"), '' when every dimension is a row or column */
  fixed: string;
  rowDims: { key: string; label: string }[];
  colDims: { key: string; label: string }[];
  /** column headers: `label=value` per column dimension, or the metric name when there is none */
  cols: string[];
  rows: { heads: string[]; cells: PivotCell[] }[];
  /** set instead of `rows` when rows x columns exceed MAX_PIVOT_CELLS: how many cells it would have */
  tooBig: number | null;
}

interface Dim {
  key: string;
  label: string;
  of: (e: Entry) => string;
}

/** Entries grouped by their set of dimension names (suite files sharing dimensions form one sweep). */
function groups(es: Entry[]): Entry[][] {
  const by = new Map<string, Entry[]>();
  for (const e of es) {
    const sig = JSON.stringify(Object.keys(e.params).sort());
    let g = by.get(sig);
    if (!g) by.set(sig, (g = []));
    g.push(e);
  }
  return [...by.values()];
}

/** A group's dimensions; when two scenarios share coordinates (two suite files), the scenario is one more. */
function groupDims(g: Entry[]): Dim[] {
  const keys = Object.keys(g[0]!.params);
  const last = keys.map((k) => k.split('.').pop()!);
  const dims: Dim[] = keys.map((k, i) => ({
    key: k,
    label: last.filter((l) => l === last[i]).length === 1 ? last[i]! : k,
    of: (e: Entry) => String(e.params[k]),
  }));
  const unique = (f: (e: Entry) => string) => new Set(g.map(f)).size === g.length;
  const coords = (e: Entry) => JSON.stringify(dims.map((d) => d.of(e)));
  if (unique(coords)) return dims;
  const byName = unique((e) => `${e.name}\0${coords(e)}`);
  return [{ key: 'scenario', label: 'scenario', of: (e) => (byName ? e.name : e.id) }, ...dims];
}

/** Rows, columns and fixed dimensions from `report.pivot` (names outside this sweep are ignored) or the default. */
function layout(dims: Dim[], pivot: { rows?: string[]; cols?: string[] } | undefined): { rows: Dim[]; cols: Dim[]; fixed: Dim[] } {
  const pick = (names: string[] | undefined) =>
    (names ?? []).map((n) => dims.find((d) => d.key === n)).filter((d): d is Dim => d !== undefined);
  const rows = pick(pivot?.rows);
  const cols = pick(pivot?.cols).filter((d) => !rows.includes(d));
  const rest = dims.filter((d) => !rows.includes(d) && !cols.includes(d));
  if (rows.length && cols.length) return { rows, cols, fixed: rest };
  if (rows.length) return { rows, cols: rest, fixed: [] };
  if (cols.length) return { rows: rest, cols, fixed: [] };
  if (dims.length === 1) return { rows: dims, cols: [], fixed: [] };
  return { rows: dims.slice(0, -1), cols: dims.slice(-1), fixed: [] };
}

/** Distinct value tuples of `ds` over `es`, in first-seen (matrix) order. */
function tuples(es: Entry[], ds: Dim[]): string[][] {
  const seen = new Map<string, string[]>();
  for (const e of es) {
    const t = ds.map((d) => d.of(e));
    const k = JSON.stringify(t);
    if (!seen.has(k)) seen.set(k, t);
  }
  return [...seen.values()];
}

function cell(e: Entry | undefined, primary: string, minus: string, expected: ExpectedFn): PivotCell {
  const blank = { empty: true, text: '', interval: '', cls: 'v-none', symbol: '', emoji: '', verdict: '', title: '', expected: null };
  if (!e) return { ...blank, text: '—', title: 'no scenario at these coordinates' };
  const exp = expected(e.id, primary);
  const expText = exp === null ? null : `theory ${fmtSigned(exp, 1, minus)} %`;
  const m = e.res?.metrics.find((x) => x.name === primary);
  if (!e.res || !m) {
    const v = e.res ? 'NODATA' : unjudgedVerdict(e);
    const st = verdictStyle(v === 'NOT_JUDGED' ? undefined : v);
    return {
      ...blank,
      empty: false,
      text: v.replace('_', ' '),
      cls: st.cls,
      symbol: st.symbol,
      emoji: st.emoji,
      verdict: v,
      title: `${e.id}: ${primary} ${v}`,
      expected: expText,
    };
  }
  const p = effectPercent(m, e.man);
  const st = verdictStyle(m.verdict);
  const text = p.est === null ? m.verdict : `${fmtSigned(p.est, 1, minus)} %`;
  const interval = p.ci ? `[${fmtSigned(p.ci[0], 1, minus)}, ${fmtSigned(p.ci[1], 1, minus)}]` : '';
  return {
    empty: false,
    text,
    interval,
    cls: st.cls,
    symbol: st.symbol,
    emoji: st.emoji,
    verdict: m.verdict,
    title: `${e.id}: ${primary} ${m.verdict}${interval ? ` ${text} ${interval}` : ''}`,
    expected: expText,
  };
}

/**
 * One pivot per sweep (and per value of the dimensions `report.pivot` leaves out): the primary
 * metric's effect in percent with its interval, per row and column value. `minus` lets HTML use
 * the typographic minus.
 */
export function sweepPivots(
  verdict: Verdict,
  manifest: RunManifest | null | undefined,
  opts: { minus?: string; expected?: ExpectedFn } = {},
): Pivot[] {
  const minus = opts.minus ?? '-';
  const expected = opts.expected ?? noExpectation;
  const out: Pivot[] = [];
  for (const g of groups(entries(verdict, manifest))) {
    const dims = groupDims(g);
    const pivot = g.find((e) => e.man?.report?.pivot)?.man?.report?.pivot ?? manifest?.suite?.report?.pivot;
    const { rows, cols, fixed } = layout(dims, pivot);
    const primary = g[0]!.man?.judge?.primary ?? g[0]!.res?.metrics[0]?.name ?? '';
    const spec =
      g.flatMap((e) => e.res?.metrics ?? []).find((m) => m.name === primary) ?? g[0]!.man?.judge?.metrics?.find((m) => m.name === primary);
    const colKeys = tuples(g, cols);
    for (const fv of tuples(g, fixed)) {
      const members = g.filter((e) => fixed.every((d, i) => d.of(e) === fv[i]));
      const at = new Map(members.map((e) => [JSON.stringify([rows.map((d) => d.of(e)), cols.map((d) => d.of(e))]), e]));
      const rowKeys = tuples(members, rows);
      const size = rowKeys.length * Math.max(1, colKeys.length);
      out.push({
        metric: primary,
        unit: spec?.unit ?? '',
        arrow: spec?.direction === 'lower' ? '↓' : '↑',
        fixed: fixed.map((d, i) => `${d.label}=${fv[i]}`).join(', '),
        // every dimension a column: one row, headed by the metric
        rowDims: rows.length ? rows.map(({ key, label }) => ({ key, label })) : [{ key: 'metric', label: 'metric' }],
        colDims: cols.map(({ key, label }) => ({ key, label })),
        cols: cols.length ? colKeys.map((t) => t.map((v, i) => `${cols[i]!.label}=${v}`).join(', ')) : [primary],
        rows:
          size > MAX_PIVOT_CELLS
            ? []
            : rowKeys.map((rt) => ({
                heads: rows.length ? rt : [primary],
                cells: colKeys.map((ct) => cell(at.get(JSON.stringify([rt, ct])), primary, minus, expected)),
              })),
        tooBig: size > MAX_PIVOT_CELLS ? size : null,
      });
    }
  }
  return out;
}
