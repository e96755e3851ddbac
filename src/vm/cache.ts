/** The prepared image in the cache: its stamp, image.json, the setup lock, pruning old kernels. */
import { createHash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { access, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { INIT_SCRIPT, INITRAMFS_MODULES, MODPROBE_WRAPPER, STAGE2_SCRIPT } from './guest.js';
import { CACHE_FORMAT, cachePaths, resolveCacheDir } from './paths.js';
import { VmError, type VmImage } from './types.js';

export async function exists(p: string): Promise<boolean> {
  try {
    await access(p, fsc.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** Hash of what this netab version puts into the initramfs (scripts, module list, layout). */
export function guestHash(): string {
  return createHash('sha256')
    .update(
      JSON.stringify({
        format: CACHE_FORMAT,
        init: INIT_SCRIPT,
        stage2: STAGE2_SCRIPT,
        modprobe: MODPROBE_WRAPPER,
        modules: INITRAMFS_MODULES,
      }),
    )
    .digest('hex')
    .slice(0, 20);
}

export function computeStamp(parts: { packageName: string; packageVersion: string; qemuVersion: string; cacheDir: string }): string {
  return createHash('sha256')
    .update(JSON.stringify({ ...parts, guest: guestHash() }))
    .digest('hex')
    .slice(0, 20);
}

/** Read `<cache>/image.json`; null when missing or unreadable. */
export async function readImage(cacheDir: string): Promise<VmImage | null> {
  try {
    const img = JSON.parse(await readFile(cachePaths(cacheDir).image, 'utf8')) as VmImage;
    return img.format === CACHE_FORMAT ? img : null;
  } catch {
    return null;
  }
}

/** Problems that make a recorded image unusable (files gone, built by another netab). Empty = usable. */
export async function imageProblems(img: VmImage): Promise<string[]> {
  const out: string[] = [];
  for (const [what, p] of [
    ['kernel', img.kernelPath],
    ['initramfs', img.initramfsPath],
    ['modules', join(img.modulesRoot, 'lib', 'modules', img.kernelVersion, 'modules.dep')],
    ['qemu', img.qemu],
  ] as const) {
    if (!(await exists(p))) out.push(`${what} missing: ${p}`);
  }
  if (img.guestHash !== guestHash()) out.push('the initramfs was built by another netab version');
  return out;
}

/**
 * The image prepared by an earlier `vmSetup` (no network, no changes). Throws VmError('not-ready')
 * with what to run when there's none. `netab run --vm` can use this, or call vmSetup (a quick no-op
 * when nothing changed).
 */
export async function loadVmImage(opts: { cacheDir?: string } = {}): Promise<VmImage> {
  const dir = resolveCacheDir(opts.cacheDir);
  const img = await readImage(dir);
  if (!img) throw new VmError('not-ready', `no VM image in ${dir}: run \`netab vm setup\``);
  const problems = await imageProblems(img);
  if (problems.length) throw new VmError('not-ready', `VM image in ${dir} is incomplete (${problems.join('; ')}): run \`netab vm setup\``);
  return img;
}

export async function withLock<T>(lockPath: string, log: (s: string) => void, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30 * 60_000;
  let told = false;
  for (;;) {
    try {
      await writeFile(lockPath, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
      if (!pidAlive(pid)) {
        await rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new VmError('setup-failed', `another netab vm setup (pid ${pid}) holds ${lockPath}`);
      if (!told) log(`waiting for another netab vm setup (pid ${pid})`);
      told = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove other kernel releases (and unpack leftovers of dead setups) from the cache. */
export async function pruneKernels(cacheDir: string, keep: string): Promise<void> {
  const k = cachePaths(cacheDir).kernels;
  for (const d of await readdir(k).catch(() => [] as string[])) {
    if (d === keep) continue;
    const m = /^\.(?:unpack|initramfs)-(\d+)$/.exec(d);
    if (m) {
      if (!pidAlive(Number(m[1]))) await rm(join(k, d), { recursive: true, force: true });
      continue;
    }
    if (await exists(join(k, d, 'package'))) await rm(join(k, d), { recursive: true, force: true });
  }
}
