/**
 * Reading input files safely and turning their YAML into plain data, for scenario, suite and
 * topology files alike:
 *   - only regular files of at most 1 MB are read (a FIFO, a device or a directory is refused
 *     without blocking: the file is opened O_NONBLOCK and fstat'ed before any read);
 *   - the text must be UTF-8 and parse as one YAML document, duplicate keys refused (found in linear time);
 *   - the data is built from the YAML nodes into null-prototype objects, never through a prototype
 *     lookup: a key (or a segment of a dotted key) named __proto__, constructor or prototype is a
 *     located problem, as is a non-finite number, a non-scalar key, an alias bomb (more than
 *     MAX_ALIASES aliases or MAX_NODES values) or nesting deeper than MAX_DEPTH.
 * Every problem carries file, line and column.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { InputError, type InputProblem } from './errors.js';

/** largest scenario, suite or topology file read */
export const MAX_FILE_BYTES = 1024 * 1024;
/** aliases (*name) one file may use */
export const MAX_ALIASES = 100;
/** values (scalars, maps, lists) one file may expand to, aliases included */
export const MAX_NODES = 200_000;
/** nesting depth of maps and lists */
export const MAX_DEPTH = 64;
/** problems listed per error; the rest are counted */
export const MAX_PROBLEMS = 20;
/** keys (and dotted-path segments) that could reach an object's prototype */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function isForbiddenKey(k: string): boolean {
  return k.split('.').some((seg) => FORBIDDEN_KEYS.has(seg));
}

/** own-property read: never consults a prototype */
export function own(obj: unknown, key: string): unknown {
  return obj !== null && typeof obj === 'object' && Object.hasOwn(obj, key) ? (obj as Record<string, unknown>)[key] : undefined;
}

/** A deep copy of parsed data into null-prototype objects. */
export function cloneData<T>(v: T): T {
  if (Array.isArray(v)) return v.map((x) => cloneData(x)) as T;
  if (v !== null && typeof v === 'object') {
    const out = Object.create(null) as Record<string, unknown>;
    for (const k of Object.keys(v)) out[k] = cloneData((v as Record<string, unknown>)[k]);
    return out as T;
  }
  return v;
}

/**
 * Read a file given by the user: a regular file of at most 1 MB, UTF-8. Never blocks on a FIFO or a
 * device. Throws an InputError naming the file.
 */
export function readInputFile(file: string, what = 'file'): string {
  const fail = (message: string): never => {
    throw new InputError([{ file, path: '', message }]);
  };
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(
      code === 'ENOENT'
        ? `no such ${what}`
        : code === 'EACCES' || code === 'EPERM'
          ? `cannot read this ${what}: permission denied`
          : `cannot open this ${what} (${code ?? (e as Error).message})`,
    );
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) return fail(`is a directory, not a ${what}`);
    if (!st.isFile()) {
      const kind = st.isFIFO()
        ? 'a FIFO'
        : st.isCharacterDevice()
          ? 'a character device'
          : st.isBlockDevice()
            ? 'a block device'
            : st.isSocket()
              ? 'a socket'
              : 'not a regular file';
      return fail(`is ${kind}: a ${what} must be a regular file`);
    }
    if (st.size > MAX_FILE_BYTES) return fail(`is ${st.size} bytes: a ${what} may be at most ${MAX_FILE_BYTES} bytes (1 MiB)`);
    // read at most one byte more than allowed: a file that grows while read is still bounded
    const buf = Buffer.alloc(MAX_FILE_BYTES + 1);
    let n = 0;
    for (;;) {
      let r: number;
      try {
        r = readSync(fd, buf, n, buf.length - n, null);
      } catch (e) {
        return fail(`cannot read this ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      if (r === 0) break;
      n += r;
      if (n > MAX_FILE_BYTES) return fail(`is larger than ${MAX_FILE_BYTES} bytes (1 MiB), the most a ${what} may be`);
    }
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, n));
    } catch {
      return fail(`is not UTF-8 text (a ${what} is YAML)`);
    }
  } finally {
    closeSync(fd);
  }
}

export interface YamlSource {
  file: string;
  doc: Document;
  lc: LineCounter;
  /** the document as data (null-prototype objects); undefined when problems were found */
  data: unknown;
}

/** line and column of a node (1:1 when there is none: the file's start) */
export function nodePos(src: { lc: LineCounter }, node: Node | null | undefined): { line: number; col: number } {
  const r = node?.range;
  if (!r) return { line: 1, col: 1 };
  const p = src.lc.linePos(r[0]);
  return { line: p.line, col: p.col };
}

/**
 * Parse YAML text and convert it to data. YAML errors throw at once (located); data problems
 * (forbidden keys, bad numbers, alias limits) are returned so a caller can report them together
 * with schema problems. A key with a problem is left out of the data.
 */
// Long by design: one pass over the YAML nodes whose limits (aliases, depth, values) share closure state.
export function parseYaml(text: string, file: string): { src: YamlSource; problems: InputProblem[] } {
  const lc = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false });
  } catch (e) {
    // e.g. a stack overflow on absurd nesting
    throw new InputError([{ file, line: 1, col: 1, path: '', message: `YAML: cannot parse (${(e as Error).message.split('\n')[0]})` }]);
  }
  if (doc.errors.length > 0) {
    throw new InputError(
      capProblems(
        doc.errors.map((e) => {
          const p = lc.linePos(e.pos[0]);
          const m = e.message.split('\n')[0]!;
          return {
            file,
            line: p.line,
            col: p.col,
            path: '',
            message: /call stack/i.test(m) ? `YAML: nested too deeply to read (${m})` : `YAML: ${m}`,
          };
        }),
      ),
    );
  }
  const src: YamlSource = { file, doc, lc, data: undefined };
  // warnings (e.g. an unresolved tag like !!js/function, read as a plain string) are refused too:
  // what netab reads must be what the file says
  const problems: InputProblem[] = doc.warnings.slice(0, MAX_PROBLEMS + 1).map((w) => {
    const p = lc.linePos(w.pos[0]);
    return { file, line: p.line, col: p.col, path: '', message: `YAML: ${w.message.split('\n')[0]}` };
  });
  const st = { aliases: 0, nodes: 0, stop: false };
  /** maps and lists being converted (an alias to one of them would recurse forever) */
  const open = new Set<unknown>();
  const bad = (node: Node | null | undefined, path: string[], message: string) =>
    problems.push({ file, ...nodePos(src, node), path: path.length > 12 ? `${path.slice(0, 12).join('.')}...` : path.join('.'), message });

  const convert = (node: unknown, path: string[], depth: number): unknown => {
    if (st.stop) return undefined;
    if (++st.nodes > MAX_NODES) {
      bad(node as Node, path, `the file expands to more than ${MAX_NODES} values (aliases?): refused`);
      st.stop = true;
      return undefined;
    }
    if (depth > MAX_DEPTH) {
      bad(node as Node, path, `nested deeper than ${MAX_DEPTH} levels: refused`);
      st.stop = true;
      return undefined;
    }
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      if (++st.aliases > MAX_ALIASES) {
        bad(node, path, `more than ${MAX_ALIASES} aliases: refused (an alias bomb?)`);
        st.stop = true;
        return undefined;
      }
      const target = node.resolve(doc);
      if (!target) {
        bad(node, path, `alias *${node.source} refers to no anchor`);
        return undefined;
      }
      if (open.has(target)) {
        bad(node, path, `alias *${node.source} refers to a value that contains it`);
        return undefined;
      }
      return convert(target, path, depth + 1);
    }
    if (isScalar(node)) {
      const v = node.value;
      if (typeof v === 'number' && !Number.isFinite(v)) {
        bad(node, path, `${JSON.stringify(node.source ?? String(v))} is not a finite number`);
        return undefined;
      }
      if (typeof v === 'bigint') {
        bad(node, path, 'number too large');
        return undefined;
      }
      if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
      bad(node, path, `unsupported YAML value (${typeof v}): use a string, number, boolean, list or mapping`);
      return undefined;
    }
    if (isSeq(node)) {
      const out: unknown[] = [];
      open.add(node);
      node.items.forEach((it, i) => {
        const v = convert(it, [...path, String(i)], depth + 1);
        if (v !== undefined) out.push(v);
      });
      open.delete(node);
      return out;
    }
    if (isMap(node)) {
      const out = Object.create(null) as Record<string, unknown>;
      // duplicate keys are found here in linear time (the yaml library's uniqueKeys check is quadratic)
      const first = new Map<string, Node>();
      open.add(node);
      for (const pair of node.items) {
        if (st.stop) break;
        const kn = pair.key as Node | null;
        if (!isScalar(kn) || (typeof kn.value !== 'string' && typeof kn.value !== 'number')) {
          bad(kn ?? (pair.value as Node), path, 'a key must be a plain name or number (not a list, mapping, alias, null or boolean)');
          continue;
        }
        const key = String(kn.value);
        const dup = first.get(key);
        if (dup) {
          bad(kn, [...path, key], `duplicate key "${key}" (first at line ${nodePos(src, dup).line}): each key may appear once`);
          continue;
        }
        first.set(key, kn);
        if (isForbiddenKey(key)) {
          bad(
            kn,
            [...path, key],
            `"${key}" is not allowed as a key or path segment (__proto__, constructor and prototype are refused everywhere)`,
          );
          continue;
        }
        const v = convert(pair.value, [...path, key], depth + 1);
        if (v !== undefined) out[key] = v;
      }
      open.delete(node);
      return out;
    }
    bad(node as Node, path, 'unsupported YAML node');
    return undefined;
  };
  try {
    src.data = convert(doc.contents, [], 0);
  } catch (e) {
    if (e instanceof RangeError) {
      problems.push({ file, line: 1, col: 1, path: '', message: 'nested too deeply: refused' });
    } else throw e;
  }
  return { src, problems };
}

/** marks the summary line of a capped list (not enumerable: invisible in output and JSON) */
const OMITTED = Symbol('netab.omittedProblems');
type Summary = InputProblem & { [OMITTED]?: { count: number; atLeast: boolean; at: InputProblem } };

/**
 * At most MAX_PROBLEMS problems, in the order found; the rest are counted in one last line located
 * at the first problem left out. `unlisted` counts problems found but never located; `atLeast`
 * says checking stopped early, so the count is a lower bound. Capping a list that holds earlier
 * summaries (a suite's files) adds up their counts.
 */
export function capProblems(problems: InputProblem[], unlisted = 0, atLeast = false): InputProblem[] {
  let extra = unlisted;
  let lower = atLeast;
  let firstOmitted: InputProblem | undefined;
  const real: InputProblem[] = [];
  for (const p of problems) {
    const o = (p as Summary)[OMITTED];
    if (o) {
      extra += o.count;
      lower ||= o.atLeast;
      firstOmitted ??= o.at;
    } else real.push(p);
  }
  const total = real.length + extra;
  if (total <= MAX_PROBLEMS && !lower) return real;
  const listed = real.slice(0, MAX_PROBLEMS);
  const more = total - listed.length;
  const at = real[MAX_PROBLEMS] ?? firstOmitted ?? real[real.length - 1] ?? { file: '', path: '', message: '' };
  const q = lower ? 'at least ' : '';
  const summary: Summary = {
    file: at.file,
    line: at.line,
    col: at.col,
    path: '',
    message:
      more > 0
        ? `and ${q}${more} more problem${more === 1 ? '' : 's'} (${q}${total} in all; the first ${listed.length} are listed)`
        : 'checking stopped here: fix these first',
  };
  Object.defineProperty(summary, OMITTED, { value: { count: more, atLeast: lower, at }, enumerable: false });
  return [...listed, summary];
}

/** The "and N more problems" line that capProblems appends (it states the total itself). */
export function isProblemSummary(p: InputProblem): boolean {
  return OMITTED in p;
}
