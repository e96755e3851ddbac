/** The kernel package in the cache: downloaded, unpacked and depmod'ed once per version. */
import { mkdir, readFile, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../exec/index.js';
import { aptUpdate, isRoot } from './apt.js';
import { exists } from './cache.js';
import { cachePaths } from './paths.js';
import { VmError } from './types.js';

/** The release dir already holding this package, unpacked and depmod'ed (its marker is written last). */
export async function findKernelTree(cacheDir: string, pkg: { name: string; version: string }): Promise<string | null> {
  const paths = cachePaths(cacheDir);
  for (const rel of await readdir(paths.kernels).catch(() => [] as string[])) {
    if (rel.startsWith('.')) continue;
    const marker = await readFile(join(paths.kernelDir(rel), 'package'), 'utf8').catch(() => '');
    if (marker === `${pkg.name} ${pkg.version}\n`) return rel;
  }
  return null;
}

/** Download + unpack the kernel package into <cache>/kernel/<release>/root (skipped when already there). */
export async function ensureKernelTree(
  cacheDir: string,
  pkg: { name: string; version: string },
  log: (s: string) => void,
): Promise<string> {
  const paths = cachePaths(cacheDir);
  const want = `${pkg.name} ${pkg.version}\n`;
  const have = await findKernelTree(cacheDir, pkg);
  if (have) return have;
  await mkdir(paths.download, { recursive: true });
  for (const f of await readdir(paths.download)) if (f.endsWith('.deb')) await rm(join(paths.download, f), { force: true });
  log(`apt-get download ${pkg.name}=${pkg.version} (~70 MB)`);
  const dl = ['apt-get', ...(isRoot() ? ['-o', 'APT::Sandbox::User=root'] : []), 'download', `${pkg.name}=${pkg.version}`];
  let r = await run(dl, { cwd: paths.download, reject: false, timeoutMs: 1_200_000 });
  if (r.exitCode !== 0) {
    await aptUpdate(log);
    r = await run(dl, { cwd: paths.download, timeoutMs: 1_200_000 });
  }
  const deb = (await readdir(paths.download)).find((f) => f.endsWith('.deb'));
  if (!deb) throw new VmError('setup-failed', `apt-get download ${pkg.name} produced no .deb`);
  await mkdir(paths.kernels, { recursive: true });
  const tmp = join(paths.kernels, `.unpack-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(join(tmp, 'root'), { recursive: true });
  log(`dpkg -x ${deb}`);
  await run(['dpkg', '-x', join(paths.download, deb), join(tmp, 'root')], { timeoutMs: 600_000 });
  await rm(join(paths.download, deb), { force: true });
  const root = join(tmp, 'root');
  // usr-merged packages ship /usr/lib/modules; depmod -b and modprobe -d look in /lib/modules
  if (!(await exists(join(root, 'lib', 'modules'))) && (await exists(join(root, 'usr', 'lib', 'modules')))) {
    await mkdir(join(root, 'lib'), { recursive: true });
    await symlink('../usr/lib/modules', join(root, 'lib', 'modules'));
  }
  const releases = (await readdir(join(root, 'lib', 'modules')).catch(() => [] as string[])).filter((d) => !d.startsWith('.'));
  if (releases.length !== 1)
    throw new VmError('setup-failed', `expected one kernel release in ${deb}, found: ${releases.join(', ') || 'none'}`);
  const release = releases[0]!;
  log(`depmod -b <cache> ${release}`);
  await run(['depmod', '-b', root, release], { timeoutMs: 300_000 });
  await writeFile(join(tmp, 'package'), want);
  const final = paths.kernelDir(release);
  await rm(final, { recursive: true, force: true });
  await rename(tmp, final);
  return release;
}
