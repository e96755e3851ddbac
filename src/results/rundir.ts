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
 * run directory through createRunDir / claimOutDir (see store.ts and below).
 */
import { readdirSync, realpathSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError } from '../errors.js';
import { fileProblem, fsError, lstatOrNull, mkdirExclusive, oneLine, readRegularFile, shown, streamRegularFile, writeFileAtomic } from './files.js';
import type { RunManifest, TrialRecord, Verdict } from './types.js';

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
function jsonFailure(text: string, e: unknown): { reason: string; line?: number; col?: number } {
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

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? 'a string' : typeof v === 'number' ? 'a number' : typeof v === 'boolean' ? 'a boolean' : typeof v;
}

function isObject(v: unknown): v is Record<string, unknown> {
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
    return { path: 'format', message: `${oneLine(JSON.stringify(m.format), 60)} is not a format this netab reads (${RUN_FORMAT}); was it written by another netab version?` };
  }
  if (typeof m.runId !== 'string' || m.runId === '') return { path: 'runId', message: `must be a non-empty string (got ${kindOf(m.runId)})` };
  if (typeof m.seed !== 'number' || !Number.isFinite(m.seed)) return { path: 'seed', message: `must be a number (got ${kindOf(m.seed)})` };
  if (m.aa !== undefined && typeof m.aa !== 'boolean') return { path: 'aa', message: `must be true or false (got ${kindOf(m.aa)})` };
  if (m.environment !== undefined && !isObject(m.environment)) return { path: 'environment', message: `must be an object (got ${kindOf(m.environment)})` };
  if (m.attempts !== undefined && !Array.isArray(m.attempts)) return { path: 'attempts', message: `must be a list (got ${kindOf(m.attempts)})` };
  if (!Array.isArray(m.scenarios)) return { path: 'scenarios', message: `must be a list of scenarios (got ${kindOf(m.scenarios)})` };
  const ids = new Set<string>();
  for (const [i, s] of m.scenarios.entries()) {
    const at = `scenarios[${i}]`;
    if (!isObject(s)) return { path: at, message: `must be an object (got ${kindOf(s)})` };
    if (typeof s.id !== 'string' || s.id === '') return { path: `${at}.id`, message: `must be a non-empty string (got ${kindOf(s.id)})` };
    if (ids.has(s.id)) return { path: `${at}.id`, message: `scenario ${oneLine(JSON.stringify(s.id), 80)} is listed twice` };
    ids.add(s.id);
    if (s.hash !== undefined && typeof s.hash !== 'string') return { path: `${at}.hash`, message: `must be a string (got ${kindOf(s.hash)})` };
    if (s.params !== undefined && !isObject(s.params)) return { path: `${at}.params`, message: `must be an object (got ${kindOf(s.params)})` };
    if (s.judge !== undefined) {
      if (!isObject(s.judge)) return { path: `${at}.judge`, message: `must be an object (got ${kindOf(s.judge)})` };
      if (s.judge.metrics !== undefined && !Array.isArray(s.judge.metrics)) return { path: `${at}.judge.metrics`, message: `must be a list (got ${kindOf(s.judge.metrics)})` };
      for (const [j, x] of ((s.judge.metrics as unknown[] | undefined) ?? []).entries())
        if (!isObject(x) || typeof x.name !== 'string') return { path: `${at}.judge.metrics[${j}]`, message: 'must be an object with a name' };
    }
  }
  if (m.suite !== undefined) {
    const su = m.suite;
    if (!isObject(su)) return { path: 'suite', message: `must be an object (got ${kindOf(su)})` };
    if (typeof su.name !== 'string') return { path: 'suite.name', message: `must be a string (got ${kindOf(su.name)})` };
    if (typeof su.hash !== 'string') return { path: 'suite.hash', message: `must be a string (got ${kindOf(su.hash)})` };
    if (!Array.isArray(su.scenarioIds) || su.scenarioIds.some((x) => typeof x !== 'string')) return { path: 'suite.scenarioIds', message: 'must be a list of scenario ids' };
    if (su.shard !== undefined) {
      const sh = su.shard;
      if (!isObject(sh) || !Number.isInteger(sh.index) || !Number.isInteger(sh.count) || (sh.index as number) < 1 || (sh.index as number) > (sh.count as number))
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
    if (!isObject(s.scenario)) throw fileProblem(file, 'has no expanded scenario here: this run cannot be resumed (start a new run)', undefined, undefined, `scenarios[${i}].scenario`);
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
// results.jsonl

export interface ResultsReadOptions {
  /** the name used in messages (default: results.jsonl) */
  source?: string;
  /** warnings mention this short name instead of `source` (kept out of the verdict's paths) */
  warnAs?: string;
  /** scenario ids a record may name (from the manifest); undefined: any */
  scenarios?: ReadonlySet<string>;
  lineBytes?: number;
}

/** One record line checked; returns null for a record kind this netab does not read (ignored). */
function checkRecord(v: unknown): { record: TrialRecord | null; problem?: string } {
  if (!isObject(v)) return { record: null, problem: `holds ${kindOf(v)}, not a trial record (a JSON object)` };
  if (typeof v.type !== 'string') return { record: null, problem: 'has no "type": not a netab record' };
  if (v.type !== 'trial') return { record: null }; // room for other record kinds
  if (typeof v.scenario !== 'string' || v.scenario === '') return { record: null, problem: 'trial record without a scenario id' };
  if (v.arm !== 'control' && v.arm !== 'canary') return { record: null, problem: `arm must be "control" or "canary" (got ${oneLine(JSON.stringify(v.arm) ?? 'nothing', 40)})` };
  if (!Number.isInteger(v.pair) || (v.pair as number) < 0) return { record: null, problem: `pair must be a whole number ≥ 0 (got ${oneLine(JSON.stringify(v.pair) ?? 'nothing', 40)})` };
  if (v.status !== 'ok' && v.status !== 'failed') return { record: null, problem: `status must be "ok" or "failed" (got ${oneLine(JSON.stringify(v.status) ?? 'nothing', 40)})` };
  if (v.warmup !== undefined && typeof v.warmup !== 'boolean') return { record: null, problem: 'warmup must be true or false' };
  if (v.metrics !== undefined) {
    if (!isObject(v.metrics)) return { record: null, problem: `metrics must be an object (got ${kindOf(v.metrics)})` };
    for (const [k, x] of Object.entries(v.metrics))
      if (x !== null && typeof x !== 'number') return { record: null, problem: `metric ${oneLine(JSON.stringify(k), 40)} must be a number or null (got ${kindOf(x)})` };
  }
  const rec = v as unknown as TrialRecord;
  if (rec.metrics === undefined) rec.metrics = {};
  if (rec.warmup === undefined) rec.warmup = false;
  return { record: rec };
}

/**
 * The line-by-line results.jsonl reader: feed it chunks in order, then end(). Holds at most one line
 * in memory besides the records.
 */
export class ResultsParser {
  readonly records: TrialRecord[] = [];
  readonly warnings: string[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private lineNo = 0;
  private seen = new Map<string, number>();
  private readonly source: string;
  private readonly warnAs: string;
  private readonly lineBytes: number;

  constructor(private readonly o: ResultsReadOptions = {}) {
    this.source = o.source ?? RUN_FILES.results;
    this.warnAs = o.warnAs ?? this.source;
    this.lineBytes = o.lineBytes ?? LIMITS.lineBytes;
  }

  feed(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const whole = this.pendingBytes === 0; // the line lies in this chunk: no copy
      this.take(chunk.subarray(start, nl), whole);
      this.line(whole ? chunk.subarray(start, nl) : Buffer.concat(this.pending, this.pendingBytes), false);
      this.pending = [];
      this.pendingBytes = 0;
      start = nl + 1;
    }
    if (start < chunk.length) this.take(chunk.subarray(start));
  }

  /** The file ended: what is left without a newline is the last line (possibly torn). */
  end(): { records: TrialRecord[]; warnings: string[] } {
    if (this.pendingBytes > 0) this.line(Buffer.concat(this.pending, this.pendingBytes), true);
    this.pending = [];
    this.pendingBytes = 0;
    return { records: this.records, warnings: this.warnings };
  }

  /** Keep part of the current line (checked against the line limit); `whole`: the line is complete in b, nothing to keep. */
  private take(b: Buffer, whole = false): void {
    if (this.pendingBytes + b.length > this.lineBytes)
      throw fileProblem(this.source, `longer than ${this.lineBytes} bytes: not a trial record netab wrote`, this.lineNo + 1);
    if (b.length && !whole) {
      this.pending.push(Buffer.from(b));
      this.pendingBytes += b.length;
    }
  }

  private line(buf: Buffer, last: boolean): void {
    this.lineNo++;
    const n = this.lineNo;
    const text = buf.toString('utf8').trim();
    if (text === '') return;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      if (last) {
        this.warnings.push(`${this.warnAs}: ignored a truncated last line (${buf.length} bytes), left by an interrupted write.`);
        return;
      }
      const f = jsonFailure(text, e);
      throw fileProblem(this.source, `not valid JSON (${f.reason}); only a cut-short last line is tolerated: remove or repair line ${n}`, n);
    }
    const { record, problem } = checkRecord(v);
    if (problem) throw fileProblem(this.source, problem.startsWith('holds') || problem.startsWith('has') ? problem : `bad trial record: ${problem}`, n);
    if (!record) return;
    if (this.o.scenarios && !this.o.scenarios.has(record.scenario))
      throw fileProblem(this.source, `a trial of scenario ${oneLine(JSON.stringify(record.scenario), 80)}, which manifest.json does not list`, n);
    // a later attempt, or a replacement of a suspect pair (extra.replacement.round), may re-run a
    // trial (the judge keeps the latest); the same trial twice in the same attempt and round means the
    // results were appended twice (a second run into the same folder, a merge into an input)
    const key = `${record.scenario}#${record.pair}-${record.arm}`;
    const rep = isObject(record.extra) && isObject(record.extra.replacement) ? record.extra.replacement.round : undefined;
    const akey = `${key}@${String(record.attempt ?? '')}~${String(rep ?? '')}`;
    const prev = this.seen.get(akey);
    if (prev !== undefined)
      throw fileProblem(this.source, `repeats trial ${oneLine(key, 100)} of line ${prev} in the same attempt (results appended twice?)`, n);
    this.seen.set(akey, n);
    this.records.push(record);
  }
}

/** Parse results.jsonl text held in memory (tests, small inputs): the same policy as readRecords. */
export function parseResultsText(text: string, o: ResultsReadOptions = {}): { records: TrialRecord[]; warnings: string[] } {
  const p = new ResultsParser(o);
  p.feed(Buffer.from(text, 'utf8'));
  return p.end();
}

/**
 * Stream results.jsonl of a run directory. A missing file is no records (with a warning); a link, a
 * directory or a FIFO in its place is an InputError.
 */
export function readResults(dir: string, o: Omit<ResultsReadOptions, 'source'> = {}): { records: TrialRecord[]; warnings: string[] } {
  const file = join(dir, RUN_FILES.results);
  if (!lstatOrNull(file)) return { records: [], warnings: [`${RUN_FILES.results} is missing: no trial was recorded.`] };
  const p = new ResultsParser({ warnAs: RUN_FILES.results, ...o, source: file });
  streamRegularFile(file, LIMITS.resultsBytes, (b) => p.feed(b));
  return p.end();
}

// ---------------------------------------------------------------------------------------------
// verdict.json

function verdictProblem(v: Record<string, unknown>): Problem | null {
  if (v.format !== VERDICT_FORMAT) {
    if (v.format === undefined) return { path: 'format', message: `missing: not a netab verdict (expected "${VERDICT_FORMAT}")` };
    return { path: 'format', message: `${oneLine(JSON.stringify(v.format), 60)} is not a format this netab reads (${VERDICT_FORMAT}); re-judge the run with \`netab judge DIR\`` };
  }
  if (v.decision !== 'promote' && v.decision !== 'hold' && v.decision !== 'rollback') return { path: 'decision', message: 'must be promote, hold or rollback' };
  if (!Array.isArray(v.reasons) || v.reasons.some((r) => typeof r !== 'string')) return { path: 'reasons', message: 'must be a list of strings' };
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
// the whole directory

export interface RunDirData {
  dir: string;
  manifest: RunManifest;
  records: TrialRecord[];
  /** things tolerated while reading (a cut-short last line, no results.jsonl) */
  warnings: string[];
}

/** manifest.json + results.jsonl (records checked against the manifest's scenario ids). */
export function readRunDir(dir: string): RunDirData {
  const manifest = readManifest(dir);
  const { records, warnings } = readResults(dir, { scenarios: new Set(manifest.scenarios.map((s) => s.id)) });
  // a merged run carries what was tolerated reading its shards
  const carried = Array.isArray(manifest.suite?.mergeWarnings) ? manifest.suite.mergeWarnings.filter((w) => typeof w === 'string') : [];
  return { dir, manifest, records, warnings: [...carried, ...warnings] };
}

/** Names of the regular files in telemetry/ (a link or anything else there is an InputError). */
export function listTelemetry(dir: string): string[] {
  const tdir = join(dir, RUN_FILES.telemetry);
  const st = lstatOrNull(tdir);
  if (!st) return [];
  if (!st.isDirectory()) throw fileProblem(tdir, st.isSymbolicLink() ? 'is a symbolic link; netab does not follow links inside a run directory' : 'is not a directory');
  let names: string[];
  try {
    names = readdirSync(tdir);
  } catch (e) {
    throw fsError(tdir, e, 'list');
  }
  for (const n of names) {
    const f = lstatOrNull(join(tdir, n));
    if (f && !f.isFile()) throw fileProblem(join(tdir, n), f.isSymbolicLink() ? 'is a symbolic link; netab does not follow links inside a run directory' : 'is not a regular file');
  }
  return names.sort();
}

// ---------------------------------------------------------------------------------------------
// creating run directories

/**
 * A name made safe for one path segment: letters, digits, `.`, `_`, `-` (anything else becomes `_`),
 * no leading dot, at most 64 characters, never empty. `../../tmp/x` becomes `tmp_x`-like, never a path.
 */
export function safeName(name: string): string {
  let s = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._-]+/, '').replace(/_+$/, '');
  if (s.length > 64) s = s.slice(0, 64);
  return s || 'run';
}

/** The stem a run directory is named after: the suite's name (for one scenario file: the file stem), plus the shard. */
export function runDirStem(suite: { name: string; shard?: { index: number; count: number } }): string {
  return suite.shard ? `${safeName(suite.name)}-shard${suite.shard.index}of${suite.shard.count}` : safeName(suite.name);
}

/** `<root>/<safe stem>-<YYYYMMDD-HHMMSS>`: the default run directory path (not created). */
export function runDirPath(root: string, stem: string, when = new Date()): string {
  const ts = when.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return join(root, `${safeName(stem)}-${ts}`);
}

/** true when `inner` is `outer` or below it (both already real paths). */
function within(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function realOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

/** The real path of `p`, or of its deepest existing ancestor with the rest appended (p need not exist). */
function realish(p: string): string {
  const abs = resolve(p);
  const real = realOrNull(abs);
  if (real) return real;
  const parent = resolve(abs, '..');
  return parent === abs ? abs : join(realish(parent), basename(abs));
}

function mkdirParents(dir: string): void {
  const st = lstatOrNull(dir);
  if (st) {
    if (st.isDirectory()) return;
    if (st.isSymbolicLink() && realOrNull(dir) && lstatOrNull(realOrNull(dir)!)?.isDirectory()) return;
    throw fileProblem(dir, 'is not a directory');
  }
  mkdirParents(resolve(dir, '..'));
  mkdirExclusive(dir);
}

/**
 * Create a new run directory `<root>/<safe stem>-<timestamp>` exclusively (mkdir that fails if it
 * exists; a second run in the same second gets `-2`, `-3`, ...), and check it is inside `root`.
 */
export function createRunDir(root: string, stem: string, when = new Date()): string {
  mkdirParents(resolve(root));
  const realRoot = realpathSync(resolve(root));
  const base = runDirPath(realRoot, stem, when);
  for (let i = 1; i <= 100; i++) {
    const dir = i === 1 ? base : `${base}-${i}`;
    if (!within(resolve(dir), realRoot)) throw fileProblem(dir, `is outside ${shown(realRoot)}: refusing to create it`);
    if (mkdirExclusive(dir)) {
      const real = realpathSync(dir);
      if (!within(real, realRoot)) throw fileProblem(dir, `resolves outside ${shown(realRoot)}: refusing to use it`);
      return real;
    }
  }
  throw fileProblem(base, 'exists, and so do 99 numbered variants: choose another folder with --out');
}

/**
 * `--out DIR` for a new run: created if missing (exclusively), accepted if it is an empty directory;
 * a non-empty one is refused (it holds another run: appending would double its results).
 */
export function claimOutDir(dir: string): string {
  const abs = resolve(dir);
  const st = lstatOrNull(abs);
  if (!st) {
    mkdirParents(resolve(abs, '..'));
    if (!mkdirExclusive(abs)) throw fileProblem(dir, 'was created by something else meanwhile: choose another folder');
    return realpathSync(abs);
  }
  if (st.isSymbolicLink()) throw fileProblem(dir, 'is a symbolic link: give the folder itself');
  if (!st.isDirectory()) throw fileProblem(dir, 'exists and is not a directory: choose another folder');
  let entries: string[];
  try {
    entries = readdirSync(abs);
  } catch (e) {
    throw fsError(dir, e, 'list');
  }
  if (entries.length > 0) throw fileProblem(dir, 'is not empty: use --resume DIR to continue it or choose another folder');
  return realpathSync(abs);
}

/** Check an --out for a new run without creating anything (exit 2 early, before any testbed). */
export function checkOutDir(dir: string): void {
  const st = lstatOrNull(resolve(dir));
  if (!st) return;
  if (st.isSymbolicLink()) throw fileProblem(dir, 'is a symbolic link: give the folder itself');
  if (!st.isDirectory()) throw fileProblem(dir, 'exists and is not a directory: choose another folder');
  let entries: string[];
  try {
    entries = readdirSync(resolve(dir));
  } catch (e) {
    throw fsError(dir, e, 'list');
  }
  if (entries.length > 0) throw fileProblem(dir, 'is not empty: use --resume DIR to continue it or choose another folder');
}

/** Refuse a merge output that is one of its inputs or inside one (after following links). */
export function checkMergeOutput(inputs: string[], out: string): void {
  const realOut = realish(out);
  for (const d of inputs) {
    const real = realish(d);
    if (within(realOut, real))
      throw new InputError([{ file: shown(out), path: '', message: `is ${realOut === real ? 'one of the inputs' : 'inside the input'} ${shown(d)}: merge into a new folder` }]);
  }
}
