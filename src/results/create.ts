/** Creating run directories: safe names, the default path, exclusive creation, --out checks. */
import { readdirSync, realpathSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError } from '../errors.js';
import { fileProblem, fsError, lstatOrNull, mkdirExclusive, shown } from './files.js';

/**
 * A name made safe for one path segment: letters, digits, `.`, `_`, `-` (anything else becomes `_`),
 * no leading dot, at most 64 characters, never empty. `../../tmp/x` becomes `tmp_x`-like, never a path.
 */
export function safeName(name: string): string {
  let s = name
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._-]+/, '')
    .replace(/_+$/, '');
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
      throw new InputError([
        {
          file: shown(out),
          path: '',
          message: `is ${realOut === real ? 'one of the inputs' : 'inside the input'} ${shown(d)}: merge into a new folder`,
        },
      ]);
  }
}
