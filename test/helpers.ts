/**
 * Prerequisites of integration tests. Outside CI a missing prerequisite skips the suite (a laptop
 * without root can still run the unit tests); under CI=true it fails the suite instead.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { InputError } from '../src/scenario/errors.js';

export function missingPrereqs(tools: string[] = ['ip', 'tc', 'iperf3', 'ethtool', 'ss']): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  for (const t of tools) {
    try {
      execFileSync('sh', ['-c', 'command -v "$1"', 'sh', t], { stdio: 'ignore' });
    } catch {
      missing.push(t);
    }
  }
  return missing;
}

/** true = run the suite; throws under CI when something is missing. */
export function requirePrereqs(tools?: string[]): boolean {
  const m = missingPrereqs(tools);
  if (m.length === 0) return true;
  if (process.env.CI) throw new Error(`integration prerequisites missing under CI: ${m.join(', ')}`);
  return false;
}

/**
 * netab namespaces left behind: those of runs whose owner process is gone (or is this test process,
 * whose in-process runs have all ended by the time a test checks). Namespaces of other live netab runs
 * on the machine (a developer's run, a parallel job) are not this test's leftovers.
 */
export function netabNamespaces(): string[] {
  const live = new Set<string>();
  let states: string[] = [];
  try {
    states = readdirSync(STATE_DIR).filter((n) => n.endsWith('.json'));
  } catch {
    /* no state dir: nothing live */
  }
  for (const f of states) {
    try {
      const st = JSON.parse(readFileSync(join(STATE_DIR, f), 'utf8')) as { runId: string; pid: number };
      if (st.pid !== process.pid && alive(st.pid)) live.add(st.runId);
    } catch {
      /* torn */
    }
  }
  const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.split(/\s+/)[0]!)
    .filter((n) => /^nb-[0-9a-f]{6}-/.test(n) && !live.has(n.slice(3, 9)));
}

const STATE_DIR = process.env.NETAB_STATE_DIR ?? '/run/netab';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Run the built CLI asynchronously (a long spawnSync would block the test worker's event loop and
 * vitest's RPC with it).
 */
export function netabCli(
  args: string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const bin = join(process.cwd(), 'bin', 'netab.js');
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    p.on('exit', (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
  });
}

/** The fixture run directory (manifest, 126 records, verdict, telemetry) the results and report tests read. */
export const FIXTURE_RUN = join(process.cwd(), 'test', 'fixtures', 'report', 'run');

/**
 * A temp dir for one test file, removed after its tests, and `runCopy()`: a fresh copy of the
 * fixture run directory in it for each test that changes one.
 */
export function scratchRuns(prefix: string): { tmp: string; runCopy: () => string } {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  let n = 0;
  return {
    tmp,
    runCopy() {
      const d = join(tmp, `run${++n}`);
      cpSync(FIXTURE_RUN, d, { recursive: true });
      return d;
    },
  };
}

/** The located problems ("line:col path: message") of the InputError `fn` throws; fails if it throws none. */
export function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e.problems.map((p) => `${p.line}:${p.col} ${p.path}: ${p.message}`);
    throw e;
  }
  throw new Error('expected an InputError');
}
