/**
 * `vmSetup`: prepare a stock Debian kernel and a tiny busybox initramfs in the cache directory,
 * idempotently and without touching /boot. See docs/vm.md for the layout and the boot tests.
 */
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { aptUpdate, installPackages, isRoot, KERNEL_METAPACKAGE, missingPackages, resolveKernelPackage } from './apt.js';
import { computeStamp, exists, guestHash, imageProblems, pruneKernels, readImage, withLock } from './cache.js';
import { buildInitramfs } from './initramfs.js';
import { extractVmlinux, fileHasPvhNote } from './kernel.js';
import { ensureKernelTree, findKernelTree } from './kernel-package.js';
import { CACHE_FORMAT, cachePaths, resolveCacheDir } from './paths.js';
import { bootTests } from './probe.js';
import { QEMU_BIN, qemuInfo } from './qemu.js';
import { VmError, type KernelFormat, type Machine, type VmImage, type VmSetupOptions } from './types.js';

/**
 * Prepare (or confirm) the VM image: packages, kernel package (downloaded, unpacked, depmod'ed),
 * vmlinux, initramfs, boot tests. A no-op when image.json's stamp matches and its files exist.
 */
export async function vmSetup(opts: VmSetupOptions = {}): Promise<VmImage> {
  try {
    return await setup(opts);
  } catch (e) {
    if (e instanceof VmError) throw e;
    throw new VmError('setup-failed', `netab vm setup failed: ${(e as Error).message}`);
  }
}

async function setup(opts: VmSetupOptions): Promise<VmImage> {
  const log = opts.log ?? (() => {});
  const cacheDir = resolveCacheDir(opts.cacheDir);
  if (/[,\n]/.test(cacheDir)) throw new VmError('invalid', `the VM cache path may not contain commas or newlines: ${cacheDir}`);
  await mkdir(cacheDir, { recursive: true });
  const paths = cachePaths(cacheDir);

  const missing = await missingPackages();
  if (missing.length) await installPackages(missing, log);
  const qi = await qemuInfo();
  if (!qi) throw new VmError('setup-failed', `${QEMU_BIN} not found after installing qemu-system-x86`);

  let pkg: { name: string; version: string };
  const previous = await readImage(cacheDir);
  try {
    pkg = await resolveKernelPackage(log);
    // about to download: make sure it's the current kernel, not one from stale package lists
    if (!(await findKernelTree(cacheDir, pkg)) && isRoot()) {
      await aptUpdate(log);
      pkg = await resolveKernelPackage(log);
    }
  } catch (e) {
    // offline and already prepared: keep what we have
    if (previous) {
      log(
        `cannot resolve ${KERNEL_METAPACKAGE} (${(e as Error).message.split('\n')[0]}); keeping ${previous.packageName} ${previous.packageVersion}`,
      );
      pkg = { name: previous.packageName, version: previous.packageVersion };
    } else throw e;
  }
  const stamp = computeStamp({ packageName: pkg.name, packageVersion: pkg.version, qemuVersion: qi.version, cacheDir });
  if (!opts.force && previous?.stamp === stamp && !(await imageProblems(previous)).length) {
    log(
      `VM image up to date: ${previous.kernelVersion} (${previous.kernelFormat}, ${previous.machine}, ${previous.accelerator}) in ${cacheDir}`,
    );
    return previous;
  }

  return withLock(paths.lock, log, async () => {
    // another setup may have finished while we waited
    const again = await readImage(cacheDir);
    if (!opts.force && again?.stamp === stamp && !(await imageProblems(again)).length) return again;
    return buildImage(cacheDir, pkg, qi, stamp, log);
  });
}

/** Under the setup lock: kernel tree, vmlinux, initramfs, boot tests, then image.json (written last). */
async function buildImage(
  cacheDir: string,
  pkg: { name: string; version: string },
  qi: { qemu: string; version: string },
  stamp: string,
  log: (s: string) => void,
): Promise<VmImage> {
  const paths = cachePaths(cacheDir);
  const release = await ensureKernelTree(cacheDir, pkg, log);
  const kdir = paths.kernelDir(release);
  const root = join(kdir, 'root');
  const vmlinuz = join(root, 'boot', `vmlinuz-${release}`);
  if (!(await exists(vmlinuz))) throw new VmError('setup-failed', `${vmlinuz} missing from ${pkg.name}`);

  const vmlinux = join(kdir, 'vmlinux');
  const haveVmlinux = await prepareVmlinux(vmlinuz, vmlinux, log);

  const initramfs = await buildInitramfs(kdir, root, release, log);

  // boot tests: the fastest combination that works under TCG, then whether KVM works with it
  const candidates: { machine: Machine; kernelFormat: KernelFormat; kernel: string }[] = [];
  for (const kf of haveVmlinux ? (['vmlinux', 'vmlinuz'] as const) : (['vmlinuz'] as const)) {
    candidates.push({ machine: 'pc', kernelFormat: kf, kernel: kf === 'vmlinux' ? vmlinux : vmlinuz });
  }
  const { chosen, accelerator, probes } = await bootTests(qi.qemu, candidates, initramfs.path, log);

  const image: VmImage = {
    format: CACHE_FORMAT,
    stamp,
    guestHash: guestHash(),
    cacheDir,
    packageName: pkg.name,
    packageVersion: pkg.version,
    kernelVersion: release,
    kernelPath: chosen.kernel,
    kernelFormat: chosen.kernelFormat,
    initramfsPath: initramfs.path,
    modulesRoot: root,
    machine: chosen.machine,
    accelerator,
    qemu: qi.qemu,
    qemuVersion: qi.version,
    initramfsModules: initramfs.modules,
    probes,
    createdAt: new Date().toISOString(),
  };
  await writeFile(`${paths.image}.tmp`, JSON.stringify(image, null, 2) + '\n');
  await rename(`${paths.image}.tmp`, paths.image);
  await pruneKernels(cacheDir, release);
  log(`VM image ready: ${release} (${chosen.kernelFormat}, ${chosen.machine}, ${accelerator}) in ${cacheDir}`);
  return image;
}

/** Extract vmlinux next to vmlinuz unless it's there and newer; false when qemu can't boot it (no PVH note). */
async function prepareVmlinux(vmlinuz: string, vmlinux: string, log: (s: string) => void): Promise<boolean> {
  // the uncompressed kernel boots ~3 s faster under TCG, if qemu can load it (PVH note)
  let haveVmlinux = (await exists(vmlinux)) && (await stat(vmlinux)).mtimeMs >= (await stat(vmlinuz)).mtimeMs;
  if (!haveVmlinux) {
    log('extracting vmlinux from vmlinuz');
    haveVmlinux = await extractVmlinux(vmlinuz, vmlinux);
  }
  if (haveVmlinux && !(await fileHasPvhNote(vmlinux))) {
    log('vmlinux has no PVH ELF note: qemu cannot boot it directly; using vmlinuz');
    await rm(vmlinux, { force: true });
    haveVmlinux = false;
  }
  return haveVmlinux;
}
