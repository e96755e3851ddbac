/**
 * The run directory layer: the one way into and out of a run directory for the run, resume, judge,
 * report and merge. One format check, one policy:
 *
 *   - manifest.json and verdict.json must be regular files (not links, not directories) holding a
 *     JSON object of the expected format version; anything else is an InputError naming the file.
 *   - results.jsonl is read line by line. A last line without its newline that does not parse is a
 *     write cut short by a crash: it is skipped with a warning. Any other bad line (not JSON, not a
 *     trial record, a trial repeated, a scenario the manifest does not have) is an InputError naming
 *     file and line.
 *   - sizes are bounded (LIMITS); nothing is read through a symbolic link or from a FIFO.
 *
 * Writing (manifest, records, telemetry, verdict) goes through RunStore / writeFileAtomic, creating a
 * run directory through createRunDir / claimOutDir (see store.ts and create.ts). results.jsonl is read
 * by records.ts.
 */
import { readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileProblem, fsError, lstatOrNull, oneLine, readRegularFile, shown, writeFileAtomic } from './files.js';
import type { RunManifest, Verdict } from './types.js';

export const RUN_FORMAT = 'netab-run/1';
export const VERDICT_FORMAT = 'netab-verdict/1';
export const RUN_FILES = { manifest: 'manifest.json', results: 'results.jsonl', verdict: 'verdict.json', telemetry: 'telemetry' } as const;

const MiB = 1024 * 1024;
/** What netab reads at most (a run of 10,000 scenarios × 10,000 pairs does not fit anyway). */
export const LIMITS = {
  manifestBytes: 64 * MiB,
  verdictBytes: 64 * MiB,
  /** one results.jsonl line (one trial with its series) */
  lineBytes: 32 * MiB,
  /** the whole results.jsonl (records are kept in memory by the judge and report) */
  resultsBytes: 512 * MiB,
  /** one telemetry side file copied by merge */
  telemetryBytes: 64 * MiB,
};

// ---------------------------------------------------------------------------------------------
// JSON files

/** Where JSON.parse stopped, as line:col, and a short reason without the file's text in it. */
export function jsonFailure(text: string, e: unknown): { reason: string; line?: number; col?: number } {
  const msg = String((e as Error)?.message ?? e);
  const pos = /at position (\d+)/.exec(msg);
  let reason = msg.split(/, "|\s+in JSON at position/)[0]!;
  if (/Unexpected end of JSON input/.test(msg)) reason = 'it ends in the middle of a value (cut short?)';
  reason = oneLine(reason, 80);
  if (!pos) return { reason };
  const p = Number(pos[1]);
  const before = text.slice(0, p);
  const line = before.split('\n').length;
  const col = p - before.lastIndexOf('\n');
  return { reason, line, col };
}

export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? 'a string' : typeof v === 'number' ? 'a number' : typeof v === 'boolean' ? 'a boolean' : typeof v;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Read a JSON file that must hold one object: missing, empty, `null`, an array, not JSON → InputError. */
export function readJsonObject(file: string, maxBytes: number, what: string): Record<string, unknown> {
  const text = readRegularFile(file, maxBytes).toString('utf8');
  if (text.trim() === '') throw fileProblem(file, `is empty: it should hold the ${what}`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    const f = jsonFailure(text, e);
    throw fileProblem(file, `is not valid JSON (${f.reason})`, f.line, f.col);
  }
  if (!isObject(v)) throw fileProblem(file, `holds ${kindOf(v)}, not the ${what} (a JSON object)`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// manifest.json

type Problem = { path: string; message: string };

function manifestProblem(m: Record<string, unknown>): Problem | null {
  if (m.format !== RUN_FORMAT) {
    if (m.format === undefined) return { path: 'format', message: `missing: not a netab run manifest (expected "${RUN_FORMAT}")` };
    return {
      path: 'format',
      message: `${oneLine(JSON.stringify(m.format), 60)} is not a format this netab reads (${RUN_FORMAT}); was it written by another netab version?`,
    };
  }
  if (typeof m.runId !== 'string' || m.runId === '')
    return { path: 'runId', message: `must be a non-empty string (got ${kindOf(m.runId)})` };
  if (typeof m.seed !== 'number' || !Number.isFinite(m.seed)) return { path: 'seed', message: `must be a number (got ${kindOf(m.seed)})` };
  if (m.aa !== undefined && typeof m.aa !== 'boolean') return { path: 'aa', message: `must be true or false (got ${kindOf(m.aa)})` };
  if (m.environment !== undefined && !isObject(m.environment))
    return { path: 'environment', message: `must be an object (got ${kindOf(m.environment)})` };
  if (m.attempts !== undefined && !Array.isArray(m.attempts))
    return { path: 'attempts', message: `must be a list (got ${kindOf(m.attempts)})` };
  if (!Array.isArray(m.scenarios)) return { path: 'scenarios', message: `must be a list of scenarios (got ${kindOf(m.scenarios)})` };
  const ids = new Set<string>();
  for (const [i, s] of m.scenarios.entries()) {
    const at = `scenarios[${i}]`;
    if (!isObject(s)) return { path: at, message: `must be an object (got ${kindOf(s)})` };
    if (typeof s.id !== 'string' || s.id === '') return { path: `${at}.id`, message: `must be a non-empty string (got ${kindOf(s.id)})` };
    if (ids.has(s.id)) return { path: `${at}.id`, message: `scenario ${oneLine(JSON.stringify(s.id), 80)} is listed twice` };
    ids.add(s.id);
    if (s.hash !== undefined && typeof s.hash !== 'string')
      return { path: `${at}.hash`, message: `must be a string (got ${kindOf(s.hash)})` };
    if (s.seed !== undefined && !(Number.isSafeInteger(s.seed) && (s.seed as number) >= 0))
      return { path: `${at}.seed`, message: `must be a whole number >= 0 (got ${kindOf(s.seed)})` };
    if (s.params !== undefined && !isObject(s.params))
      return { path: `${at}.params`, message: `must be an object (got ${kindOf(s.params)})` };
    if (s.judge !== undefined) {
      if (!isObject(s.judge)) return { path: `${at}.judge`, message: `must be an object (got ${kindOf(s.judge)})` };
      if (s.judge.metrics !== undefined && !Array.isArray(s.judge.metrics))
        return { path: `${at}.judge.metrics`, message: `must be a list (got ${kindOf(s.judge.metrics)})` };
      for (const [j, x] of ((s.judge.metrics as unknown[] | undefined) ?? []).entries())
        if (!isObject(x) || typeof x.name !== 'string')
          return { path: `${at}.judge.metrics[${j}]`, message: 'must be an object with a name' };
    }
  }
  if (m.suite !== undefined) {
    const su = m.suite;
    if (!isObject(su)) return { path: 'suite', message: `must be an object (got ${kindOf(su)})` };
    if (typeof su.name !== 'string') return { path: 'suite.name', message: `must be a string (got ${kindOf(su.name)})` };
    if (typeof su.hash !== 'string') return { path: 'suite.hash', message: `must be a string (got ${kindOf(su.hash)})` };
    if (!Array.isArray(su.scenarioIds) || su.scenarioIds.some((x) => typeof x !== 'string'))
      return { path: 'suite.scenarioIds', message: 'must be a list of scenario ids' };
    if (su.shard !== undefined) {
      const sh = su.shard;
      if (
        !isObject(sh) ||
        !Number.isInteger(sh.index) ||
        !Number.isInteger(sh.count) ||
        (sh.index as number) < 1 ||
        (sh.index as number) > (sh.count as number)
      )
        return { path: 'suite.shard', message: 'must be {index, count} with 1 ≤ index ≤ count' };
    }
  }
  return null;
}

/** Check an object read from manifest.json; throws an InputError naming the file and the field. */
export function checkManifest(m: Record<string, unknown>, file: string = RUN_FILES.manifest): RunManifest {
  const p = manifestProblem(m);
  if (p) throw fileProblem(file, p.message, undefined, undefined, p.path);
  return m as unknown as RunManifest;
}

/** --resume needs every scenario's expanded definition in the manifest. */
export function checkResumable(m: RunManifest, file: string): void {
  for (const [i, s] of m.scenarios.entries())
    if (!isObject(s.scenario))
      throw fileProblem(
        file,
        'has no expanded scenario here: this run cannot be resumed (start a new run)',
        undefined,
        undefined,
        `scenarios[${i}].scenario`,
      );
}

/** Check that `dir` exists and is a directory (a link to one is fine: the user named it). */
export function checkRunDir(dir: string): void {
  const st = lstatOrNull(dir);
  if (!st) throw fileProblem(dir, 'no such run directory');
  if (st.isSymbolicLink()) {
    let real: string;
    try {
      real = realpathSync(dir);
    } catch (e) {
      throw fsError(dir, e, 'open');
    }
    const t = lstatOrNull(real);
    if (!t?.isDirectory()) throw fileProblem(dir, 'is not a directory: give a run directory (it holds manifest.json)');
    return;
  }
  if (!st.isDirectory()) throw fileProblem(dir, 'is not a directory: give a run directory (it holds manifest.json)');
}

/** manifest.json of a run directory, format-checked. */
export function readManifest(dir: string): RunManifest {
  checkRunDir(dir);
  const file = join(dir, RUN_FILES.manifest);
  if (!lstatOrNull(file)) throw fileProblem(file, `not found: ${shown(dir)} is not a netab run directory`);
  return checkManifest(readJsonObject(file, LIMITS.manifestBytes, 'run manifest'), file);
}

// ---------------------------------------------------------------------------------------------
// verdict.json

function verdictProblem(v: Record<string, unknown>): Problem | null {
  if (v.format !== VERDICT_FORMAT) {
    if (v.format === undefined) return { path: 'format', message: `missing: not a netab verdict (expected "${VERDICT_FORMAT}")` };
    return {
      path: 'format',
      message: `${oneLine(JSON.stringify(v.format), 60)} is not a format this netab reads (${VERDICT_FORMAT}); re-judge the run with \`netab judge DIR\``,
    };
  }
  if (v.decision !== 'promote' && v.decision !== 'hold' && v.decision !== 'rollback')
    return { path: 'decision', message: 'must be promote, hold or rollback' };
  if (!Array.isArray(v.reasons) || v.reasons.some((r) => typeof r !== 'string'))
    return { path: 'reasons', message: 'must be a list of strings' };
  if (!Array.isArray(v.scenarios)) return { path: 'scenarios', message: `must be a list (got ${kindOf(v.scenarios)})` };
  for (const [i, s] of v.scenarios.entries()) {
    if (!isObject(s) || typeof s.id !== 'string') return { path: `scenarios[${i}]`, message: 'must be an object with an id' };
    if (!Array.isArray(s.metrics)) return { path: `scenarios[${i}].metrics`, message: 'must be a list' };
    if (!Array.isArray(s.reasons)) return { path: `scenarios[${i}].reasons`, message: 'must be a list' };
  }
  return null;
}

/** verdict.json of a run directory, format-checked; a missing one says to judge the run first. */
export function readVerdict(dir: string): Verdict {
  const file = join(dir, RUN_FILES.verdict);
  if (!lstatOrNull(file)) throw fileProblem(file, 'not found: judge the run first (`netab judge DIR`)');
  const v = readJsonObject(file, LIMITS.verdictBytes, 'verdict');
  const p = verdictProblem(v);
  if (p) throw fileProblem(file, p.message, undefined, undefined, p.path);
  return v as unknown as Verdict;
}

/** Write verdict.json atomically (never through a link). Returns its path. */
export function writeVerdictFile(dir: string, verdict: Verdict): string {
  const path = join(dir, RUN_FILES.verdict);
  writeFileAtomic(path, JSON.stringify(verdict, null, 2) + '\n');
  return path;
}

// ---------------------------------------------------------------------------------------------
// telemetry/

/** Names of the regular files in telemetry/ (a link or anything else there is an InputError). */
export function listTelemetry(dir: string): string[] {
  const tdir = join(dir, RUN_FILES.telemetry);
  const st = lstatOrNull(tdir);
  if (!st) return [];
  if (!st.isDirectory())
    throw fileProblem(
      tdir,
      st.isSymbolicLink() ? 'is a symbolic link; netab does not follow links inside a run directory' : 'is not a directory',
    );
  let names: string[];
  try {
    names = readdirSync(tdir);
  } catch (e) {
    throw fsError(tdir, e, 'list');
  }
  for (const n of names) {
    const f = lstatOrNull(join(tdir, n));
    if (f && !f.isFile())
      throw fileProblem(
        join(tdir, n),
        f.isSymbolicLink() ? 'is a symbolic link; netab does not follow links inside a run directory' : 'is not a regular file',
      );
  }
  return names.sort();
}
