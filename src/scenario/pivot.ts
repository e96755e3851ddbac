/**
 * `report: { pivot: { rows, cols } }`: the names must be matrix dimensions of the file (or, in a
 * suite file, of at least one of its scenarios). A name is a matrix key as written
 * (`links.bottleneck.delay`) or its last part (`delay`) when no other dimension ends the same way.
 */
import type { ReportSettings } from './model.js';

export interface PivotProblem {
  /** field path under the file, e.g. ['report', 'pivot', 'rows', 0] */
  path: (string | number)[];
  message: string;
}

/** The full matrix key a pivot name stands for, or why it stands for none. */
function resolveName(name: string, dims: string[]): { key: string } | { error: string } {
  if (dims.includes(name)) return { key: name };
  const hits = dims.filter((d) => d.split('.').pop() === name);
  if (hits.length === 1) return { key: hits[0]! };
  if (hits.length > 1) return { error: `"${name}" is ambiguous: it ends ${hits.join(', ')}; write the full matrix key` };
  const known = dims.map((d) => (d.includes('.') ? `${d} (${d.split('.').pop()})` : d)).join(', ');
  return { error: `"${name}" is not a matrix dimension (the dimensions are: ${known})` };
}

/**
 * Check `report` against the dimension names and resolve its pivot names to full matrix keys.
 * `where` says whose dimensions they are, for the message ("this file", "this suite").
 */
export function resolveReport(
  report: ReportSettings | undefined,
  dims: string[],
  where: string,
): { report: ReportSettings | undefined; problems: PivotProblem[] } {
  const pivot = report?.pivot;
  if (!report || !pivot) return { report, problems: [] };
  const problems: PivotProblem[] = [];
  if (dims.length === 0) {
    problems.push({ path: ['report', 'pivot'], message: `a pivot needs matrix dimensions: ${where} has no matrix` });
    return { report: undefined, problems };
  }
  const used = new Map<string, string>();
  const out: { rows?: string[]; cols?: string[] } = {};
  for (const side of ['rows', 'cols'] as const) {
    const names = pivot[side];
    if (!names) continue;
    const keys: string[] = [];
    names.forEach((name, i) => {
      const r = resolveName(name, dims);
      if ('error' in r) {
        problems.push({ path: ['report', 'pivot', side, i], message: r.error });
        return;
      }
      const prev = used.get(r.key);
      if (prev !== undefined) {
        problems.push({ path: ['report', 'pivot', side, i], message: `dimension ${r.key} is already in report.pivot.${prev}` });
        return;
      }
      used.set(r.key, side);
      keys.push(r.key);
    });
    out[side] = keys;
  }
  return { report: { pivot: out }, problems };
}
