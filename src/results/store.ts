/**
 * Writing a run directory: manifest.json (atomic rewrites), results.jsonl (O_APPEND|O_NOFOLLOW,
 * fsync per trial), telemetry/ side files (atomic). Reading goes through rundir.ts.
 */
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { appendDurably, fileProblem, fsError, lstatOrNull, mkdirExclusive, openAppend, writeFileAtomic } from './files.js';
import { checkRunDir, LIMITS, readManifest, RUN_FILES } from './rundir.js';
import { readRunDir } from './records.js';
import { claimOutDir } from './create.js';
import type { RunManifest, TrialRecord } from './types.js';

export class RunStore {
  private fd: number | null = null;
  /** set by resume(): what was done to results.jsonl before appending (a cut-short last line removed) */
  repaired: string | null = null;

  private constructor(public readonly dir: string) {}

  /**
   * A new run: `dir` is created (exclusively) or must be an empty directory; a non-empty one is
   * refused with "use --resume DIR to continue it or choose another folder".
   */
  static create(dir: string): RunStore {
    const real = claimOutDir(dir);
    const store = new RunStore(real);
    store.telemetryDir();
    return store;
  }

  /**
   * Continue a run in an existing run directory. A last line cut short by a crash is removed first
   * (appending after it would turn it into a bad line in the middle of the file).
   */
  static resume(dir: string): RunStore {
    checkRunDir(dir);
    const store = new RunStore(dir);
    store.telemetryDir();
    store.repaired = repairTornTail(join(dir, RUN_FILES.results));
    return store;
  }

  private telemetryDir(): void {
    const t = join(this.dir, RUN_FILES.telemetry);
    const st = lstatOrNull(t);
    if (!st) mkdirExclusive(t);
    else if (!st.isDirectory())
      throw fileProblem(
        t,
        st.isSymbolicLink() ? 'is a symbolic link; netab does not follow links inside a run directory' : 'is not a directory',
      );
  }

  writeManifest(m: RunManifest): void {
    writeFileAtomic(join(this.dir, RUN_FILES.manifest), JSON.stringify(m, null, 2) + '\n');
  }

  /** Append one trial record; it is on disk (fsync'd) when this returns. */
  append(rec: TrialRecord): void {
    const file = join(this.dir, RUN_FILES.results);
    this.fd ??= openAppend(file);
    appendDurably(this.fd, file, JSON.stringify(rec) + '\n');
  }

  /** Append many records with one fsync (merge). */
  appendAll(recs: TrialRecord[]): void {
    if (recs.length === 0) return;
    const file = join(this.dir, RUN_FILES.results);
    this.fd ??= openAppend(file);
    let batch = '';
    for (const r of recs) {
      batch += JSON.stringify(r) + '\n';
      if (batch.length > 4 * 1024 * 1024) {
        appendDurably(this.fd, file, batch);
        batch = '';
      }
    }
    if (batch) appendDurably(this.fd, file, batch);
  }

  writeTelemetry(trialId: string, data: unknown): void {
    writeFileAtomic(join(this.dir, RUN_FILES.telemetry, telemetryName(trialId)), JSON.stringify(data) + '\n');
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** The telemetry side file name of a trial: one safe path segment. */
export function telemetryName(trialId: string): string {
  const safe = trialId.replace(/[^\w.#=,[\]-]+/g, '_').replace(/^\.+/, '_');
  return `${safe.slice(0, 200)}.json`;
}

/**
 * If results.jsonl does not end with a newline, its last line was cut short by a crash: drop it (or,
 * when it is a complete JSON value that only lost its newline, add the newline). Returns a sentence
 * saying what was done, or null.
 */
export function repairTornTail(file: string): string | null {
  const st = lstatOrNull(file);
  if (!st) return null;
  if (!st.isFile())
    throw fileProblem(
      file,
      st.isSymbolicLink() ? 'is a symbolic link; netab does not follow links inside a run directory' : 'is not a regular file',
    );
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDWR | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    throw fsError(file, e, 'open');
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return null;
    const one = Buffer.alloc(1);
    readSync(fd, one, 0, 1, size - 1);
    if (one[0] === 0x0a) return null;
    // find the last newline, reading backwards in chunks (bounded by the line limit)
    const chunk = Buffer.alloc(64 * 1024);
    let end = size;
    let cut = -1;
    while (end > 0 && size - end <= LIMITS.lineBytes) {
      const start = Math.max(0, end - chunk.length);
      const n = readSync(fd, chunk, 0, end - start, start);
      const i = chunk.subarray(0, n).lastIndexOf(0x0a);
      if (i >= 0) {
        cut = start + i + 1;
        break;
      }
      end = start;
    }
    if (cut < 0 && end > 0)
      throw fileProblem(file, `its last line is longer than ${LIMITS.lineBytes} bytes: not a trial record netab wrote`);
    if (cut < 0) cut = 0;
    const tail = Buffer.alloc(size - cut);
    readSync(fd, tail, 0, tail.length, cut);
    let complete = false;
    try {
      JSON.parse(tail.toString('utf8'));
      complete = true;
    } catch {
      /* torn */
    }
    if (complete) {
      writeSync(fd, '\n', size);
      return null;
    }
    ftruncateSync(fd, cut);
    return `${RUN_FILES.results}: removed a truncated last line (${tail.length} bytes) left by the interrupted attempt`;
  } catch (e) {
    throw fsError(file, e, 'repair');
  } finally {
    closeSync(fd);
  }
}

/** manifest.json of a run directory, format-checked (see rundir.ts). */
export { readManifest };

/** The trial records of a run directory (manifest checked, the one results.jsonl policy). */
export function readRecords(dir: string): TrialRecord[] {
  return readRunDir(dir).records;
}
