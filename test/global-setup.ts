/**
 * Every test's scratch space under one directory per `vitest run`, removed at the end: tests (and
 * the netab processes they start) make their temp directories with os.tmpdir(), which reads TMPDIR,
 * so nothing piles up in /tmp across runs. A run that leaves a mount inside it keeps the directory
 * (removing through a mount would delete what is mounted) and says so.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'netab-tests-'));
  const before = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m === dir || m.startsWith(`${dir}/`));
    if (mounts.length) {
      process.stderr.write(`test scratch ${dir} kept: ${mounts.join(', ')} still mounted inside it\n`);
      return;
    }
    rmSync(dir, { recursive: true, force: true });
  };
}
