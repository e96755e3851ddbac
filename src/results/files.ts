/**
 * File access for run directories: reads that never follow a symbolic link and never block on a
 * FIFO, size limits, atomic writes (temp file opened O_EXCL|O_NOFOLLOW, fsync, rename, directory
 * fsync) that refuse a symlinked target, and appends opened O_APPEND|O_NOFOLLOW.
 *
 * Every failure is a NetabError naming the file: InputError (exit 2) when the run directory is not
 * what netab wrote (missing, a link, a directory, too large), EnvError (exit 3) when the machine
 * refuses (permissions, disk full, I/O error).
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { EnvError, InputError, type NetabError } from '../errors.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_APPEND, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = constants;

/** A path as shown in a one-line message: control characters (a newline in a folder name) escaped. */
export function shown(path: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping them is the point
  return /[\u0000-\u001f\u007f]/.test(path) ? JSON.stringify(path) : path;
}

/** An InputError about one file (and optionally a line in it): exit 2, one line. */
export function fileProblem(file: string, message: string, line?: number, col?: number, path = ''): InputError {
  return new InputError([{ file: shown(file), line, col, path, message }]);
}

/** An errno from the file system as a one-line NetabError naming the file. */
export function fsError(file: string, e: unknown, doing = 'read'): NetabError {
  const err = e as NodeJS.ErrnoException;
  if (err instanceof InputError || err instanceof EnvError) return err;
  switch (err?.code) {
    case 'ENOENT':
      return fileProblem(file, 'not found');
    case 'ELOOP':
      return fileProblem(file, 'is a symbolic link; netab does not follow links inside a run directory (replace it with the file itself)');
    case 'EISDIR':
      return fileProblem(file, 'is a directory, not a file');
    case 'ENOTDIR':
      return fileProblem(file, 'a part of this path is not a directory');
    case 'EEXIST':
      return fileProblem(file, 'already exists');
    case 'EACCES':
    case 'EPERM':
      return new EnvError(`${shown(file)}: permission denied (cannot ${doing} it)`);
    case 'ENOSPC':
    case 'EDQUOT':
      return new EnvError(`${shown(file)}: no space left on the device (cannot ${doing} it)`);
    case 'EROFS':
      return new EnvError(`${shown(file)}: read-only file system (cannot ${doing} it)`);
    default:
      return new EnvError(`${shown(file)}: cannot ${doing} it (${err?.code ?? 'error'}: ${oneLine(String(err?.message ?? e))})`);
  }
}

export function oneLine(s: string, max = 120): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: flattening them is the point
  const flat = s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function describeKind(st: { isDirectory(): boolean; isSymbolicLink(): boolean; isFIFO(): boolean; isSocket(): boolean }): string {
  if (st.isDirectory()) return 'is a directory, not a file';
  if (st.isSymbolicLink())
    return 'is a symbolic link; netab does not follow links inside a run directory (replace it with the file itself)';
  if (st.isFIFO()) return 'is a FIFO, not a regular file';
  if (st.isSocket()) return 'is a socket, not a regular file';
  return 'is a device or special file, not a regular file';
}

/**
 * Open a regular file for reading: no symlink (O_NOFOLLOW), no blocking on a FIFO (O_NONBLOCK), the
 * fd checked to be a regular file. Returns the fd and its size.
 */
export function openRegularForRead(file: string): { fd: number; size: number; dev: number; ino: number } {
  let fd: number;
  try {
    fd = openSync(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (e) {
    throw fsError(file, e, 'read');
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw fileProblem(file, describeKind(st));
  }
  return { fd, size: st.size, dev: st.dev, ino: st.ino };
}

const MiB = 1024 * 1024;
export function bytesText(n: number): string {
  return n >= MiB ? `${+(n / MiB).toFixed(1)} MiB` : `${n} bytes`;
}

/** Read a whole regular file of at most maxBytes (checked before and while reading). */
export function readRegularFile(file: string, maxBytes: number): Buffer {
  const chunks: Buffer[] = [];
  streamRegularFile(file, maxBytes, (b) => chunks.push(Buffer.from(b)));
  return Buffer.concat(chunks);
}

/**
 * Read a regular file chunk by chunk (never all of it at once): `onChunk` gets each piece in order.
 * maxBytes bounds the whole file (checked on its size first). Returns the file's identity and size as opened.
 */
export function streamRegularFile(
  file: string,
  maxBytes: number,
  onChunk: (b: Buffer) => void,
): { dev: number; ino: number; size: number } {
  const { fd, size, dev, ino } = openRegularForRead(file);
  try {
    if (size > maxBytes) throw fileProblem(file, `is ${bytesText(size)}, more than the ${bytesText(maxBytes)} netab reads for this file`);
    const buf = Buffer.allocUnsafe(MiB);
    let total = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        throw fsError(file, e, 'read');
      }
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw fileProblem(file, `is more than the ${bytesText(maxBytes)} netab reads for this file`);
      onChunk(buf.subarray(0, n));
    }
    return { dev, ino, size };
  } finally {
    closeSync(fd);
  }
}

/** lstat that returns null for a missing path (never follows a link). */
export function lstatOrNull(path: string): ReturnType<typeof lstatSync> | null {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fsError(path, e, 'inspect');
  }
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, O_RDONLY | O_DIRECTORY);
    fsyncSync(fd);
  } catch {
    /* some file systems refuse fsync on a directory: the rename itself is still atomic */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}

/**
 * Replace `file` atomically: a fresh temp file in the same directory (O_CREAT|O_EXCL|O_NOFOLLOW, a
 * random name), written, fsync'd, renamed over the target, the directory fsync'd. Refuses a target
 * that is a symbolic link or a directory (rename would replace the link, not write through it, but a
 * link there means someone else arranged this directory: stop and say so).
 */
export function writeFileAtomic(file: string, content: string | Buffer): void {
  const st = lstatOrNull(file);
  if (st && !st.isFile()) throw fileProblem(file, `${describeKind(st)}: netab will not replace it`);
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
  } catch (e) {
    throw fsError(file, e, 'write');
  }
  try {
    writeAll(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw fsError(file, e, 'write');
  }
  closeSync(fd);
  try {
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw fsError(file, e, 'write');
  }
  fsyncDir(dir);
}

/** Create a new file that must not exist yet (O_EXCL|O_NOFOLLOW), write it, fsync it. */
export function writeFileExclusive(file: string, content: string | Buffer): void {
  let fd: number;
  try {
    fd = openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
  } catch (e) {
    throw fsError(file, e, 'write');
  }
  try {
    writeAll(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    fsyncSync(fd);
  } catch (e) {
    throw fsError(file, e, 'write');
  } finally {
    closeSync(fd);
  }
}

/** Open `file` for appending (O_APPEND|O_NOFOLLOW, created if missing); refuses anything but a regular file. */
export function openAppend(file: string): number {
  let fd: number;
  try {
    fd = openSync(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o644);
  } catch (e) {
    throw fsError(file, e, 'append to');
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw fileProblem(file, describeKind(st));
  }
  return fd;
}

/** Append one buffer and fsync it (a trial is on disk when this returns). */
export function appendDurably(fd: number, file: string, data: string): void {
  try {
    writeAll(fd, Buffer.from(data, 'utf8'));
    fsyncSync(fd);
  } catch (e) {
    throw fsError(file, e, 'append to');
  }
}

/** mkdir that fails if the path exists (EEXIST is returned as false, not thrown). */
export function mkdirExclusive(dir: string): boolean {
  try {
    mkdirSync(dir, { mode: 0o755 });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw fsError(dir, e, 'create');
  }
}
