/**
 * `vmSetup`: prepare a stock Debian kernel and a tiny busybox initramfs in the cache directory,
 * idempotently and without touching /boot. See docs/vm.md for the layout and the boot tests.
 */
import { createHash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import {
  access,
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { run, which } from '../exec/index.js';
import {
  INIT_SCRIPT,
  INITRAMFS_MODULES,
  MODPROBE_WRAPPER,
  PROBE_MARKER,
  STAGE2_SCRIPT,
  TAG_HOSTROOT,
} from './guest.js';
import { extractVmlinux, fileHasPvhNote, mergeOrdered, parseKernelDependency, parseShowDepends } from './kernel.js';
import { CACHE_FORMAT, cachePaths, resolveCacheDir } from './paths.js';
import { buildQemuArgv, kernelCmdline, KVM_FAILURE, runQemu } from './qemu.js';
import { VmError, type Accelerator, type BootProbe, type KernelFormat, type Machine, type VmImage, type VmSetupOptions } from './types.js';

/** Host packages the VM needs. iproute2/procps/iputils-ping: the guest runs the host's tc, ip, sysctl and ping (its fidelity prober). */
export const REQUIRED_PACKAGES = ['qemu-system-x86', 'busybox-static', 'cpio', 'kmod', 'xz-utils', 'iproute2', 'procps', 'iputils-ping'];
export const KERNEL_METAPACKAGE = 'linux-image-amd64';
const QEMU_BIN = 'qemu-system-x86_64';
const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive' };
const APT_LOCK = ['-o', 'DPkg::Lock::Timeout=600'];

/**
 * Boot test limits: a TCG boot takes 2–7 s. A broken KVM hangs, and a working one boots faster than
 * TCG did on the same machine, so KVM gets twice the TCG boot, at least 8 s (not a fixed 20 s: that
 * wait was half of a fresh `netab vm setup` on machines where /dev/kvm exists but cannot run a guest).
 */
const PROBE_TIMEOUT_TCG_MS = 90_000;
const PROBE_TIMEOUT_KVM_MIN_MS = 8_000;

/**
 * Two vCPUs (MTTCG: one host thread each) where the host has two cores or more, else one;
 * NETAB_VM_CPUS overrides. Measured on a 2-core host with the quickstart (18 trials): 121 s with two,
 * 134 s with one (namespaces are built concurrently, iperf3 and the kernel's softirq work overlap).
 */
export function defaultCpus(): number {
  const env = Number(process.env.NETAB_VM_CPUS);
  if (Number.isInteger(env) && env >= 1 && env <= 64) return env;
  return Math.min(2, Math.max(1, availableParallelism()));
}

const isRoot = () => process.getuid?.() === 0;

async function exists(p: string): Promise<boolean> {
  try {
    await access(p, fsc.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** Which of `pkgs` dpkg doesn't list as installed. */
export async function missingPackages(pkgs: string[] = REQUIRED_PACKAGES): Promise<string[]> {
  const r = await run(['dpkg-query', '-W', '-f', '${Package}\\t${db:Status-Abbrev}\\n', ...pkgs], { reject: false });
  const installed = new Set(
    r.stdout
      .split('\n')
      .map((l) => l.split('\t'))
      .filter(([, st]) => st?.startsWith('ii'))
      .map(([p]) => p!.replace(/:.*$/, '')),
  );
  return pkgs.filter((p) => !installed.has(p));
}

let aptUpdated = false;
async function aptUpdate(log: (s: string) => void): Promise<void> {
  if (aptUpdated) return;
  log('apt-get update');
  await run(['apt-get', ...APT_LOCK, 'update'], { env: APT_ENV, timeoutMs: 600_000 });
  aptUpdated = true;
}

async function installPackages(pkgs: string[], log: (s: string) => void): Promise<void> {
  if (!isRoot()) {
    throw new VmError('setup-failed', `missing packages: ${pkgs.join(' ')} (run as root, or: apt-get install ${pkgs.join(' ')})`);
  }
  const argv = ['apt-get', ...APT_LOCK, 'install', '-y', '--no-install-recommends', ...pkgs];
  log(`apt-get install ${pkgs.join(' ')}`);
  const r = await run(argv, { env: APT_ENV, reject: false, timeoutMs: 1_200_000 });
  if (r.exitCode === 0) return;
  await aptUpdate(log); // stale or missing package lists
  await run(argv, { env: APT_ENV, timeoutMs: 1_200_000 });
}

/** The concrete linux-image-*-amd64 package (and version) that linux-image-amd64 depends on. */
export async function resolveKernelPackage(log: (s: string) => void): Promise<{ name: string; version: string }> {
  const show = async (pkg: string) => run(['apt-cache', 'show', '--no-all-versions', pkg], { reject: false });
  let r = await show(KERNEL_METAPACKAGE);
  if (r.exitCode !== 0 || !parseKernelDependency(r.stdout)) {
    await aptUpdate(log);
    r = await show(KERNEL_METAPACKAGE);
  }
  const dep = parseKernelDependency(r.stdout);
  if (!dep) throw new VmError('setup-failed', `cannot tell which kernel ${KERNEL_METAPACKAGE} depends on (apt-cache show: ${r.stderr.trim() || 'no Depends'})`);
  if (dep.version) return { name: dep.name, version: dep.version };
  const v = /^Version:\s*(\S+)/m.exec((await show(dep.name)).stdout);
  if (!v) throw new VmError('setup-failed', `no version for ${dep.name} in apt-cache`);
  return { name: dep.name, version: v[1]! };
}

/** Hash of what this netab version puts into the initramfs (scripts, module list, layout). */
export function guestHash(): string {
  return createHash('sha256')
    .update(JSON.stringify({ format: CACHE_FORMAT, init: INIT_SCRIPT, stage2: STAGE2_SCRIPT, modprobe: MODPROBE_WRAPPER, modules: INITRAMFS_MODULES }))
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

// ---------------------------------------------------------------------------------------------

async function withLock<T>(lockPath: string, log: (s: string) => void, fn: () => Promise<T>): Promise<T> {
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

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function qemuInfo(): Promise<{ qemu: string; version: string } | null> {
  const q = await which(QEMU_BIN);
  if (!q) return null;
  const r = await run([q, '--version'], { reject: false });
  return { qemu: q, version: r.stdout.split('\n')[0]?.trim() ?? 'unknown' };
}

/** The release dir already holding this package, unpacked and depmod'ed (its marker is written last). */
async function findKernelTree(cacheDir: string, pkg: { name: string; version: string }): Promise<string | null> {
  const paths = cachePaths(cacheDir);
  for (const rel of await readdir(paths.kernels).catch(() => [] as string[])) {
    if (rel.startsWith('.')) continue;
    const marker = await readFile(join(paths.kernelDir(rel), 'package'), 'utf8').catch(() => '');
    if (marker === `${pkg.name} ${pkg.version}\n`) return rel;
  }
  return null;
}

/** Download + unpack the kernel package into <cache>/kernel/<release>/root (skipped when already there). */
async function ensureKernelTree(cacheDir: string, pkg: { name: string; version: string }, log: (s: string) => void): Promise<string> {
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
  if (releases.length !== 1) throw new VmError('setup-failed', `expected one kernel release in ${deb}, found: ${releases.join(', ') || 'none'}`);
  const release = releases[0]!;
  log(`depmod -b <cache> ${release}`);
  await run(['depmod', '-b', root, release], { timeoutMs: 300_000 });
  await writeFile(join(tmp, 'package'), want);
  const final = paths.kernelDir(release);
  await rm(final, { recursive: true, force: true });
  await rename(tmp, final);
  return release;
}

/** Copy a module into `destDir` uncompressed (busybox insmod can't read .ko.xz/.ko.zst); returns its basename. */
async function copyModule(src: string, destDir: string): Promise<string> {
  if (src.endsWith('.ko')) {
    await copyFile(src, join(destDir, basename(src)));
    return basename(src);
  }
  const name = basename(src).replace(/\.(xz|gz|zst)$/, '');
  const dest = join(destDir, name);
  if (src.endsWith('.gz')) {
    await writeFile(dest, gunzipSync(await readFile(src)));
  } else if (src.endsWith('.xz') || src.endsWith('.zst')) {
    const tool = src.endsWith('.xz') ? 'xz' : 'zstd';
    const tmp = `${dest}.${src.endsWith('.xz') ? 'xz' : 'zst'}`;
    await copyFile(src, tmp);
    await run([tool, '--decompress', '--force', tmp]); // file to file: tmp -> dest
    await rm(tmp, { force: true });
  } else {
    throw new VmError('setup-failed', `unknown module file type: ${src}`);
  }
  return name;
}

function isStaticElf(b: Buffer): boolean {
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false;
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3) return false; // PT_INTERP
  return true;
}

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      out.push(p);
      if (e.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return out.map((p) => relative(dir, p)).sort();
}

/** Build <kernelDir>/initramfs.cpio: static busybox, the modules in dependency order, the guest scripts. */
async function buildInitramfs(kdir: string, root: string, release: string, log: (s: string) => void): Promise<{ path: string; modules: string[] }> {
  const stage = join(kdir, `.initramfs-${process.pid}`);
  await rm(stage, { recursive: true, force: true });
  for (const d of ['bin', 'dev', 'proc', 'sys', 'newroot', 'netab', 'lib/netab-modules']) await mkdir(join(stage, d), { recursive: true });

  const bb = '/bin/busybox';
  const bbBuf = await readFile(bb).catch(() => null);
  if (!bbBuf || !isStaticElf(bbBuf)) throw new VmError('setup-failed', `${bb} is not a static busybox (apt-get install busybox-static)`);
  await writeFile(join(stage, 'bin', 'busybox'), bbBuf, { mode: 0o755 });
  const applets = (await run([bb, '--list'])).stdout.split('\n').map((s) => s.trim()).filter((s) => /^[\w.[-]+$/.test(s) && s !== 'busybox');
  for (const a of applets) await symlink('busybox', join(stage, 'bin', a));

  const lists: string[][] = [];
  for (const m of INITRAMFS_MODULES) {
    const r = await run(['modprobe', '--show-depends', '-d', root, '-S', release, m]);
    lists.push(parseShowDepends(r.stdout));
  }
  const files = mergeOrdered(lists);
  const order: string[] = [];
  for (const f of files) order.push(await copyModule(f, join(stage, 'lib', 'netab-modules')));
  await writeFile(join(stage, 'lib', 'netab-modules', 'order'), order.join('\n') + '\n');
  log(`initramfs modules: ${order.map((m) => m.replace(/\.ko$/, '')).join(' ')}`);

  await writeFile(join(stage, 'init'), INIT_SCRIPT, { mode: 0o755 });
  await writeFile(join(stage, 'netab', 'stage2'), STAGE2_SCRIPT, { mode: 0o644 });
  await writeFile(join(stage, 'netab', 'modprobe'), MODPROBE_WRAPPER, { mode: 0o755 });
  if (/\n/.test(root)) throw new VmError('setup-failed', `cache path may not contain a newline: ${root}`);
  await writeFile(join(stage, 'netab', 'modroot'), root + '\n');
  await chmod(join(stage, 'init'), 0o755);

  const list = await listTree(stage);
  const out = join(kdir, 'initramfs.cpio');
  await rm(`${out}.tmp`, { force: true });
  await run(['cpio', '--quiet', '-o', '-H', 'newc', '--reproducible', '-O', `${out}.tmp`], { cwd: stage, input: list.join('\n') + '\n' });
  await rename(`${out}.tmp`, out);
  await rm(stage, { recursive: true, force: true });
  return { path: out, modules: order };
}

/** One probe boot (netab.mode=probe): modules load, 9p host root mounts, the marker comes back. */
export async function probeBoot(p: {
  qemu: string;
  kernel: string;
  initrd: string;
  machine: Machine;
  accelerator: Accelerator;
  kernelFormat: KernelFormat;
  timeoutMs?: number;
}): Promise<BootProbe> {
  const dir = await mkdtemp(join(tmpdir(), 'netab-vm-probe-'));
  const consoleLog = join(dir, 'console.log');
  try {
    const argv = buildQemuArgv({
      qemu: p.qemu,
      machine: p.machine,
      accelerator: p.accelerator,
      cpus: defaultCpus(),
      memoryMb: 512,
      kernel: p.kernel,
      initrd: p.initrd,
      append: kernelCmdline('probe', p.accelerator),
      consoleLog,
      shares: [{ tag: TAG_HOSTROOT, path: '/', readonly: true }],
    });
    const timeoutMs = p.timeoutMs ?? (p.accelerator === 'kvm' ? PROBE_TIMEOUT_KVM_MIN_MS : PROBE_TIMEOUT_TCG_MS);
    let marked = false;
    let markedAt = 0;
    const t0 = Date.now();
    const q = await runQemu(argv, {
      onLine: (l) => {
        if (l.startsWith(PROBE_MARKER) && !marked) {
          marked = true;
          markedAt = Date.now() - t0;
        }
      },
      timeoutMs,
      killWhen: p.accelerator === 'kvm' ? (l) => KVM_FAILURE.test(l) : undefined,
    });
    const base = { machine: p.machine, kernelFormat: p.kernelFormat, accelerator: p.accelerator, ms: marked ? markedAt : q.ms };
    if (marked) return { ...base, ok: true, detail: `booted in ${(markedAt / 1000).toFixed(1)} s` };
    const consoleTail = (await readFile(consoleLog, 'utf8').catch(() => '')).trim().split('\n').slice(-5).join(' | ');
    const why =
      q.stoppedFor === 'timeout'
        ? `no answer within ${Math.round(timeoutMs / 1000)} s`
        : q.stoppedFor === 'kill-when'
          ? 'qemu reported a KVM failure'
          : `qemu exited ${q.exitCode}`;
    const err = q.stderrTail.trim().split('\n').filter(Boolean).slice(-3).join(' | ');
    return { ...base, ok: false, detail: [why, err && `qemu: ${err}`, consoleTail && `console: ${consoleTail}`].filter(Boolean).join('; ') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Is /dev/kvm there and openable read-write? (says nothing about whether it works: probe for that) */
export async function kvmDevicePresent(): Promise<boolean> {
  try {
    await access('/dev/kvm', fsc.R_OK | fsc.W_OK);
    return true;
  } catch {
    return false;
  }
}

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
      log(`cannot resolve ${KERNEL_METAPACKAGE} (${(e as Error).message.split('\n')[0]}); keeping ${previous.packageName} ${previous.packageVersion}`);
      pkg = { name: previous.packageName, version: previous.packageVersion };
    } else throw e;
  }
  const stamp = computeStamp({ packageName: pkg.name, packageVersion: pkg.version, qemuVersion: qi.version, cacheDir });
  if (!opts.force && previous?.stamp === stamp && !(await imageProblems(previous)).length) {
    log(`VM image up to date: ${previous.kernelVersion} (${previous.kernelFormat}, ${previous.machine}, ${previous.accelerator}) in ${cacheDir}`);
    return previous;
  }

  return withLock(paths.lock, log, async () => {
    // another setup may have finished while we waited
    const again = await readImage(cacheDir);
    if (!opts.force && again?.stamp === stamp && !(await imageProblems(again)).length) return again;

    const release = await ensureKernelTree(cacheDir, pkg, log);
    const kdir = paths.kernelDir(release);
    const root = join(kdir, 'root');
    const vmlinuz = join(root, 'boot', `vmlinuz-${release}`);
    if (!(await exists(vmlinuz))) throw new VmError('setup-failed', `${vmlinuz} missing from ${pkg.name}`);

    // the uncompressed kernel boots ~3 s faster under TCG, if qemu can load it (PVH note)
    const vmlinux = join(kdir, 'vmlinux');
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

    const initramfs = await buildInitramfs(kdir, root, release, log);

    // boot tests: the fastest combination that works under TCG, then whether KVM works with it
    const candidates: { machine: Machine; kernelFormat: KernelFormat; kernel: string }[] = [];
    for (const kf of haveVmlinux ? (['vmlinux', 'vmlinuz'] as const) : (['vmlinuz'] as const)) {
      candidates.push({ machine: 'pc', kernelFormat: kf, kernel: kf === 'vmlinux' ? vmlinux : vmlinuz });
    }
    const probes: BootProbe[] = [];
    let chosen: (typeof candidates)[number] | null = null;
    for (const c of candidates) {
      log(`boot test: ${c.machine}, ${c.kernelFormat}, tcg`);
      const p = await probeBoot({ qemu: qi.qemu, kernel: c.kernel, initrd: initramfs.path, machine: c.machine, accelerator: 'tcg', kernelFormat: c.kernelFormat });
      probes.push(p);
      log(`  ${p.ok ? 'ok' : 'failed'}: ${p.detail}`);
      if (p.ok) {
        chosen = c;
        break;
      }
    }
    if (!chosen) {
      throw new VmError('boot-failed', `the VM did not boot in any configuration`, probes.map((p) => `${p.machine}/${p.kernelFormat}/${p.accelerator}: ${p.detail}`).join('\n'));
    }
    let accelerator: Accelerator = 'tcg';
    if (await kvmDevicePresent()) {
      log(`boot test: ${chosen.machine}, ${chosen.kernelFormat}, kvm`);
      const tcgMs = probes.find((x) => x.ok)?.ms ?? 0;
      const p = await probeBoot({
        qemu: qi.qemu,
        kernel: chosen.kernel,
        initrd: initramfs.path,
        machine: chosen.machine,
        accelerator: 'kvm',
        kernelFormat: chosen.kernelFormat,
        timeoutMs: Math.max(PROBE_TIMEOUT_KVM_MIN_MS, 2 * tcgMs),
      });
      probes.push(p);
      log(`  ${p.ok ? 'ok' : 'failed'}: ${p.detail}`);
      if (p.ok) accelerator = 'kvm';
    } else {
      probes.push({ machine: chosen.machine, kernelFormat: chosen.kernelFormat, accelerator: 'kvm', ok: false, ms: 0, detail: '/dev/kvm not present or not accessible' });
    }

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
  });
}

/** Remove other kernel releases (and unpack leftovers of dead setups) from the cache. */
async function pruneKernels(cacheDir: string, keep: string): Promise<void> {
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

// re-exported for tests
export const __test = { isStaticElf, listTree, pidAlive };
