/**
 * Load a scenario file: parse YAML (keeping positions), validate against the schema, expand the
 * matrix, resolve the topology and normalise every value. Any problem becomes an InputError listing
 * every problem found with file, line, column and field path; nothing is created before this passes.
 */
import { basename, extname } from 'node:path';
import { InputError, type InputProblem } from './errors.js';
import { expandMatrix, MAX_MATRIX_POINTS, matrixSize, pointId } from './matrix.js';
import type { Scenario } from './model.js';
import { resolveReport } from './pivot.js';
import { dedupe, flattenIssues, type Locator, locate, locateInPoint, preferSpecific, ResolveError, schemaProblems } from './problems.js';
import { type LoadOptions, resolveScenario } from './resolve.js';
import { resolveSchemaPath, ScenarioSchema } from './schema.js';
import { capProblems, cloneData, FORBIDDEN_KEYS, MAX_PROBLEMS, parseYaml, readInputFile, type YamlSource } from './source.js';
import { loadTopologyFor } from './topology.js';

export { loadTopology, pathLinks } from './topology.js';

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
// Long by design: the loading steps in order, each stopping with every problem found so far.
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
  // report.pivot must name dimensions of this file's matrix
  const rep = resolveReport(data.report, Object.keys(paths), 'this file');
  for (const p of rep.problems) add(() => locate(l, p.path, p.message));
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
      const s = resolveScenario(pr.data, { id, file, topology, params: point.params, opts });
      if (rep.report) s.report = rep.report;
      scenarios.push(s);
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
