/** results.jsonl: the line-by-line reader and its one policy (see rundir.ts), and the whole run directory read. */
import { createHash, type Hash } from 'node:crypto';
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { fileProblem, lstatOrNull, oneLine, streamRegularFile } from './files.js';
import { splitSeries } from './jsonscan.js';
import { isObject, jsonFailure, kindOf, LIMITS, readManifest, RUN_FILES } from './rundir.js';
import { RepeatIndex } from './repeats.js';
import { deferTo, type SeriesFile, type SeriesShape, SeriesTable } from './series.js';
import type { RunManifest, TrialRecord } from './types.js';

export interface ResultsReadOptions {
  /** the name used in messages (default: results.jsonl) */
  source?: string;
  /** warnings mention this short name instead of `source` (kept out of the verdict's paths) */
  warnAs?: string;
  /** scenario ids a record may name (from the manifest); undefined: any */
  scenarios?: ReadonlySet<string>;
  lineBytes?: number;
  /** leave each record's "series" in this file, read back on demand (results/series.ts) */
  deferSeries?: SeriesFile;
}

const RBRACE = 0x7d;

/** One record line checked; returns null for a record kind this netab does not read (ignored). */
function checkRecord(v: unknown): { record: TrialRecord | null; problem?: string } {
  if (!isObject(v)) return { record: null, problem: `holds ${kindOf(v)}, not a trial record (a JSON object)` };
  if (typeof v.type !== 'string') return { record: null, problem: 'has no "type": not a netab record' };
  if (v.type !== 'trial') return { record: null }; // room for other record kinds
  if (typeof v.scenario !== 'string' || v.scenario === '') return { record: null, problem: 'trial record without a scenario id' };
  if (v.arm !== 'control' && v.arm !== 'canary')
    return { record: null, problem: `arm must be "control" or "canary" (got ${oneLine(JSON.stringify(v.arm) ?? 'nothing', 40)})` };
  if (!Number.isInteger(v.pair) || (v.pair as number) < 0)
    return { record: null, problem: `pair must be a whole number ≥ 0 (got ${oneLine(JSON.stringify(v.pair) ?? 'nothing', 40)})` };
  if (v.status !== 'ok' && v.status !== 'failed')
    return { record: null, problem: `status must be "ok" or "failed" (got ${oneLine(JSON.stringify(v.status) ?? 'nothing', 40)})` };
  if (v.warmup !== undefined && typeof v.warmup !== 'boolean') return { record: null, problem: 'warmup must be true or false' };
  if (v.metrics !== undefined) {
    if (!isObject(v.metrics)) return { record: null, problem: `metrics must be an object (got ${kindOf(v.metrics)})` };
    const metrics = v.metrics;
    for (const k of Object.keys(metrics)) {
      const x = metrics[k];
      if (x !== null && typeof x !== 'number')
        return { record: null, problem: `metric ${oneLine(JSON.stringify(k), 40)} must be a number or null (got ${kindOf(x)})` };
    }
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
  /** keys of the records so far (repeats.ts) */
  private seen = new RepeatIndex();
  /** byte offsets: of the current chunk, of the current line */
  private base = 0;
  private lineStart = 0;
  /** series shapes met so far, by their raw keys and lengths (records share them) */
  private shapes = new Map<string, SeriesShape>();
  /** the last line's series keys (raw bytes) and lengths with their shape: most lines repeat it */
  private last: { keys: Uint8Array[]; lens: number[]; shape: SeriesShape } | null = null;
  /** where a line without its series is put together for JSON.parse (see withoutSeries) */
  private scratch: Buffer | null = null;
  /** where the deferred series lie (series.ts) */
  private readonly table: SeriesTable | null;
  /** scenario ids and the run id met so far, each kept once for all the records that name it */
  private names = new Map<string, string>();
  private runId: string | null = null;
  private readonly source: string;
  private readonly warnAs: string;
  private readonly lineBytes: number;

  constructor(private readonly o: ResultsReadOptions = {}) {
    this.source = o.source ?? RUN_FILES.results;
    this.warnAs = o.warnAs ?? this.source;
    this.lineBytes = o.lineBytes ?? LIMITS.lineBytes;
    this.table = o.deferSeries ? new SeriesTable(o.deferSeries) : null;
  }

  feed(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      if (this.pendingBytes === 0) {
        // the line lies in this chunk: no copy
        this.take(chunk, start, nl, true);
        this.line(chunk, start, nl, false);
      } else {
        this.take(chunk, start, nl);
        const b = Buffer.concat(this.pending, this.pendingBytes);
        this.line(b, 0, b.length, false);
      }
      this.pending = [];
      this.pendingBytes = 0;
      start = nl + 1;
      this.lineStart = this.base + start;
    }
    if (start < chunk.length) this.take(chunk, start, chunk.length);
    this.base += chunk.length;
  }

  /** The file ended: what is left without a newline is the last line (possibly torn). */
  end(): { records: TrialRecord[]; warnings: string[] } {
    if (this.pendingBytes > 0) {
      const b = Buffer.concat(this.pending, this.pendingBytes);
      this.line(b, 0, b.length, true);
    }
    this.pending = [];
    this.pendingBytes = 0;
    return { records: this.records, warnings: this.warnings };
  }

  /**
   * Keep part of the current line, b[s, e) (checked against the line limit); `whole`: the line is
   * complete there, nothing to keep.
   */
  private take(b: Buffer, s: number, e: number, whole = false): void {
    if (this.pendingBytes + (e - s) > this.lineBytes)
      throw fileProblem(this.source, `longer than ${this.lineBytes} bytes: not a trial record netab wrote`, this.lineNo + 1);
    if (e > s && !whole) {
      this.pending.push(Buffer.from(b.subarray(s, e)));
      this.pendingBytes += e - s;
    }
  }

  /** The line b[s, e) (without its newline); `last`: the file ended without a newline after it. */
  private line(buf: Buffer, s: number, e: number, last: boolean): void {
    this.lineNo++;
    const n = this.lineNo;
    let v: unknown = this.table ? this.withoutSeries(buf, s, e, this.table, n) : undefined;
    const text = v === undefined ? buf.toString('utf8', s, e).trim() : '';
    if (v === undefined && text === '') return;
    try {
      v ??= JSON.parse(text);
    } catch (err) {
      if (last) {
        this.warnings.push(`${this.warnAs}: ignored a truncated last line (${e - s} bytes), left by an interrupted write.`);
        return;
      }
      const f = jsonFailure(text, err);
      throw fileProblem(
        this.source,
        `not valid JSON (${f.reason}); only a cut-short last line is tolerated: remove or repair line ${n}`,
        n,
      );
    }
    const { record, problem } = checkRecord(v);
    if (problem)
      throw fileProblem(
        this.source,
        problem.startsWith('holds') || problem.startsWith('has') ? problem : `bad trial record: ${problem}`,
        n,
      );
    if (!record) return;
    // the same ids as one string each (equal strings, so the records read the same): a hundred
    // thousand records hold a few strings instead of one per record
    let scenario = this.names.get(record.scenario);
    if (scenario === undefined) {
      if (this.o.scenarios && !this.o.scenarios.has(record.scenario))
        throw fileProblem(
          this.source,
          `a trial of scenario ${oneLine(JSON.stringify(record.scenario), 80)}, which manifest.json does not list`,
          n,
        );
      scenario = record.scenario;
      if (this.names.size < 4096) this.names.set(scenario, scenario);
    }
    record.scenario = scenario;
    if (typeof record.runId === 'string') {
      if (record.runId === this.runId) record.runId = this.runId;
      else this.runId = record.runId;
    }
    // a later attempt, or a replacement of a suspect pair (extra.replacement.round), may re-run a
    // trial (the judge keeps the latest); the same trial twice in the same attempt and round means the
    // results were appended twice (a second run into the same folder, a merge into an input)
    const rep = isObject(record.extra) && isObject(record.extra.replacement) ? record.extra.replacement.round : undefined;
    const prev = this.seen.repeated(record, rep, n);
    if (prev !== undefined) {
      const key = `${record.scenario}#${record.pair}-${record.arm}`;
      throw fileProblem(this.source, `repeats trial ${oneLine(key, 100)} of line ${prev} in the same attempt (results appended twice?)`, n);
    }
    this.records.push(record);
  }

  /** The last line's shape when this line's series keys (triplets, see SeriesSplit) are byte for byte its keys, with the same lengths. */
  private sameAsLast(buf: Buffer, keys: readonly number[]): SeriesShape | null {
    const l = this.last;
    if (!l || 3 * l.keys.length !== keys.length) return null;
    for (let q = 0; q < l.keys.length; q++) {
      const start = keys[3 * q]!;
      const raw = l.keys[q]!;
      if (keys[3 * q + 2] !== l.lens[q] || keys[3 * q + 1]! - start !== raw.length) return null;
      for (let x = 0; x < raw.length; x++) if (buf[start + x] !== raw[x]) return null;
    }
    return l.shape;
  }

  /**
   * The record of line b[s, e) parsed without its top-level "series" object, which stays in the file
   * (deferTo); undefined when the line is anything else (then it is parsed whole, as always).
   */
  private withoutSeries(buf: Buffer, s: number, e: number, table: SeriesTable, n: number): unknown {
    const cut = splitSeries(buf, s, e);
    if (!cut) return undefined;
    let v: unknown;
    try {
      // the line without the member, put together in one buffer and decoded once: the cut lies
      // between ASCII bytes, so decoding the two parts is decoding the line without it
      const head = cut.cutStart - s;
      const size = head + (e - cut.cutEnd);
      if (!this.scratch || this.scratch.length < size) this.scratch = Buffer.allocUnsafe(Math.max(size, 64 * 1024));
      const b = this.scratch;
      buf.copy(b, 0, s, cut.cutStart);
      if (cut.cutEnd === e - 1)
        b[head] = RBRACE; // the series was the last member (the usual case)
      else buf.copy(b, head, cut.cutEnd, e);
      v = JSON.parse(b.toString('utf8', 0, size));
      if (b.length > 1024 * 1024) this.scratch = null; // a huge line: do not keep its buffer
    } catch {
      return undefined;
    }
    // a second "series" spelled with escapes: JSON.parse would keep the last one, leave it to it
    if (!isObject(v) || Object.hasOwn(v, 'series')) return undefined;
    const keys = cut.keys;
    let shape: SeriesShape | null | undefined = this.sameAsLast(buf, keys);
    if (!shape) {
      let sig = '';
      for (let q = 0; q < keys.length; q += 3) sig += buf.toString('latin1', keys[q], keys[q + 1]) + keys[q + 2];
      shape = this.shapes.get(sig);
      if (!shape) {
        const m = new Map<string, number>();
        for (let q = 0; q < keys.length; q += 3) m.set(JSON.parse(buf.toString('utf8', keys[q], keys[q + 1])) as string, keys[q + 2]!);
        shape = m;
        this.shapes.set(sig, shape);
      }
      const raw: Uint8Array[] = [];
      const lens: number[] = [];
      for (let q = 0; q < keys.length; q += 3) {
        raw.push(Uint8Array.from(buf.subarray(keys[q], keys[q + 1])));
        lens.push(keys[q + 2]!);
      }
      this.last = { keys: raw, lens, shape };
    }
    deferTo(v as unknown as TrialRecord, table, this.lineStart + (cut.valueStart - s), cut.valueEnd - cut.valueStart, n, shape);
    return v;
  }
}

/** Parse results.jsonl text held in memory (tests, small inputs): the same policy as readRecords. */
export function parseResultsText(text: string, o: ResultsReadOptions = {}): { records: TrialRecord[]; warnings: string[] } {
  const p = new ResultsParser(o);
  p.feed(Buffer.from(text, 'utf8'));
  return p.end();
}

type ReadOptions = Omit<ResultsReadOptions, 'source' | 'deferSeries'> & { deferSeries?: boolean };
type Read = { records: TrialRecord[]; warnings: string[] };

/**
 * The last read with deferSeries, handed once to the next such read of the same bytes: `netab run`
 * judges and then reports in one process, and the report need not parse results.jsonl again. It is
 * used only when the file is unchanged (so a rewrite in between is read afresh) and read with the
 * same options; taking it clears it, so it pins no memory after its reuse. "Unchanged" is the
 * kernel's stamp of the file (device, inode, size, modification and change time in ns), as git's
 * index trusts it; a file changed less than RACY_NS before it was read could be rewritten with the
 * same size and the same coarse timestamp, so such a file is compared by its sha-256 instead.
 */
let lastRead: { file: string; stamp: Stamp; digest: string | null; scope: string; read: Read } | null = null;

interface Stamp {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

/** A change this recent may share its timestamp with a later one (file-system clocks tick coarsely). */
const RACY_NS = 2_000_000_000n;

function stampOf(file: string): Stamp | null {
  try {
    const st = lstatSync(file, { bigint: true });
    return { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs };
  } catch {
    return null;
  }
}

function sameStamp(a: Stamp, b: Stamp): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

function scopeOf(o: ReadOptions): string {
  return JSON.stringify([o.scenarios ? [...o.scenarios].sort() : null, o.warnAs ?? null, o.lineBytes ?? null]);
}

function sha256Of(file: string): { digest: string; dev: number; ino: number } {
  const h = createHash('sha256');
  const id = streamRegularFile(file, LIMITS.resultsBytes, (b) => h.update(b));
  return { digest: h.digest('hex'), dev: id.dev, ino: id.ino };
}

const copyOf = (r: Read): Read => ({ records: [...r.records], warnings: [...r.warnings] });

/** The handed-over read when results.jsonl is unchanged since it (see lastRead). */
function handedOver(file: string, o: ReadOptions): Read | null {
  const prev = lastRead;
  lastRead = null;
  if (!prev || prev.file !== file || prev.scope !== scopeOf(o)) return null;
  const now = stampOf(file);
  if (!now || now.dev !== prev.stamp.dev || now.ino !== prev.stamp.ino) return null;
  if (prev.digest === null) return sameStamp(now, prev.stamp) ? copyOf(prev.read) : null;
  const h = sha256Of(file);
  return h.digest === prev.digest && BigInt(h.dev) === prev.stamp.dev && BigInt(h.ino) === prev.stamp.ino ? copyOf(prev.read) : null;
}

/**
 * Stream results.jsonl of a run directory. A missing file is no records (with a warning); a link, a
 * directory or a FIFO in its place is an InputError.
 */
export function readResults(dir: string, o: ReadOptions = {}): Read {
  const file = join(dir, RUN_FILES.results);
  const st = lstatOrNull(file);
  if (!st) return { records: [], warnings: [`${RUN_FILES.results} is missing: no trial was recorded.`] };
  if (!o.deferSeries) return parseFile(file, o, null).read;
  const reused = handedOver(file, o);
  if (reused) return reused;
  const before = stampOf(file);
  const racy = !before || BigInt(Date.now()) * 1_000_000n - before.ctimeNs < RACY_NS;
  const h = racy ? createHash('sha256') : null;
  const { read, dev, ino } = parseFile(file, o, h);
  const after = stampOf(file);
  // kept only when what was parsed is what the stamp describes (nothing changed while parsing)
  if (before && after && sameStamp(before, after) && BigInt(dev) === after.dev && BigInt(ino) === after.ino)
    lastRead = { file, stamp: after, digest: h ? h.digest('hex') : null, scope: scopeOf(o), read: copyOf(read) };
  return read;
}

function parseFile(file: string, o: ReadOptions, h: Hash | null): { read: Read; dev: number; ino: number } {
  const deferSeries: SeriesFile | undefined = o.deferSeries ? { path: file, dev: -1, ino: -1 } : undefined;
  const p = new ResultsParser({ warnAs: RUN_FILES.results, ...o, source: file, deferSeries });
  const id = streamRegularFile(file, LIMITS.resultsBytes, (b) => {
    h?.update(b);
    p.feed(b);
  });
  if (deferSeries) Object.assign(deferSeries, { dev: id.dev, ino: id.ino });
  return { read: p.end(), dev: id.dev, ino: id.ino };
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

/**
 * manifest.json + results.jsonl (records checked against the manifest's scenario ids). deferSeries:
 * the records' series stay in the file (read them with results/series.ts), for readers of big runs.
 */
export function readRunDir(dir: string, o: { deferSeries?: boolean } = {}): RunDirData {
  const manifest = readManifest(dir);
  const { records, warnings } = readResults(dir, { scenarios: new Set(manifest.scenarios.map((s) => s.id)), ...o });
  // a merged run carries what was tolerated reading its shards
  const carried = Array.isArray(manifest.suite?.mergeWarnings) ? manifest.suite.mergeWarnings.filter((w) => typeof w === 'string') : [];
  return { dir, manifest, records, warnings: [...carried, ...warnings] };
}
