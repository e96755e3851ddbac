/**
 * Suites: many scenario files judged as one. `netab run PATH...` takes files, folders (every *.yaml
 * in it) and globs; a `suite.yaml` lists files and shared defaults. Sharding splits the expanded
 * scenarios deterministically into N parts balanced by estimated duration.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { SuiteInfo } from '../results/types.js';
import { InputError, type InputProblem } from './errors.js';
import { loadScenarioText, trialSeconds, type LoadOptions } from './load.js';
import type { Scenario } from './model.js';

export const SUITE_FILE_KEYS = ['name', 'description', 'files', 'defaults'];
/** scenario keys a suite may default */
export const SUITE_DEFAULT_KEYS = ['control', 'canary', 'trials', 'judge', 'fidelity', 'engine', 'endpoints', 'workload', 'seed'];

function globToRegex(g: string): RegExp {
  return new RegExp(
    '^' +
      g
        .split('')
        .map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
        .join('') +
      '$',
  );
}

/** Files, folders and globs (in the last path segment) -> scenario files, in a stable order. */
export function resolvePaths(paths: string[]): { files: string[]; problems: InputProblem[] } {
  const files: string[] = [];
  const problems: InputProblem[] = [];
  for (const p of paths) {
    if (/[*?]/.test(p)) {
      const dir = dirname(p);
      const re = globToRegex(basename(p));
      const hits = existsSync(dir) ? readdirSync(dir).filter((n) => re.test(n)).sort() : [];
      if (hits.length === 0) problems.push({ file: p, path: '', message: 'no file matches this pattern' });
      files.push(...hits.map((h) => join(dir, h)));
    } else if (existsSync(p) && statSync(p).isDirectory()) {
      // a folder with a suite file is that suite
      if (existsSync(join(p, 'suite.yaml'))) {
        files.push(join(p, 'suite.yaml'));
        continue;
      }
      const hits = readdirSync(p)
        .filter((n) => /\.ya?ml$/.test(n) && n !== 'suite.yaml')
        .sort();
      if (hits.length === 0) problems.push({ file: p, path: '', message: 'no .yaml scenario files in this folder' });
      files.push(...hits.map((h) => join(p, h)));
    } else if (!existsSync(p)) {
      problems.push({ file: p, path: '', message: 'no such file' });
    } else files.push(p);
  }
  return { files: [...new Set(files)], problems };
}

export interface LoadedSuite {
  scenarios: Scenario[];
  suite: SuiteInfo;
}

function isSuiteFile(file: string): boolean {
  return basename(file) === 'suite.yaml' || basename(file).endsWith('.suite.yaml');
}

/** Read a suite file: its scenario files (relative to it) and defaults. */
function readSuiteFile(file: string): { name: string; files: string[]; defaults: Record<string, unknown> } {
  const lc = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter: lc });
  const d = (doc.toJS() ?? {}) as Record<string, unknown>;
  const problems: InputProblem[] = [];
  const at = (key: string) => {
    const node = doc.get(key, true) as { range?: [number, number] } | undefined;
    const p = node?.range ? lc.linePos(node.range[0]) : undefined;
    return { file, line: p?.line, col: p?.col, path: key };
  };
  for (const k of Object.keys(d)) if (!SUITE_FILE_KEYS.includes(k)) problems.push({ ...at(k), message: `unknown field "${k}" (a suite has ${SUITE_FILE_KEYS.join(', ')})` });
  if (!Array.isArray(d.files) || d.files.length === 0 || !d.files.every((f) => typeof f === 'string'))
    problems.push({ ...at('files'), message: 'files must be a list of scenario files (relative to the suite file)' });
  const defaults = (d.defaults ?? {}) as Record<string, unknown>;
  if (typeof defaults !== 'object' || Array.isArray(defaults)) problems.push({ ...at('defaults'), message: 'defaults must be a mapping' });
  else for (const k of Object.keys(defaults)) if (!SUITE_DEFAULT_KEYS.includes(k)) problems.push({ ...at('defaults'), path: `defaults.${k}`, message: `a suite cannot default "${k}" (it can: ${SUITE_DEFAULT_KEYS.join(', ')})` });
  if (problems.length) throw new InputError(problems);
  const { files: resolved, problems: p2 } = resolvePaths((d.files as string[]).map((f) => (isAbsolute(f) ? f : join(dirname(file), f))));
  if (p2.length) throw new InputError(p2.map((p) => ({ ...p, message: `${p.message} (listed in ${file})` })));
  return { name: typeof d.name === 'string' ? d.name : basename(dirname(resolve(file))), files: resolved, defaults };
}

/** Seconds one scenario is expected to take: setup, fidelity probe, and its trials. */
export function estimateSeconds(s: Scenario): number {
  const perTrial = trialSeconds(s.workload, s.path.rttMs);
  return 4 + (s.fidelity.enabled ? 5 : 0) + (s.trials.pairs + s.trials.warmup) * 2 * perTrial;
}

export function suiteHash(scenarios: Scenario[]): string {
  const h = createHash('sha256');
  for (const s of scenarios) h.update(`${s.id}\0${s.hash}\n`);
  return h.digest('hex').slice(0, 16);
}

export function loadSuite(paths: string[], opts: LoadOptions & { filter?: string } = {}): LoadedSuite {
  const { files: listed, problems } = resolvePaths(paths);
  if (problems.length) throw new InputError(problems);
  const jobs: { file: string; defaults: Record<string, unknown> }[] = [];
  let name: string | undefined;
  for (const f of listed) {
    if (isSuiteFile(f)) {
      const sf = readSuiteFile(f);
      name ??= sf.name;
      for (const file of sf.files) jobs.push({ file, defaults: sf.defaults });
    } else jobs.push({ file: f, defaults: {} });
  }
  const all: Scenario[] = [];
  const errs: InputProblem[] = [];
  for (const j of jobs) {
    try {
      all.push(...loadScenarioText(readFileSync(j.file, 'utf8'), j.file, opts, j.defaults));
    } catch (e) {
      if (e instanceof InputError) errs.push(...e.problems);
      else errs.push({ file: j.file, path: '', message: (e as Error).message });
    }
  }
  // ids must be unique across the suite (results are keyed by them)
  const seen = new Map<string, string>();
  for (const s of all) {
    const prev = seen.get(s.id);
    if (prev && prev !== s.file) errs.push({ file: s.file, path: 'name', message: `scenario id "${s.id}" is also used by ${prev}: give one of them another name` });
    seen.set(s.id, s.file);
  }
  if (errs.length) throw new InputError(errs);
  let scenarios = all;
  if (opts.filter) {
    let re: RegExp;
    try {
      re = new RegExp(opts.filter);
    } catch (e) {
      throw new InputError([{ file: '--filter', path: '', message: `not a regular expression: ${(e as Error).message}` }]);
    }
    scenarios = all.filter((s) => re.test(s.id) || re.test(s.name));
    if (scenarios.length === 0) throw new InputError([{ file: '--filter', path: '', message: `no scenario id or name matches /${opts.filter}/` }]);
  }
  const files = [...new Set(jobs.map((j) => j.file))];
  return {
    scenarios,
    suite: {
      name: name ?? (files.length === 1 ? basename(files[0]!, extname(files[0]!)) : 'suite'),
      hash: suiteHash(scenarios),
      files,
      scenarioIds: scenarios.map((s) => s.id),
    },
  };
}

/**
 * Deterministic split into `count` shards balanced by estimated duration: longest first, each to the
 * currently lightest shard (ties: lowest shard). Returns the scenarios of shard `index` (1-based) in
 * suite order.
 */
export function shardScenarios(scenarios: Scenario[], index: number, count: number): Scenario[] {
  const order = scenarios.map((s, i) => ({ i, est: estimateSeconds(s) })).sort((a, b) => b.est - a.est || a.i - b.i);
  const load = new Array<number>(count).fill(0);
  const owner = new Array<number>(scenarios.length);
  for (const o of order) {
    let best = 0;
    for (let k = 1; k < count; k++) if (load[k]! < load[best]!) best = k;
    load[best]! += o.est;
    owner[o.i] = best + 1;
  }
  return scenarios.filter((_, i) => owner[i] === index);
}

export function parseShard(v: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new InputError([{ file: '--shard', path: '', message: `expected I/N with 1 <= I <= N, e.g. 1/4 (got "${v}")` }]);
  return { index: Number(m[1]), count: Number(m[2]) };
}
