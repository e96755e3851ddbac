/**
 * Where a scenario's problems are: YAML positions for field paths (in the scenario file, or the suite
 * file whose defaults set the value, or the matrix entry that produced it) and zod issues turned into
 * one friendly message per field.
 */
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import type { z } from 'zod/v4';
import type { InputProblem } from './errors.js';
import type { MatrixPoint } from './matrix.js';
import { MAX_PROBLEMS, nodePos, own, type YamlSource } from './source.js';

/** Where problems are located: the scenario file, and the suite file for values it defaulted. */
export interface Locator {
  loc: YamlSource;
  /** top-level keys filled from a suite's defaults, located there under `defaults.` */
  fromDefaults: Set<string>;
  suite?: YamlSource;
}

export function pos(loc: Pick<YamlSource, 'lc'>, node: Node | null | undefined): { line: number; col: number } {
  return nodePos(loc, node);
}

/** The deepest existing YAML node along path (so a missing key points at its parent map). */
export function nodeAt(loc: Pick<YamlSource, 'doc'>, path: (string | number)[]): Node | null {
  for (let n = path.length; n >= 0; n--) {
    const node = loc.doc.getIn(path.slice(0, n), true) as Node | undefined;
    if (node && (isScalar(node) || isMap(node) || isSeq(node))) return node;
  }
  return (loc.doc.contents as Node) ?? null;
}

function keyNodeAt(loc: Pick<YamlSource, 'doc'>, path: (string | number)[], key: string): Node | null {
  const parent = loc.doc.getIn(path, true) as Node | undefined;
  if (parent && isMap(parent)) {
    const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    if (pair && isScalar(pair.key)) return pair.key as Node;
  }
  return nodeAt(loc, path);
}

/** A problem at a field path (or at the key `key` under it), in the file that set the value. */
export function locate(l: Locator, path: (string | number)[], message: string, key?: string): InputProblem {
  const dotted = [...path, ...(key !== undefined ? [key] : [])].join('.');
  const inSuite = l.suite !== undefined && path.length > 0 && l.fromDefaults.has(String(path[0]));
  const src = inSuite ? l.suite! : l.loc;
  const p = inSuite ? ['defaults', ...path] : path;
  const node = key !== undefined ? keyNodeAt(src, p, key) : nodeAt(src, p);
  return {
    file: src.file,
    ...pos(src, node),
    path: dotted,
    message: inSuite ? `${message} (from the suite's defaults, for ${l.loc.file})` : message,
  };
}

/** Flatten zod issues; for unions, keep the branch that got furthest (the one matching the input's shape). */
export function flattenIssues(issues: z.core.$ZodIssue[], prefix: PropertyKey[] = []): Flat[] {
  const out: Flat[] = [];
  for (const is of issues) {
    const path = [...prefix, ...is.path];
    if (is.code === 'invalid_union' && 'errors' in is && is.errors.length > 0) {
      const branches = (is.errors as z.core.$ZodIssue[][]).map((b) => flattenIssues(b, path));
      // a branch whose only complaint is the value's type or literal did not match its shape at
      // all; one with complaints deeper inside matched the shape and says what is wrong in it
      const score = (b: { path: PropertyKey[]; message: string }[]) =>
        b.every((x) => x.path.length === path.length && /expected (string|object|number|boolean)/.test(x.message))
          ? 1000
          : b.every((x) => x.path.length === path.length)
            ? 500 + b.length
            : b.length;
      branches.sort((a, b) => score(a) - score(b));
      const best = branches[0]!;
      if (score(best) === 1000) {
        out.push({ path, message: unionShapeMessage(issues, is) });
      } else out.push(...best);
    } else if (is.code === 'unrecognized_keys') {
      for (const k of is.keys) out.push({ path: [...path, k], message: `unknown field "${k}"`, keys: [k] });
    } else {
      out.push({ path, message: friendly(is), code: is.code });
    }
  }
  return out;
}

type Flat = { path: PropertyKey[]; message: string; keys?: string[]; code?: string };

/**
 * One message per field: a unit parser's message beats the generic pattern message; a missing field
 * is "required", a present one of the wrong type says what it got.
 */
export function preferSpecific(issues: Flat[], raw: unknown): Flat[] {
  const byPath = new Map<string, Flat>();
  for (const f of issues) {
    const k = f.path.map(String).join('.') + (f.keys ? `#${f.keys[0]}` : '');
    let v: unknown = raw;
    for (const p of f.path) v = own(v, String(p));
    let msg = f.message;
    if (msg.startsWith('is required') && v !== undefined) {
      msg =
        typeof v === 'number' && /string/.test(msg)
          ? `needs a unit or a quoted value (got the bare number ${v})`
          : typeof v === 'number' && /\(int\)/.test(msg)
            ? `must be a whole number (got ${v})`
            : `has the wrong type (got ${short(v)})`;
    }
    const prev = byPath.get(k);
    if (!prev || (f.code === 'custom' && prev.code !== 'custom')) byPath.set(k, { ...f, message: msg });
  }
  return [...byPath.values()];
}

export function short(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function unionShapeMessage(_all: unknown, _is: z.core.$ZodIssue): string {
  return 'has the wrong shape: see `netab schema` for the accepted forms';
}

function friendly(is: z.core.$ZodIssue): string {
  if (is.code === 'invalid_type') {
    if ((is as { input?: unknown }).input === undefined) return `is required (${is.expected})`;
    return `expected ${is.expected}`;
  }
  if (is.code === 'invalid_value' && 'values' in is) return `must be one of ${(is.values as unknown[]).map(String).join(', ')}`;
  const got = (is as { input?: unknown }).input;
  const gotText = typeof got === 'number' ? ` (got ${got})` : '';
  if (is.code === 'too_big' && (is.origin === 'number' || is.origin === 'int'))
    return `must be ${is.inclusive ? 'at most' : 'less than'} ${String(is.maximum)}${gotText}`;
  if (is.code === 'too_small' && (is.origin === 'number' || is.origin === 'int'))
    return `must be ${is.inclusive ? 'at least' : 'more than'} ${String(is.minimum)}${gotText}`;
  if (is.code === 'too_big' && is.origin === 'string') return `at most ${String(is.maximum)} characters`;
  if (is.code === 'too_big' && is.origin === 'array') return `at most ${String(is.maximum)} entries`;
  if (is.code === 'too_small' && is.origin === 'array')
    return `needs at least ${String(is.minimum)} entr${Number(is.minimum) === 1 ? 'y' : 'ies'}`;
  return is.message;
}

/** Zod issues as one friendly message per field (also for suite defaults). */
export function describeIssues(issues: z.core.$ZodIssue[], raw: unknown): { path: (string | number)[]; message: string; key?: string }[] {
  return preferSpecific(flattenIssues(issues), raw).map((f) => ({
    path: f.path.map((p) => (typeof p === 'number' ? p : String(p))),
    message: f.message,
    key: f.keys?.[0],
  }));
}

/** Schema issues as located problems; only the first MAX_PROBLEMS + 1 are located, the others counted. */
export function schemaProblems(l: Locator, issues: z.core.$ZodIssue[], raw: unknown): { list: InputProblem[]; unlisted: number } {
  const flats = preferSpecific(flattenIssues(issues), raw);
  const list = flats.slice(0, MAX_PROBLEMS + 1).map((f) => {
    const path = f.path.map((p) => (typeof p === 'number' ? p : String(p)));
    return f.keys ? locate(l, path.slice(0, -1), f.message, f.keys[0]!) : locate(l, path, f.message);
  });
  return { list, unlisted: flats.length - list.length };
}

export function dedupe(problems: InputProblem[]): InputProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.file}:${p.line}:${p.col}:${p.path}:${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Locate a problem of an expanded matrix point: in the matrix entry that set it, else in the file. */
export function locateInPoint(l: Locator, point: MatrixPoint, path: string[], message: string): InputProblem {
  const dotted = path.join('.');
  const key = Object.keys(point.indices)
    .filter((k) => dotted === k || dotted.startsWith(k + '.') || k.startsWith(dotted + '.'))
    .sort((a, b) => b.length - a.length)[0];
  if (key !== undefined) {
    const node = nodeAt(l.loc, ['matrix', key, point.indices[key]!]);
    return {
      file: l.loc.file,
      ...pos(l.loc, node),
      path: dotted,
      message: `${message} (from matrix ${key} = ${short(point.params[key])})`,
    };
  }
  return locate(l, path, message);
}

export class ResolveError extends Error {
  constructor(
    public readonly path: string[],
    message: string,
  ) {
    super(message);
  }
}
