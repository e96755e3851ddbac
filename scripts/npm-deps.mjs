// Plain Node (no npm package needed): make node_modules match package-lock.json, then build dist/ when
// it is older than the sources. Used by scripts/setup.mjs and scripts/quickstart.mjs, which must work
// on a fresh clone where nothing is installed yet (not even zx).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function readJson(p) {
  try {
    return JSON.parse(readFileSync(p, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Why node_modules does not match package-lock.json (null when it does): missing, or a locked package
 * that npm's own record of what it installed (node_modules/.package-lock.json) lacks or has at another
 * version. Optional packages (other platforms' binaries) are skipped.
 */
export function nodeModulesStale(dir = root) {
  const lock = readJson(join(dir, 'package-lock.json'));
  if (!lock?.packages) return 'package-lock.json is missing or unreadable';
  const installed = readJson(join(dir, 'node_modules', '.package-lock.json'));
  if (!installed?.packages) return 'node_modules is missing';
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key === '' || entry.optional || entry.link) continue;
    const have = installed.packages[key];
    if (!have) return `${key.replace(/^node_modules\//, '')} is not installed`;
    if (have.version !== entry.version) return `${key.replace(/^node_modules\//, '')} is ${have.version}, the lock says ${entry.version}`;
  }
  return null;
}

/** Run a command with the terminal (argv array, no shell); exit with its status when it fails. */
export function must(argv, opts = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit', cwd: root, shell: false, ...opts });
  if (r.status !== 0) {
    process.stderr.write(
      `netab setup: \`${argv.join(' ')}\` failed (${r.error?.message ?? (r.signal ? `signal ${r.signal}` : `exit ${r.status}`)})\n`,
    );
    process.exit(r.status && r.status < 128 ? r.status : 3);
  }
}

/**
 * `npm ci` (exactly the lock; it fails when package.json and package-lock.json disagree) when
 * node_modules is missing or stale; nothing otherwise. Never `npm install`: that would rewrite a
 * drifted lock instead of failing on it.
 */
export function ensureNodeModules(log = (m) => process.stderr.write(`netab setup: ${m}\n`)) {
  const why = nodeModulesStale();
  if (!why) return false;
  log(`${why}: npm ci`);
  must(['npm', 'ci', '--no-audit', '--no-fund', '--loglevel=error']);
  return true;
}

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** `tsc` when dist/ is missing or older than src/, tsconfig.json or the installed packages. */
export function ensureBuilt(log = (m) => process.stderr.write(`netab setup: ${m}\n`), force = false) {
  const stamp = join(root, 'dist', 'cli', 'main.js');
  const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
  const inputs = Math.max(
    newest(join(root, 'src')),
    statSync(join(root, 'tsconfig.json')).mtimeMs,
    statSync(join(root, 'package-lock.json')).mtimeMs,
  );
  if (!force && built > inputs) return false;
  log('building');
  must([process.execPath, join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
  must([process.execPath, join(root, 'scripts', 'templates.mjs')]); // report templates, precompiled
  return true;
}
