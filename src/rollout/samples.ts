/**
 * Production samples for `netab gate` from files: one file per arm, CSV or JSONL (by extension:
 * .csv, otherwise JSON lines). One row = one sample = one host over one interval. Format (docs/rollout.md):
 *   CSV:   a header row; columns host (required), t (optional: ISO time or epoch seconds), status
 *          (optional: ok | failed), and one column per metric (numbers; empty = no value)
 *   JSONL: {"host": "web-1", "t": "2025-01-01T12:00:00Z", "status": "ok", "metrics": {"retrans": 0.004}}
 *          (numeric top-level fields other than t count as metrics when there is no "metrics" object)
 */
import { readFileSync } from 'node:fs';
import { InputError, type InputProblem } from '../errors.js';

export interface Sample {
  host: string;
  /** epoch seconds, when known (orders samples for the drift gate) */
  t: number | null;
  status: 'ok' | 'failed';
  metrics: Record<string, number | null>;
}

function parseT(v: unknown): number | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : NaN;
  const s = String(v).trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? NaN : ms / 1000;
}

/** Split one CSV line (RFC 4180 quotes). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

export function parseSamples(text: string, file: string, format: 'csv' | 'jsonl'): Sample[] {
  const problems: InputProblem[] = [];
  const out: Sample[] = [];
  const lines = text.split(/\r?\n/);
  const bad = (line: number, path: string, message: string) => problems.push({ file, line, col: 1, path, message });
  const status = (v: unknown, line: number): 'ok' | 'failed' => {
    if (v === undefined || v === null || v === '' || v === 'ok') return 'ok';
    if (v === 'failed') return 'failed';
    bad(line, 'status', `must be ok or failed (got ${JSON.stringify(v)})`);
    return 'ok';
  };
  if (format === 'csv') {
    const first = lines.findIndex((l) => l.trim() !== '');
    if (first < 0) throw new InputError([{ file, path: '', message: 'empty file: no samples' }]);
    const head = csvFields(lines[first]!);
    if (!head.includes('host')) bad(first + 1, 'host', 'the header needs a host column');
    const metricCols = head.filter((h) => !['host', 't', 'status'].includes(h));
    if (!metricCols.length) bad(first + 1, '', 'the header names no metric column');
    for (let i = first + 1; i < lines.length; i++) {
      if (lines[i]!.trim() === '') continue;
      const f = csvFields(lines[i]!);
      if (f.length !== head.length) {
        bad(i + 1, '', `${f.length} fields, the header has ${head.length}`);
        continue;
      }
      const row = Object.fromEntries(head.map((h, j) => [h, f[j]!]));
      const metrics: Record<string, number | null> = {};
      for (const m of metricCols) {
        const v = row[m]!;
        if (v === '' || /^(nan|null)$/i.test(v)) metrics[m] = null;
        else if (!Number.isFinite(Number(v))) bad(i + 1, m, `not a number: ${JSON.stringify(v)}`);
        else metrics[m] = Number(v);
      }
      const t = parseT(row.t);
      if (Number.isNaN(t)) bad(i + 1, 't', `not a time: ${JSON.stringify(row.t)}`);
      if (!row.host) bad(i + 1, 'host', 'empty host');
      out.push({ host: row.host ?? '', t: Number.isNaN(t) ? null : t, status: status(row.status, i + 1), metrics });
    }
  } else {
    lines.forEach((l, i) => {
      if (l.trim() === '') return;
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(l) as Record<string, unknown>;
      } catch (e) {
        bad(i + 1, '', `not valid JSON (${(e as Error).message})`);
        return;
      }
      if (!o || typeof o !== 'object' || Array.isArray(o)) {
        bad(i + 1, '', 'a sample must be a JSON object');
        return;
      }
      const metrics: Record<string, number | null> = {};
      const src =
        o.metrics && typeof o.metrics === 'object'
          ? (o.metrics as Record<string, unknown>)
          : Object.fromEntries(Object.entries(o).filter(([k]) => !['host', 't', 'status'].includes(k)));
      for (const [k, v] of Object.entries(src)) {
        if (v === null) metrics[k] = null;
        else if (typeof v === 'number' && Number.isFinite(v)) metrics[k] = v;
        else bad(i + 1, `metrics.${k}`, `not a number: ${JSON.stringify(v)}`);
      }
      const t = parseT(o.t);
      if (Number.isNaN(t)) bad(i + 1, 't', `not a time: ${JSON.stringify(o.t)}`);
      if (typeof o.host !== 'string' || !o.host) bad(i + 1, 'host', 'needs a host (string)');
      out.push({ host: String(o.host ?? ''), t: Number.isNaN(t) ? null : t, status: status(o.status, i + 1), metrics });
    });
  }
  if (problems.length) throw new InputError(problems);
  if (!out.length) throw new InputError([{ file, path: '', message: 'no samples in the file' }]);
  return out;
}

export function readSamples(file: string): Sample[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError([{ file, path: '', message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }]);
  }
  return parseSamples(text, file, /\.csv$/i.test(file) ? 'csv' : 'jsonl');
}
