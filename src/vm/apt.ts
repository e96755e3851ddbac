/** Host packages through apt: what's missing, installing it, and which kernel package linux-image-amd64 means. */
import { run } from '../exec/index.js';
import { parseKernelDependency } from './kernel.js';
import { VmError } from './types.js';

/** Host packages the VM needs. iproute2/procps/iputils-ping: the guest runs the host's tc, ip, sysctl and ping (its fidelity prober). */
export const REQUIRED_PACKAGES = ['qemu-system-x86', 'busybox-static', 'cpio', 'kmod', 'xz-utils', 'iproute2', 'procps', 'iputils-ping'];
export const KERNEL_METAPACKAGE = 'linux-image-amd64';
const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive' };
const APT_LOCK = ['-o', 'DPkg::Lock::Timeout=600'];

export const isRoot = () => process.getuid?.() === 0;

/** Which of `pkgs` dpkg doesn't list as installed. */
export async function missingPackages(pkgs: string[] = REQUIRED_PACKAGES): Promise<string[]> {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax, not a template
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
export async function aptUpdate(log: (s: string) => void): Promise<void> {
  if (aptUpdated) return;
  log('apt-get update');
  await run(['apt-get', ...APT_LOCK, 'update'], { env: APT_ENV, timeoutMs: 600_000 });
  aptUpdated = true;
}

export async function installPackages(pkgs: string[], log: (s: string) => void): Promise<void> {
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
  if (!dep)
    throw new VmError(
      'setup-failed',
      `cannot tell which kernel ${KERNEL_METAPACKAGE} depends on (apt-cache show: ${r.stderr.trim() || 'no Depends'})`,
    );
  if (dep.version) return { name: dep.name, version: dep.version };
  const v = /^Version:\s*(\S+)/m.exec((await show(dep.name)).stdout);
  if (!v) throw new VmError('setup-failed', `no version for ${dep.name} in apt-cache`);
  return { name: dep.name, version: v[1]! };
}
