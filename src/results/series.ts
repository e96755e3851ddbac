/**
 * Per-trial series left in results.jsonl until asked for. A reader called with `deferSeries` (the
 * judge, the report) keeps of each record's "series" only where it lies in the file and its shape
 * (each key's array length); the few series the report draws are read back from the file by offset.
 * Records read otherwise (merge, resume, tests) carry their series as before; these helpers answer
 * the same for both kinds.
 */
import { closeSync, readSync } from 'node:fs';
import { fileProblem, fsError, openRegularForRead } from './files.js';
import type { TrialRecord } from './types.js';

/** Each series key with its array length (-1: the value is not an array). */
export type SeriesShape = ReadonlyMap<string, number>;

/** The results.jsonl a record was read from (its identity filled in once it is open). */
export interface SeriesFile {
  path: string;
  dev: number;
  ino: number;
}

interface SeriesRef {
  file: SeriesFile;
  /** byte offset and length of the series value (a JSON object) in the file */
  off: number;
  len: number;
  line: number;
  shape: SeriesShape;
}

/**
 * Where the series of the records of one read lie, as columns by the record's row: a big run has a
 * hundred thousand records, and an object each for this cost more memory and garbage collection
 * than the rest of the read.
 */
export class SeriesTable {
  /** per row: offset, length and line, in one typed array grown by doubling */
  private cells = new Float64Array(3 * 1024);
  private readonly shape: SeriesShape[] = [];

  constructor(readonly file: SeriesFile) {}

  add(off: number, len: number, line: number, shape: SeriesShape): number {
    const row = this.shape.length;
    if (3 * row + 3 > this.cells.length) {
      const grown = new Float64Array(2 * this.cells.length);
      grown.set(this.cells);
      this.cells = grown;
    }
    this.cells[3 * row] = off;
    this.cells[3 * row + 1] = len;
    this.cells[3 * row + 2] = line;
    this.shape.push(shape);
    return row;
  }

  shapeOf(row: number): SeriesShape {
    return this.shape[row]!;
  }

  ref(row: number): SeriesRef {
    const c = this.cells;
    return { file: this.file, off: c[3 * row]!, len: c[3 * row + 1]!, line: c[3 * row + 2]!, shape: this.shape[row]! };
  }
}

type Series = Record<string, number[]>;
const TABLE = Symbol('netab.seriesTable');
const ROW = Symbol('netab.seriesRow');
type Deferred = TrialRecord & { [TABLE]?: SeriesTable; [ROW]?: number };

/** Mark a record read without its series (results layer only): its series lie in the table's file. */
export function deferTo(r: TrialRecord, table: SeriesTable, off: number, len: number, line: number, shape: SeriesShape): void {
  (r as Deferred)[TABLE] = table;
  (r as Deferred)[ROW] = table.add(off, len, line, shape);
}

function refOf(r: TrialRecord): SeriesRef | null {
  const table = (r as Deferred)[TABLE];
  return table ? table.ref((r as Deferred)[ROW]!) : null;
}

function shapeOf(series: unknown): SeriesShape | null {
  if (!series) return null;
  const m = new Map<string, number>();
  for (const [k, v] of Object.entries(series)) m.set(k, Array.isArray(v) ? v.length : -1);
  return m;
}

/** The keys of a record's series with their array lengths, without reading deferred series; null: no series. */
export function seriesShape(r: TrialRecord): SeriesShape | null {
  const table = (r as Deferred)[TABLE];
  return table ? table.shapeOf((r as Deferred)[ROW]!) : shapeOf(r.series);
}

/** The length of series `key` of a record, -1 when it has no such array. */
export function seriesLength(r: TrialRecord, key: string): number {
  return seriesShape(r)?.get(key) ?? -1;
}

function sameShape(a: SeriesShape | null, b: SeriesShape): boolean {
  if (!a || a.size !== b.size) return false;
  for (const [k, n] of b) if (a.get(k) !== n) return false;
  return true;
}

/**
 * The series of each record (undefined when it has none), deferred ones read back from their file
 * (opened once per file). An InputError when the file is no longer what was read (replaced, cut, or
 * rewritten in place).
 */
export function loadSeries(rs: readonly TrialRecord[]): Array<Series | undefined> {
  const open = new Map<SeriesFile, number>();
  try {
    return rs.map((r) => {
      const ref = refOf(r);
      if (!ref) return r.series;
      let fd = open.get(ref.file);
      if (fd === undefined) {
        const o = openRegularForRead(ref.file.path);
        fd = o.fd;
        open.set(ref.file, fd);
        if (o.dev !== ref.file.dev || o.ino !== ref.file.ino) throw changed(ref, 'was replaced');
      }
      const buf = Buffer.alloc(ref.len);
      let got: number;
      try {
        got = readSync(fd, buf, 0, ref.len, ref.off);
      } catch (e) {
        throw fsError(ref.file.path, e, 'read');
      }
      let v: unknown;
      try {
        v = got === ref.len ? JSON.parse(buf.toString('utf8')) : undefined;
      } catch {
        v = undefined;
      }
      if (!v || typeof v !== 'object' || Array.isArray(v) || !sameShape(shapeOf(v), ref.shape)) throw changed(ref, 'was rewritten');
      return v as Series;
    });
  } finally {
    for (const fd of open.values()) closeSync(fd);
  }
}

function changed(ref: SeriesRef, how: string) {
  return fileProblem(
    ref.file.path,
    `${how} while netab was reading it (the series of this line no longer match); run the command again`,
    ref.line,
  );
}
