/**
 * Suites: many scenario files judged as one. `netab run PATH...` takes files, folders (every *.yaml
 * in it) and globs; a `suite.yaml` lists files and shared defaults. Sharding splits the expanded
 * scenarios deterministically into N parts balanced by estimated duration.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { isMap, isScalar, type Node } from 'yaml';
import type { z } from 'zod/v4';
import { InputError, type InputProblem } from './errors.js';
import { loadScenarioText, safeStem } from './load.js';
import type { ReportSettings, Scenario, SuiteInfo } from './model.js';
import { resolveReport } from './pivot.js';
import { describeIssues } from './problems.js';
import { type LoadOptions, trialSeconds } from './resolve.js';
import { ScenarioSchema } from './schema.js';
import { safeNameProblem } from './schema-names.js';
import { capProblems, MAX_PROBLEMS, nodePos, own, parseYaml, readInputFile, type YamlSource } from './source.js';

export const SUITE_FILE_KEYS = ['name', 'description', 'files', 'defaults', 'report'];
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

function listDir(dir: string): string[] | null {
  try {
    return readdirSync(dir);
  } catch {
    return null;
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Files, folders and globs (in the last path segment) -> scenario files, in a stable order. */
export function resolvePaths(paths: string[]): { files: string[]; problems: InputProblem[] } {
  const files: string[] = [];
  const problems: InputProblem[] = [];
  for (const p of paths) {
    if (/[*?]/.test(p)) {
      const dir = dirname(p);
      const re = globToRegex(basename(p));
      const hits = (listDir(dir) ?? []).filter((n) => re.test(n)).sort();
      if (hits.length === 0) problems.push({ file: p, path: '', message: 'no file matches this pattern' });
      files.push(...hits.map((h) => join(dir, h)));
    } else if (isDirectory(p)) {
      // a folder with a suite file is that suite
      if (existsSync(join(p, 'suite.yaml'))) {
        files.push(join(p, 'suite.yaml'));
        continue;
      }
      const hits = (listDir(p) ?? []).filter((n) => /\.ya?ml$/.test(n) && n !== 'suite.yaml').sort();
      if (hits.length === 0) problems.push({ file: p, path: '', message: 'no .yaml scenario files in this folder' });
      files.push(...hits.map((h) => join(p, h)));
    } else if (!existsSync(p)) {
      problems.push({ file: p, path: '', message: 'no such file' });
    } else files.push(p);
  }
  return { files: [...new Set(files)], problems };
}

/**
 * `validate` on folders: each folder is checked as what `run` would make of it (its suite, or its
 * loose *.yaml files), and so is every folder below it, each on its own (a suite's `quick/` variant
 * reuses the full suite's scenario names). Files, globs and folders with nothing below them stay as given.
 */
export function validationUnits(paths: string[]): string[][] {
  const units: string[][] = [];
  const walk = (dir: string, depth: number): boolean => {
    const names = (listDir(dir) ?? []).sort();
    const own = names.includes('suite.yaml') || names.some((n) => /\.ya?ml$/.test(n));
    if (own) units.push([dir]);
    let below = false;
    if (depth < 8)
      for (const n of names) if (!n.startsWith('.') && isDirectory(join(dir, n))) below = walk(join(dir, n), depth + 1) || below;
    return own || below;
  };
  for (const p of paths) {
    if (/[*?]/.test(p) || !isDirectory(p)) units.push([p]);
    else if (!walk(p, 0)) units.push([p]); // nothing to check: resolvePaths says so
  }
  return units;
}

/** where a scenario file sets its name (its start when it does not) */
function nameAt(file: string): { line: number; col: number } {
  try {
    const { src } = parseYaml(readInputFile(file, 'scenario file'), file);
    return nodePos(src, (src.doc.get('name', true) as Node | undefined) ?? (src.doc.contents as Node | null));
  } catch {
    return { line: 1, col: 1 };
  }
}

export interface LoadedSuite {
  scenarios: Scenario[];
  suite: SuiteInfo;
}

function isSuiteFile(file: string): boolean {
  return basename(file) === 'suite.yaml' || basename(file).endsWith('.suite.yaml');
}

interface SuiteFile {
  name: string;
  files: string[];
  defaults: Record<string, unknown>;
  /** `report:` as written (its names are checked once the suite's dimensions are known) */
  report?: ReportSettings;
  src: YamlSource;
  /** where each file is listed in the suite file */
  listedAt: Map<string, { file: string; line: number; col: number }>;
}

/**
 * Read a suite file with the scenario files' located parser: its scenario files (relative to it),
 * a safe name and defaults (each checked against the scenario schema, located in the suite file).
 */
// Long by design: one check per suite.yaml field, each with its location.
function readSuiteFile(file: string): SuiteFile {
  const { src, problems } = parseYaml(readInputFile(file, 'suite file'), file);
  const at = (path: (string | number)[], message: string, key = false): InputProblem => {
    let node = src.doc.getIn(path, true) as Node | undefined;
    if (key && path.length) {
      const parent = src.doc.getIn(path.slice(0, -1), true) as Node | undefined;
      if (parent && isMap(parent))
        node =
          (parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(path[path.length - 1]))?.key as Node | undefined) ??
          node;
    }
    for (let n = path.length - 1; !node && n >= 0; n--) node = src.doc.getIn(path.slice(0, n), true) as Node | undefined;
    return { file, ...nodePos(src, node ?? (src.doc.contents as Node | null)), path: path.join('.'), message };
  };
  const d = src.data;
  if (problems.length === 0 && (d === null || d === undefined || typeof d !== 'object' || Array.isArray(d))) {
    throw new InputError([
      {
        file,
        line: 1,
        col: 1,
        path: '',
        message:
          d === null || d === undefined
            ? 'the file is empty: a suite file is a YAML mapping (name, files, defaults)'
            : 'a suite file must be a YAML mapping (name, files, defaults)',
      },
    ]);
  }
  const m = (d && typeof d === 'object' && !Array.isArray(d) ? d : Object.create(null)) as Record<string, unknown>;
  for (const k of Object.keys(m))
    if (!SUITE_FILE_KEYS.includes(k)) problems.push(at([k], `unknown field "${k}" (a suite has ${SUITE_FILE_KEYS.join(', ')})`, true));
  const name = own(m, 'name');
  if (name !== undefined) {
    const why = typeof name === 'string' ? safeNameProblem(name) : 'must be a string';
    if (why) problems.push(at(['name'], why));
  }
  const description = own(m, 'description');
  if (description !== undefined && (typeof description !== 'string' || description.length > 4096))
    problems.push(at(['description'], 'must be a string of at most 4096 characters'));
  const files = own(m, 'files');
  if (!Array.isArray(files) || files.length === 0)
    problems.push(at(['files'], 'files must be a non-empty list of scenario files (relative to the suite file)'));
  else if (files.length > 10_000) problems.push(at(['files'], `lists ${files.length} files: at most 10000`));
  else
    files.forEach((f, i) => {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
      if (typeof f !== 'string' || f === '' || f.length > 4096 || /[\u0000-\u001f]/.test(f))
        problems.push(at(['files', i], 'each entry is a path to a scenario file (relative to the suite file)'));
    });
  const defaultsIn = own(m, 'defaults');
  const defaults = Object.create(null) as Record<string, unknown>;
  if (defaultsIn !== undefined && (defaultsIn === null || typeof defaultsIn !== 'object' || Array.isArray(defaultsIn)))
    problems.push(at(['defaults'], 'defaults must be a mapping'));
  else if (defaultsIn !== undefined) {
    for (const k of Object.keys(defaultsIn)) {
      if (!SUITE_DEFAULT_KEYS.includes(k)) {
        problems.push(at(['defaults', k], `a suite cannot default "${k}" (it can: ${SUITE_DEFAULT_KEYS.join(', ')})`, true));
        continue;
      }
      const v = (defaultsIn as Record<string, unknown>)[k];
      const schema = (ScenarioSchema.shape as Record<string, z.ZodType>)[k]!;
      const r = schema.safeParse(v);
      if (!r.success) {
        for (const f of describeIssues(r.error.issues, v).slice(0, MAX_PROBLEMS + 1)) {
          // an unknown key's path ends with the key: point at the key itself
          problems.push(at(['defaults', k, ...f.path], f.message, f.key !== undefined));
        }
      }
      defaults[k] = v;
    }
  }
  const report = own(m, 'report');
  if (report !== undefined) {
    const r = ScenarioSchema.shape.report.safeParse(report);
    if (!r.success)
      for (const f of describeIssues(r.error.issues, report).slice(0, MAX_PROBLEMS + 1))
        problems.push(at(['report', ...f.path], f.message, f.key !== undefined));
  }
  if (problems.length) throw new InputError(capProblems(problems));
  // each entry on its own, so a file's problems can point at the entry that listed it
  const resolved: string[] = [];
  const listedAt = new Map<string, { file: string; line: number; col: number }>();
  const p2: InputProblem[] = [];
  (files as string[]).forEach((f, i) => {
    const r = resolvePaths([isAbsolute(f) ? f : join(dirname(file), f)]);
    const where = at(['files', i], '');
    for (const p of r.problems) p2.push({ ...where, message: `${p.file}: ${p.message}` });
    for (const x of r.files) {
      if (!listedAt.has(x)) listedAt.set(x, { file, line: where.line!, col: where.col! });
      resolved.push(x);
    }
  });
  if (p2.length) throw new InputError(capProblems(p2));
  return {
    name: typeof name === 'string' ? name : safeStem(basename(dirname(resolve(file)))),
    files: [...new Set(resolved)],
    defaults,
    report: report as ReportSettings | undefined,
    src,
    listedAt,
  };
}

/** Seconds one scenario is expected to take: setup, fidelity probe, and its trials. */
export function estimateSeconds(s: Scenario): number {
  const perTrial = trialSeconds(s.workload, s.path.rttMs, s.path.rateMbit !== undefined ? s.path.rateMbit * 1e6 : undefined);
  return 4 + (s.fidelity.enabled ? 5 : 0) + (s.trials.pairs + s.trials.warmup) * 2 * perTrial;
}

/**
 * The seed a scenario runs with: its own `seed:` (from its file, else the suite's defaults; `--seed`
 * overrides both at load time), else the run's seed. Each scenario of a suite or a multi-file run
 * keeps its own; the manifest records it per scenario, so `--seed <that>` reproduces one scenario.
 */
export function scenarioSeed(s: Pick<Scenario, 'seed'>, runSeed: number): number {
  return s.seed ?? runSeed;
}

/**
 * The run-level seed: `--seed`, else the one seed every scenario shares, else random. It fills in
 * for scenarios without their own (recorded as manifest.seed).
 */
export function runSeed(scenarios: Pick<Scenario, 'seed'>[], cli?: number, random = () => Math.floor(Math.random() * 2 ** 31)): number {
  if (cli !== undefined) return cli;
  const seeds = new Set(scenarios.map((s) => s.seed));
  const only = seeds.size === 1 ? [...seeds][0] : undefined;
  return only ?? random();
}

export function suiteHash(scenarios: Scenario[]): string {
  const h = createHash('sha256');
  for (const s of scenarios) h.update(`${s.id}\0${s.hash}\n`);
  return h.digest('hex').slice(0, 16);
}

export function loadSuite(paths: string[], opts: LoadOptions & { filter?: string } = {}): LoadedSuite {
  const { files: listed, problems } = resolvePaths(paths);
  if (problems.length) throw new InputError(problems);
  const jobs: {
    file: string;
    defaults: Record<string, unknown>;
    from?: YamlSource;
    listedAt?: { file: string; line: number; col: number };
  }[] = [];
  let name: string | undefined;
  let reportFrom: SuiteFile | undefined;
  for (const f of listed) {
    if (isSuiteFile(f)) {
      const sf = readSuiteFile(f);
      name ??= sf.name;
      if (sf.report && !reportFrom) reportFrom = sf;
      for (const file of sf.files) jobs.push({ file, defaults: sf.defaults, from: sf.src, listedAt: sf.listedAt.get(file) });
    } else jobs.push({ file: f, defaults: {} });
  }
  const all: Scenario[] = [];
  const errs: InputProblem[] = [];
  let stopped = false;
  for (const j of jobs) {
    if (errs.length > MAX_PROBLEMS) {
      stopped = true;
      break;
    }
    try {
      all.push(...loadScenarioText(readInputFile(j.file, 'scenario file'), j.file, opts, j.defaults, j.from));
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      // a file that cannot be read at all: point at the suite entry that listed it
      for (const p of e.problems)
        errs.push(
          p.line === undefined && j.listedAt && p.file === j.file ? { ...j.listedAt, path: p.path, message: `${j.file}: ${p.message}` } : p,
        );
    }
  }
  // ids must be unique across the suite (results are keyed by them)
  const seen = new Map<string, string>();
  for (const s of all) {
    const prev = seen.get(s.id);
    if (prev && prev !== s.file)
      errs.push({
        file: s.file,
        ...nameAt(s.file),
        path: 'name',
        message: `scenario id "${s.id}" is also used by ${prev}: give one of them another name`,
      });
    seen.set(s.id, s.file);
  }
  // the suite's report.pivot names dimensions of at least one of its scenarios
  const dims = [...new Set(all.flatMap((s) => Object.keys(s.params)))];
  const rep = resolveReport(reportFrom?.report, dims, 'this suite');
  for (const p of rep.problems) {
    const src = reportFrom!.src;
    const node = (src.doc.getIn(p.path, true) ?? src.doc.getIn(['report'], true)) as Node | undefined;
    errs.push({ file: src.file, ...nodePos(src, node ?? null), path: p.path.join('.'), message: p.message });
  }
  if (errs.length) throw new InputError(capProblems(errs, 0, stopped));
  let scenarios = all;
  if (opts.filter) {
    let re: RegExp;
    try {
      re = new RegExp(opts.filter);
    } catch (e) {
      throw new InputError([{ file: '--filter', path: '', message: `not a regular expression: ${(e as Error).message}` }]);
    }
    scenarios = all.filter((s) => re.test(s.id) || re.test(s.name));
    if (scenarios.length === 0)
      throw new InputError([{ file: '--filter', path: '', message: `no scenario id or name matches /${opts.filter}/` }]);
  }
  const files = [...new Set(jobs.map((j) => j.file))];
  return {
    scenarios,
    suite: {
      name: name ?? (files.length === 1 ? safeStem(basename(files[0]!, extname(files[0]!))) : 'suite'),
      hash: suiteHash(scenarios),
      files,
      scenarioIds: scenarios.map((s) => s.id),
      ...(rep.report ? { report: rep.report } : {}),
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
  if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2]))
    throw new InputError([{ file: '--shard', path: '', message: `expected I/N with 1 <= I <= N, e.g. 1/4 (got "${v}")` }]);
  return { index: Number(m[1]), count: Number(m[2]) };
}
