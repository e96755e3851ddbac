/**
 * Load a scenario file: parse YAML (keeping positions), validate against the schema, expand the
 * matrix, resolve the topology and normalise every value. Any problem becomes an InputError listing
 * every problem found with file, line, column and field path; nothing is created before this passes.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import type { z } from 'zod/v4';
import { projectRoot } from '../paths.js';
import { InputError, type InputProblem } from './errors.js';
import type { JudgeSettings, MetricSpec } from './judge.js';
import type { GilbertElliott, LinkImpairment, LinkSpec } from './links.js';
import { expandMatrix, MAX_MATRIX_POINTS, matrixSize, pointId, type MatrixPoint } from './matrix.js';
import { METRIC_DEFAULTS, WORKLOAD_METRICS } from './metrics.js';
import type { CC, Scenario, Topology, TuningProfile } from './model.js';
import {
  LinkSchema,
  resolveSchemaPath,
  ScenarioSchema,
  type DirectionInput,
  type LinkInput,
  type ProfileInput,
  type ScenarioFile,
} from './schema.js';
import { capProblems, cloneData, FORBIDDEN_KEYS, MAX_PROBLEMS, nodePos, own, parseYaml, readInputFile, type YamlSource } from './source.js';
import { formatSize, parseBuffer, parsePercent, parseRate, parseSize, parseTime, RANGES } from './units.js';
import type { Workload } from './workloads.js';

/** bytes a full-size packet occupies in a qdisc (1500 MTU + 14 Ethernet header) */
export const PACKET_BYTES = 1514;
export const DEFAULT_MSS = 1448;

/** Where problems are located: the scenario file, and the suite file for values it defaulted. */
interface Locator {
  loc: YamlSource;
  /** top-level keys filled from a suite's defaults, located there under `defaults.` */
  fromDefaults: Set<string>;
  suite?: YamlSource;
}

function pos(loc: Pick<YamlSource, 'lc'>, node: Node | null | undefined): { line: number; col: number } {
  return nodePos(loc, node);
}

/** The deepest existing YAML node along path (so a missing key points at its parent map). */
function nodeAt(loc: Pick<YamlSource, 'doc'>, path: (string | number)[]): Node | null {
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
function locate(l: Locator, path: (string | number)[], message: string, key?: string): InputProblem {
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
function flattenIssues(issues: z.core.$ZodIssue[], prefix: PropertyKey[] = []): Flat[] {
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
function preferSpecific(issues: Flat[], raw: unknown): Flat[] {
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

function short(v: unknown): string {
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
function schemaProblems(l: Locator, issues: z.core.$ZodIssue[], raw: unknown): { list: InputProblem[]; unlisted: number } {
  const flats = preferSpecific(flattenIssues(issues), raw);
  const list = flats.slice(0, MAX_PROBLEMS + 1).map((f) => {
    const path = f.path.map((p) => (typeof p === 'number' ? p : String(p)));
    return f.keys ? locate(l, path.slice(0, -1), f.message, f.keys[0]!) : locate(l, path, f.message);
  });
  return { list, unlisted: flats.length - list.length };
}

export interface LoadOptions {
  /** override trials.pairs */
  pairs?: number;
  seed?: number;
  engine?: 'auto' | 'netem' | 'userspace';
  backend?: 'netns' | 'docker';
}

export function loadScenarioFile(file: string, opts: LoadOptions = {}): Scenario[] {
  return loadScenarioText(readInputFile(file, 'scenario file'), file, opts);
}

/** A file name made safe as a default scenario name (the rules of SafeName). */
export function safeStem(stem: string): string {
  let s = stem
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 64);
  if (s === '') s = 'scenario';
  if (FORBIDDEN_KEYS.has(s)) s = `${s}-scenario`;
  return s;
}

/**
 * `defaults` (from a suite file) fill top-level keys the scenario does not set itself; `defaultsFrom`
 * is the suite file they come from (problems with them are located there, under `defaults.`).
 */
export function loadScenarioText(
  text: string,
  file: string,
  opts: LoadOptions = {},
  defaults: Record<string, unknown> = {},
  defaultsFrom?: YamlSource,
): Scenario[] {
  const { src: loc, problems: early } = parseYaml(text, file);
  const data0 = loc.data;
  const isMapping = data0 !== null && typeof data0 === 'object' && !Array.isArray(data0);
  if (!isMapping && early.length === 0) {
    const message =
      data0 === null || data0 === undefined
        ? 'the file is empty: a scenario file is a YAML mapping (topology, control, canary, workload, ...)'
        : 'a scenario file must be a YAML mapping';
    throw new InputError([{ file, line: 1, col: 1, path: '', message }]);
  }
  const raw = (isMapping ? data0 : Object.create(null)) as Record<string, unknown>;
  const l: Locator = { loc, fromDefaults: new Set(), suite: defaultsFrom };
  for (const k of Object.keys(defaults)) {
    if (!Object.hasOwn(raw, k) && !FORBIDDEN_KEYS.has(k)) {
      raw[k] = cloneData(defaults[k]);
      l.fromDefaults.add(k);
    }
  }
  // 1. the file as written (matrix values are checked per expanded point below)
  const problems: InputProblem[] = [...early];
  const parsed = ScenarioSchema.safeParse(raw);
  let unlisted = 0;
  if (!parsed.success) {
    const sp = schemaProblems(l, parsed.error.issues, raw);
    problems.push(...sp.list);
    unlisted = sp.unlisted;
  }
  if (problems.length || !parsed.success) throw new InputError(capProblems(dedupe(problems), unlisted));
  const data = parsed.data;
  const stem = safeStem(basename(file, extname(file)));
  const topology = loadTopologyFor(data.topology, file, l, problems);
  if (!topology) throw new InputError(capProblems(problems));

  // links must name links of the topology
  const linkNames = topology.links.map((x) => x.name);
  // beyond MAX_PROBLEMS + 1 problems are only counted: locating each is a search of its map
  let uncounted = 0;
  const add = (make: () => InputProblem) => {
    if (problems.length <= MAX_PROBLEMS) problems.push(make());
    else uncounted++;
  };
  for (const name of Object.keys(data.links ?? {})) {
    if (!linkNames.includes(name))
      add(() => locate(l, ['links'], `topology "${topology.name}" has no link "${name}" (it has: ${linkNames.join(', ')})`, name));
  }
  // matrix: every path must name a field of the schema (and a link of the topology); the size is
  // the product of the list lengths, checked before anything is expanded
  const matrix = data.matrix as Record<string, unknown[]> | undefined;
  const paths: Record<string, string[]> = Object.create(null);
  const mkeys = Object.keys(matrix ?? {});
  for (const k of mkeys) {
    const r = resolveSchemaPath(k);
    if ('error' in r) {
      add(() => locate(l, ['matrix'], `not a field of a scenario: ${r.error}`, k));
      continue;
    }
    if (r.keys[0] === 'links' && r.keys.length >= 2 && !linkNames.includes(r.keys[1]!)) {
      add(() => locate(l, ['matrix'], `topology "${topology.name}" has no link "${r.keys[1]}" (it has: ${linkNames.join(', ')})`, k));
      continue;
    }
    const other = mkeys.find((o) => o !== k && paths[o] !== undefined && (isPrefix(paths[o]!, r.keys) || isPrefix(r.keys, paths[o]!)));
    if (other !== undefined) {
      add(() =>
        locate(l, ['matrix'], `overlaps matrix key "${other}": one path inside the other would make the result depend on their order`, k),
      );
      continue;
    }
    paths[k] = r.keys;
  }
  const size = matrixSize(matrix);
  if (size > MAX_MATRIX_POINTS) {
    const factors = mkeys.map((k) => matrix![k]!.length).join(' x ');
    problems.push(locate(l, ['matrix'], `expands to ${size} scenarios (${factors}); the limit is ${MAX_MATRIX_POINTS}`));
  }
  if (problems.length) throw new InputError(capProblems(dedupe(problems), uncounted));
  const points = expandMatrix(raw, matrix, paths);
  const scenarios: Scenario[] = [];
  const seen = new Set<string>();
  let issues = 0;
  let stopped = false;
  for (const point of points) {
    // enough to show: stop validating further points
    if (issues > 10 * MAX_PROBLEMS) {
      stopped = true;
      break;
    }
    const pr = ScenarioSchema.safeParse(point.doc);
    if (!pr.success) {
      for (const f of preferSpecific(flattenIssues(pr.error.issues), point.doc).slice(0, MAX_PROBLEMS + 1)) {
        problems.push(locateInPoint(l, point, f.path.map(String), f.message));
        issues++;
      }
      continue;
    }
    const id = pointId(data.name ?? stem, point.params);
    if (seen.has(id)) continue;
    seen.add(id);
    try {
      scenarios.push(resolveScenario(pr.data, { id, file, topology, params: point.params, opts }));
    } catch (e) {
      if (e instanceof ResolveError) {
        problems.push(locateInPoint(l, point, e.path, e.message));
        issues++;
      } else throw e;
    }
  }
  if (problems.length) throw new InputError(capProblems(dedupe(problems), 0, stopped));
  return scenarios;
}

/** true when a is b or a path inside b (b a prefix of a) */
function isPrefix(a: string[], b: string[]): boolean {
  return b.length <= a.length && b.every((x, i) => a[i] === x);
}

function dedupe(problems: InputProblem[]): InputProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.file}:${p.line}:${p.col}:${p.path}:${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Locate a problem of an expanded matrix point: in the matrix entry that set it, else in the file. */
function locateInPoint(l: Locator, point: MatrixPoint, path: string[], message: string): InputProblem {
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

class ResolveError extends Error {
  constructor(
    public readonly path: string[],
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------- topology

export function topologyPath(name: string, scenarioFile: string): string {
  if (name.includes('/') || name.endsWith('.yaml') || name.endsWith('.yml')) {
    return isAbsolute(name) ? name : resolve(dirname(scenarioFile), name);
  }
  const local = resolve(dirname(scenarioFile), '..', 'topologies', `${name}.yaml`);
  if (existsSync(local)) return local;
  return join(projectRoot(), 'topologies', `${name}.yaml`);
}

function loadTopologyFor(name: string, scenarioFile: string, l: Locator, problems: InputProblem[]): Topology | null {
  const at = locate(l, ['topology'], '');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f]/.test(name)) {
    problems.push({ ...at, message: 'a topology name or path has no control characters' });
    return null;
  }
  const path = topologyPath(name, scenarioFile);
  if (!existsSync(path)) {
    problems.push({ ...at, message: `unknown topology "${name}" (no file ${path})` });
    return null;
  }
  try {
    return loadTopology(path);
  } catch (e) {
    if (e instanceof InputError)
      problems.push(
        ...e.problems.map((p) =>
          p.file === path && p.line === undefined ? { ...p, ...at, message: `topology ${path}: ${p.message}` } : p,
        ),
      );
    else problems.push({ ...at, message: (e as Error).message });
    return null;
  }
}

export function loadTopology(path: string): Topology {
  const { src: loc, problems } = parseYaml(readInputFile(path, 'topology file'), path);
  const t = loc.data;
  const bad = (p: (string | number)[], message: string) =>
    problems.push({ file: path, ...pos(loc, nodeAt(loc, p)), path: p.join('.'), message });
  if (t === null || typeof t !== 'object' || Array.isArray(t)) {
    bad([], 'a topology file must be a YAML mapping (name, routers, links, sender, receiver)');
    throw new InputError(capProblems(problems));
  }
  const safe = (v: unknown) => typeof v === 'string' && !FORBIDDEN_KEYS.has(v);
  const routersIn = own(t, 'routers');
  const routers = Array.isArray(routersIn) ? routersIn.map(String) : [];
  if (routers.length === 0) bad(['routers'], 'a topology needs a list of routers');
  routers.forEach((r, i) => {
    if (!/^[a-z][a-z0-9]{0,9}$/.test(r) || !safe(r)) bad(['routers', i], `router name ${short(r)} must be 1-10 lowercase letters/digits`);
  });
  const linksIn = own(t, 'links');
  const links = Array.isArray(linksIn) ? linksIn : [];
  if (!Array.isArray(linksIn)) bad(['links'], 'a topology needs a list of links');
  const out: Topology['links'] = [];
  links.forEach((l, i) => {
    const name = own(l, 'name');
    const b = own(l, 'between');
    if (typeof name !== 'string' || !/^[a-z][a-z0-9_-]{0,15}$/.test(name) || !safe(name))
      bad(['links', i, 'name'], 'link name must be 1-16 lowercase letters, digits, - or _');
    else if (out.some((o) => o.name === name)) bad(['links', i, 'name'], `link name "${name}" is used twice`);
    if (!Array.isArray(b) || b.length !== 2 || !b.every((x) => routers.includes(String(x))))
      bad(['links', i, 'between'], 'between must name two routers of this topology');
    else if (typeof name === 'string') out.push({ name, between: [String(b[0]), String(b[1])] });
  });
  for (const k of ['sender', 'receiver'] as const) {
    if (!routers.includes(String(own(t, k)))) bad([k], `${k} must name the router the ${k} hosts attach to`);
  }
  const tname = own(t, 'name');
  const desc = own(t, 'description');
  if (problems.length) throw new InputError(capProblems(problems));
  const topo: Topology = {
    name: typeof tname === 'string' ? tname : basename(path, '.yaml'),
    description: typeof desc === 'string' ? desc : '',
    file: path,
    routers,
    links: out,
    sender: String(own(t, 'sender')),
    receiver: String(own(t, 'receiver')),
  };
  if (!pathLinks(topo))
    throw new InputError([
      { file: path, ...pos(loc, nodeAt(loc, ['links'])), path: 'links', message: `no path from ${topo.sender} to ${topo.receiver}` },
    ]);
  return topo;
}

/** Links from the sender router to the receiver router, each with whether data crosses it a->b. */
export function pathLinks(t: Topology): { name: string; forward: boolean }[] | null {
  const prev = new Map<string, { from: string; link: string; forward: boolean }>();
  const queue = [t.sender];
  const seen = new Set([t.sender]);
  while (queue.length) {
    const r = queue.shift()!;
    for (const l of t.links) {
      const [a, b] = l.between;
      const next = a === r ? b : b === r ? a : null;
      if (next && !seen.has(next)) {
        seen.add(next);
        prev.set(next, { from: r, link: l.name, forward: a === r });
        queue.push(next);
      }
    }
  }
  if (!seen.has(t.receiver)) return null;
  const out: { name: string; forward: boolean }[] = [];
  for (let r = t.receiver; r !== t.sender; ) {
    const p = prev.get(r)!;
    out.unshift({ name: p.link, forward: p.forward });
    r = p.from;
  }
  return out;
}

// ---------------------------------------------------------------- normalisation

function direction(d: DirectionInput | undefined, where: (field: string) => string[]): LinkImpairment {
  const out: LinkImpairment = {};
  if (!d) return out;
  if (d.delay !== undefined) out.delayMs = parseTime(d.delay);
  if (d.jitter !== undefined) out.jitterMs = parseTime(d.jitter);
  if (d.jitter_correlation !== undefined) out.jitterCorrelation = parsePercent(d.jitter_correlation);
  if (d.distribution !== undefined) out.distribution = d.distribution;
  if (d.loss !== undefined) {
    if (typeof d.loss === 'string') out.loss = parsePercent(d.loss);
    else if ('random' in d.loss) {
      out.loss = parsePercent(d.loss.random);
      if (d.loss.correlation) out.lossCorrelation = parsePercent(d.loss.correlation);
    } else {
      const g = d.loss.gemodel;
      const p = parsePercent(g.p);
      const ge: GilbertElliott = {
        p,
        r: g.r !== undefined ? parsePercent(g.r) : 1 - p,
        lossBad: g.bad !== undefined ? parsePercent(g.bad) : 1,
        lossGood: g.good !== undefined ? parsePercent(g.good) : 0,
      };
      out.gemodel = ge;
    }
  }
  if (d.reorder !== undefined) {
    if (typeof d.reorder === 'string') out.reorder = parsePercent(d.reorder);
    else {
      out.reorder = parsePercent(d.reorder.probability);
      if (d.reorder.correlation) out.reorderCorrelation = parsePercent(d.reorder.correlation);
      if (d.reorder.gap) out.reorderGap = d.reorder.gap;
    }
  }
  for (const k of ['duplicate', 'corrupt'] as const) {
    const v = d[k];
    if (v === undefined) continue;
    if (typeof v === 'string') out[k] = parsePercent(v);
    else {
      out[k] = parsePercent(v.probability);
      if (v.correlation) out[`${k}Correlation`] = parsePercent(v.correlation);
    }
  }
  if (d.rate !== undefined) out.rateBps = parseRate(d.rate);
  // zero values mean "not impaired"; drop them so both engines see the same thing
  for (const [k, v] of Object.entries(out)) if (v === 0) delete (out as Record<string, unknown>)[k];
  if (out.reorder !== undefined && !out.delayMs)
    throw new ResolveError(where('reorder'), 'reorder needs a delay (packets are reordered by skipping it)');
  if (out.jitterMs !== undefined && !out.delayMs) throw new ResolveError(where('jitter'), 'jitter needs a delay');
  if (d.buffer !== undefined && out.rateBps === undefined)
    throw new ResolveError(where('buffer'), 'buffer needs a rate (the queue forms at the bottleneck)');
  return out;
}

function mergeDirection(base: LinkInput, over: DirectionInput | undefined): DirectionInput {
  const { forward: _f, reverse: _r, ...common } = base;
  return { ...common, ...(over ?? {}) };
}

/** sysctl values as the kernel is given them: booleans as 1/0, strings trimmed (null-prototype map) */
function sysctlStrings(input: Record<string, string | number | boolean> | undefined): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const k of Object.keys(input ?? {})) {
    const v = input![k]!;
    out[k] = typeof v === 'boolean' ? (v ? '1' : '0') : String(v).trim();
  }
  return out;
}

function resolveProfile(p: ProfileInput, arm: string): TuningProfile {
  const sysctls = sysctlStrings(p.sysctls);
  const ccSysctl = own(sysctls, 'net.ipv4.tcp_congestion_control') as CC | undefined;
  if (p.cc && ccSysctl)
    throw new ResolveError(
      [arm, 'sysctls', 'net.ipv4.tcp_congestion_control'],
      'set the congestion control with `cc:` or the sysctl, not both',
    );
  const r = p.route ?? {};
  const applyTo = p.apply_to ?? 'sender';
  // the congestion control acts where the data is sent: the sender host (iperf3's client in bulk and
  // compete, the server of fct/rr/pageload/http). With apply_to: receiver the sender keeps the host
  // default and every trial fails its check "sender used X, the profile says Y".
  const cc = r.congctl ?? p.cc ?? ccSysctl;
  if (applyTo === 'receiver' && cc) {
    const how = r.congctl
      ? `route: { congctl: ${r.congctl} }`
      : p.cc
        ? `cc: ${p.cc}`
        : `sysctl net.ipv4.tcp_congestion_control: ${ccSysctl}`;
    throw new ResolveError(
      [arm, 'apply_to'],
      `${how} with apply_to: receiver cannot take effect: the congestion control that matters is the data sender's, and with apply_to: receiver the sender keeps the host default (every trial would fail "sender used ..., the profile says ${cc}"). Write apply_to: sender (the default) or apply_to: both, or leave the congestion control out of this profile`,
    );
  }
  return {
    name: p.name ?? (p.cc ? `${arm} (${p.cc})` : arm),
    cc: (p.cc ?? ccSysctl) || undefined,
    sysctls,
    route: {
      initcwnd: r.initcwnd,
      initrwnd: r.initrwnd,
      quickack: r.quickack,
      rtoMinMs: r.rto_min !== undefined ? parseTime(r.rto_min) : undefined,
      congctl: r.congctl,
    },
    applyTo,
  };
}

function resolveWorkload(w: ScenarioFile['workload'], d: ScenarioFile, backend: string): Workload {
  const ms = (v: string | undefined, def: string) => parseTime(v ?? def);
  switch (w.type) {
    case 'bulk': {
      const b = {
        type: 'bulk' as const,
        durationS: ms(w.duration, '5s') / 1000,
        flows: w.flows ?? 1,
        omitS: ms(w.omit, '0s') / 1000,
        intervalS: ms(w.interval, '100ms') / 1000,
      };
      if (b.durationS <= 0) throw new ResolveError(['workload', 'duration'], 'duration must be positive');
      return b;
    }
    case 'fct': {
      if ((w.size === undefined) === (w.sizes === undefined)) throw new ResolveError(['workload'], 'give either `size` or `sizes`');
      return {
        type: 'fct',
        sizes:
          w.size !== undefined
            ? [{ bytes: parseSize(w.size), weight: 1 }]
            : w.sizes!.map((x) => ({ bytes: parseSize(x.size), weight: x.weight })),
        transfers: w.transfers ?? 20,
        gapMs: ms(w.gap, '0ms'),
        requestBytes: Math.max(16, parseSize(w.request ?? '100B')),
      };
    }
    case 'rr':
      return {
        type: 'rr',
        requestBytes: Math.max(16, parseSize(w.request ?? '100B')),
        responseBytes: Math.max(1, parseSize(w.response ?? '1KB')),
        count: w.count ?? 100,
        gapMs: ms(w.gap, '0ms'),
      };
    case 'pageload':
      return {
        type: 'pageload',
        objects: w.objects.map((o) => parseSize(o)),
        connections: w.connections ?? 6,
        pages: w.pages ?? 3,
        gapMs: ms(w.gap, '0ms'),
        requestBytes: Math.max(16, parseSize(w.request ?? '300B')),
      };
    case 'http': {
      const ext = backend === 'docker' ? d.docker?.sender : undefined;
      if (ext && w.path === undefined) throw new ResolveError(['workload', 'path'], 'give the path to fetch from the docker.sender server');
      if (ext && w.size !== undefined)
        throw new ResolveError(['workload', 'size'], "size applies to netab's own server; with docker.sender give a path");
      if (!ext && w.path !== undefined && !/^\/bytes\/\d+$/.test(w.path))
        throw new ResolveError(
          ['workload', 'path'],
          "netab's own server serves /bytes/<n> only: use `size`, or run your server with backend docker and docker.sender",
        );
      if (!ext && w.path !== undefined && w.size !== undefined) throw new ResolveError(['workload', 'path'], 'give size or path, not both');
      const port = w.port ?? ext?.port ?? 8080;
      if (ext && ext.port === undefined && w.port === undefined)
        throw new ResolveError(['docker', 'sender', 'port'], 'the http workload needs the port your server listens on');
      return {
        type: 'http',
        path: w.path ?? `/bytes/${parseSize(w.size ?? '45KB')}`,
        port,
        requests: w.requests ?? 20,
        gapMs: ms(w.gap, '0ms'),
        external: Boolean(ext),
      };
    }
    case 'compete':
      return {
        type: 'compete',
        flowsPerArm: w.flows ?? 1,
        durationMs: ms(w.duration, '10s'),
        staggerMs: ms(w.stagger, '0s'),
        omitMs: ms(w.omit, '0s'),
        intervalMs: ms(w.interval, '500ms'),
        baseline: w.baseline ?? true,
      };
  }
}

/** Expected seconds of one trial (timeouts, plans, ETAs): rough, on the generous side. */
export function trialSeconds(w: Workload, rttMs: number): number {
  const rtt = Math.max(rttMs, 1) / 1000;
  switch (w.type) {
    case 'bulk':
      return w.durationS + w.omitS + 1.2;
    case 'fct':
      return 1 + w.transfers * (4 * rtt + w.gapMs / 1000 + 0.02);
    case 'http':
      return 1 + w.requests * (5 * rtt + w.gapMs / 1000 + 0.02);
    case 'rr':
      return 1 + w.count * (rtt + w.gapMs / 1000 + 0.001);
    case 'pageload':
      return 1 + w.pages * (6 * rtt + w.gapMs / 1000 + 0.05);
    case 'compete':
      return 2 + ((w.durationMs + w.omitMs + w.staggerMs) / 1000) * (w.baseline ? 2 : 1);
  }
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export function scenarioHash(s: Omit<Scenario, 'hash' | 'file'> & { hash?: string; file?: string }): string {
  const { hash: _h, file: _f, topology, ...rest } = s;
  const { file: _tf, ...topo } = topology;
  return createHash('sha256')
    .update(canonical({ ...rest, topology: topo }))
    .digest('hex')
    .slice(0, 16);
}

function resolveScenario(
  d: ScenarioFile,
  ctx: { id: string; file: string; topology: Topology; params: Scenario['params']; opts: LoadOptions },
): Scenario {
  const topo = ctx.topology;
  const workload = resolveWorkload(d.workload, d, ctx.opts.backend ?? d.backend ?? 'netns');
  // links: every topology link, impaired or not
  const links: Record<string, LinkSpec> = {};
  const inputs: Record<string, LinkInput> = (d.links ?? {}) as Record<string, LinkInput>;
  for (const l of topo.links) {
    const li = (own(inputs, l.name) as LinkInput | undefined) ?? LinkSchema.parse({});
    // a field's location: the forward/reverse override when it sets it, else the common part
    const where = (dir: 'forward' | 'reverse') => (field: string) =>
      (li[dir] as Record<string, unknown> | undefined)?.[field] !== undefined ? ['links', l.name, dir, field] : ['links', l.name, field];
    links[l.name] = {
      forward: direction(mergeDirection(li, li.forward), where('forward')),
      reverse: direction(mergeDirection(li, li.reverse), where('reverse')),
    };
  }
  // path summary (data direction = sender -> receiver)
  const path = pathLinks(topo)!;
  let rttMs = 0;
  let rate: number | undefined;
  let bottleneck: { name: string; dir: 'forward' | 'reverse' } | undefined;
  let survive = 1;
  for (const p of path) {
    const fwd = p.forward ? links[p.name]!.forward : links[p.name]!.reverse;
    const rev = p.forward ? links[p.name]!.reverse : links[p.name]!.forward;
    rttMs += (fwd.delayMs ?? 0) + (rev.delayMs ?? 0);
    if (fwd.rateBps !== undefined && (rate === undefined || fwd.rateBps < rate)) {
      rate = fwd.rateBps;
      bottleneck = { name: p.name, dir: p.forward ? 'forward' : 'reverse' };
    }
    if (fwd.loss) survive *= 1 - fwd.loss;
    if (fwd.gemodel) {
      const g = fwd.gemodel;
      const piBad = g.p + g.r > 0 ? g.p / (g.p + g.r) : 0;
      survive *= 1 - (piBad * g.lossBad + (1 - piBad) * g.lossGood);
    }
  }
  const flowsOnBottleneck = workload.type === 'bulk' ? workload.flows : workload.type === 'compete' ? 2 * workload.flowsPerArm : 1;
  // buffers: resolve bdp forms against the path RTT
  for (const l of topo.links) {
    for (const dir of ['forward', 'reverse'] as const) {
      const li = own(inputs, l.name) as LinkInput | undefined;
      const spec = (li?.[dir]?.buffer ?? li?.buffer) as string | undefined;
      const imp = links[l.name]![dir];
      if (imp.rateBps === undefined) continue;
      const b = parseBuffer(spec ?? '1bdp');
      const bdp = (imp.rateBps * Math.max(rttMs, 1)) / 8 / 1000;
      let bytes: number;
      if (b.kind === 'bytes') bytes = b.bytes;
      else if (b.kind === 'packets') bytes = b.packets * PACKET_BYTES;
      else if (b.kind === 'bdp') bytes = b.factor * bdp;
      else bytes = (b.factor * bdp) / Math.sqrt(flowsOnBottleneck);
      imp.bufferBytes = Math.max(2 * PACKET_BYTES, Math.round(bytes));
      if (!(imp.bufferBytes <= RANGES.buffer.max)) {
        const field =
          li?.[dir]?.buffer !== undefined
            ? ['links', l.name, dir, 'buffer']
            : li?.buffer !== undefined
              ? ['links', l.name, 'buffer']
              : ['links', l.name, 'rate'];
        throw new ResolveError(
          field,
          `the ${dir} buffer of link ${l.name} comes to ${formatSize(imp.bufferBytes)} (${spec ?? '1bdp, the default'} at ${rttMs} ms RTT); at most ${formatSize(RANGES.buffer.max)}: give a smaller buffer`,
        );
      }
    }
  }
  const loss = 1 - survive;

  // judge settings
  const wm = WORKLOAD_METRICS[workload.type]!;
  const j = d.judge ?? {};
  const metrics: MetricSpec[] = [];
  const overrides = (j.metrics ?? {}) as Record<string, NonNullable<typeof j.metrics>[string]>;
  for (const name of Object.keys(overrides)) {
    if (!wm.metrics.includes(name))
      throw new ResolveError(
        ['judge', 'metrics', name],
        `the ${workload.type} workload has no metric "${name}" (it has: ${wm.metrics.join(', ')})`,
      );
  }
  for (const name of wm.metrics) {
    const o = own(overrides, name) as (typeof overrides)[string] | undefined;
    if (o === false) continue;
    const def = METRIC_DEFAULTS[name]!;
    const m: MetricSpec = { name, ...def, margin: { ...def.margin } };
    if (o) {
      if (o.direction) m.direction = o.direction;
      if (o.margin !== undefined)
        m.margin =
          typeof o.margin === 'string' ? { kind: 'relative', value: parsePercent(o.margin) } : { kind: 'absolute', value: o.margin };
      if (o.critical !== undefined) m.critical = o.critical;
      if (o.required !== undefined) m.required = o.required;
    }
    if (m.scale === 'linear' && m.margin.kind === 'relative')
      throw new ResolveError(
        ['judge', 'metrics', name, 'margin'],
        `${name} is judged as a difference: give an absolute margin (a number in ${m.unit})`,
      );
    if (m.margin.kind === 'absolute' && (m.unit === 'ratio' || m.unit === 'index') && !(m.margin.value < 1))
      throw new ResolveError(
        ['judge', 'metrics', name, 'margin'],
        `${name} is a ${m.unit} between 0 and 1: an absolute margin must be above 0 and below 1 (got ${m.margin.value})`,
      );
    metrics.push(m);
  }
  if ((ctx.opts.backend ?? d.backend) === 'docker' && (workload.type === 'compete' || d.cross_traffic))
    throw new ResolveError(
      d.cross_traffic ? ['cross_traffic'] : ['workload', 'type'],
      'the docker backend has no peer hosts yet: compete and cross traffic run on the netns backend',
    );
  const primary = j.primary ?? wm.primary;
  if (!metrics.some((m) => m.name === primary))
    throw new ResolveError(['judge', 'primary'], `primary metric "${primary}" is not among the judged metrics`);
  const judge: JudgeSettings = {
    alpha: j.alpha ?? 0.05,
    minPairs: j.min_pairs ?? 5,
    primary,
    expectImprovement: j.expect_improvement ?? false,
    nonCriticalRegressionsToFail: j.noncritical_regressions_to_fail ?? 2,
    maxFailedFraction: j.max_failed !== undefined ? parsePercent(j.max_failed) : 0.2,
    excludeSuspect: j.exclude_suspect ?? true,
    sequential: j.sequential ?? false,
    metrics,
  };
  const pairs = ctx.opts.pairs ?? d.trials?.pairs ?? 10;
  if (judge.sequential) {
    const looks = j.looks ?? 4;
    judge.sequentialPlan = { looks, pairsPerLook: Math.ceil(pairs / looks) };
  }
  if (pairs < judge.minPairs && !ctx.opts.pairs)
    throw new ResolveError(
      ['trials', 'pairs'],
      `${pairs} pairs is fewer than judge.min_pairs (${judge.minPairs}): the run could never reach a decision`,
    );
  const endpointSysctls = sysctlStrings(d.endpoints?.sysctls);

  const base: Omit<Scenario, 'hash'> = {
    id: ctx.id,
    name: d.name ?? ctx.id,
    description: d.description,
    file: ctx.file,
    params: ctx.params,
    backend: ctx.opts.backend ?? d.backend ?? 'netns',
    docker: d.docker,
    engine: ctx.opts.engine ?? d.engine ?? 'auto',
    seed: ctx.opts.seed ?? d.seed,
    topology: topo,
    links,
    endpointSysctls,
    control: resolveProfile(d.control, 'control'),
    canary: resolveProfile(d.canary, 'canary'),
    workload,
    crossTraffic: d.cross_traffic
      ? {
          sources: d.cross_traffic.sources ?? 1,
          meanOnMs: d.cross_traffic.on ? parseTime(d.cross_traffic.on.mean) : 500,
          shape: d.cross_traffic.on?.shape ?? 1.5,
          meanOffMs: d.cross_traffic.off ? parseTime(d.cross_traffic.off.mean) : 1000,
          requestBytes: d.cross_traffic.request !== undefined ? Math.max(16, parseSize(d.cross_traffic.request)) : 100,
        }
      : undefined,
    trials: {
      pairs,
      warmup: d.trials?.warmup ?? 1,
      timeoutMs:
        d.trials?.timeout !== undefined ? parseTime(d.trials.timeout) : Math.round((30 + 3 * trialSeconds(workload, rttMs)) * 1000),
      replaceBudget: d.trials?.replace_budget !== undefined ? parsePercent(d.trials.replace_budget) : 0.25,
    },
    judge,
    fidelity: {
      enabled: d.fidelity?.enabled ?? true,
      rttToleranceMs: d.fidelity?.rtt_tolerance !== undefined ? parseTime(d.fidelity.rtt_tolerance) : 0.5,
      rateTolerance: d.fidelity?.rate_tolerance !== undefined ? parsePercent(d.fidelity.rate_tolerance) : 0.03,
      samples: d.fidelity?.samples ?? 500,
      strict: d.fidelity?.strict ?? false,
      cpuSuspect: d.fidelity?.cpu_suspect !== undefined ? parsePercent(d.fidelity.cpu_suspect) : 0.99,
      latenessSuspectMs: d.fidelity?.lateness_suspect !== undefined ? parseTime(d.fidelity.lateness_suspect) : Math.max(2, 0.1 * rttMs),
    },
    path: {
      rttMs,
      rateMbit: rate !== undefined ? rate / 1e6 : undefined,
      loss: loss > 0 ? +loss.toFixed(12) : undefined,
      bufferBytes: bottleneck ? links[bottleneck.name]![bottleneck.dir].bufferBytes : undefined,
      mss: DEFAULT_MSS,
    },
  };
  return { ...base, hash: scenarioHash(base) };
}
