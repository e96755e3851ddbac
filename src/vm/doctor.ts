/** `vmDoctor`: is the VM cache ready, which kernel, does KVM work. Changes nothing. */
import { resolveCacheDir } from './paths.js';
import { missingPackages } from './apt.js';
import { imageProblems, readImage } from './cache.js';
import { kvmDevicePresent, probeBoot } from './probe.js';
import { qemuInfo } from './qemu.js';
import type { Accelerator, KernelFormat, Machine } from './types.js';

export interface VmDoctorReport {
  /** `vmRun` can run now */
  ready: boolean;
  cacheDir: string;
  missingPackages: string[];
  qemu: string | null;
  kernelVersion: string | null;
  packageVersion: string | null;
  kernelFormat: KernelFormat | null;
  machine: Machine | null;
  /** what vmRun will use */
  accelerator: Accelerator | null;
  kvm: {
    /** /dev/kvm exists and is read-write for us */
    device: boolean;
    /** null = never tested (no image yet) */
    works: boolean | null;
    detail: string;
    /** true when `live` re-tested it now, false when it's setup's recorded result */
    live: boolean;
  };
  /** what the boot tests measured at setup (ms to the guest's first output) */
  bootProbeMs: number | null;
  problems: string[];
}

/**
 * @param opts.live boot the VM once with KVM now (≤ 20 s) instead of reporting setup's recorded result
 */
export async function vmDoctor(opts: { cacheDir?: string; live?: boolean } = {}): Promise<VmDoctorReport> {
  const cacheDir = resolveCacheDir(opts.cacheDir);
  const problems: string[] = [];
  const missing = await missingPackages();
  if (missing.length) problems.push(`missing packages: ${missing.join(' ')} (\`netab vm setup\` installs them)`);
  const qi = await qemuInfo();
  const img = await readImage(cacheDir);
  if (!img) problems.push(`no VM image in ${cacheDir}: run \`netab vm setup\``);
  else problems.push(...(await imageProblems(img)).map((p) => `${p}: run \`netab vm setup\``));
  const device = await kvmDevicePresent();
  let kvm: VmDoctorReport['kvm'] = {
    device,
    works: null,
    detail: device ? 'not tested yet' : '/dev/kvm not present or not accessible',
    live: false,
  };
  if (img) {
    const recorded = [...img.probes].reverse().find((p) => p.accelerator === 'kvm');
    if (recorded) kvm = { device, works: recorded.ok, detail: recorded.detail, live: false };
    if (opts.live && device && problems.length === 0) {
      const p = await probeBoot({
        qemu: img.qemu,
        kernel: img.kernelPath,
        initrd: img.initramfsPath,
        machine: img.machine,
        accelerator: 'kvm',
        kernelFormat: img.kernelFormat,
      });
      kvm = { device, works: p.ok, detail: p.detail, live: true };
    }
  }
  const tcgProbe = img?.probes.find((p) => p.ok && p.accelerator === img.accelerator);
  return {
    ready: problems.length === 0,
    cacheDir,
    missingPackages: missing,
    qemu: qi ? `${qi.qemu} (${qi.version})` : null,
    kernelVersion: img?.kernelVersion ?? null,
    packageVersion: img ? `${img.packageName} ${img.packageVersion}` : null,
    kernelFormat: img?.kernelFormat ?? null,
    machine: img?.machine ?? null,
    accelerator: img?.accelerator ?? null,
    kvm,
    bootProbeMs: tcgProbe?.ms ?? null,
    problems,
  };
}

/** Human-readable lines for `netab vm doctor` / `netab doctor`. */
export function formatVmDoctor(r: VmDoctorReport): string {
  const yes = (b: boolean | null) => (b === null ? '?' : b ? 'yes' : 'no');
  return [
    `VM ready:     ${yes(r.ready)}`,
    `cache:        ${r.cacheDir}`,
    `qemu:         ${r.qemu ?? 'not installed'}`,
    `kernel:       ${r.kernelVersion ? `${r.kernelVersion} (${r.packageVersion}; boots ${r.kernelFormat} on -M ${r.machine})` : 'not prepared'}`,
    `accelerator:  ${r.accelerator ?? '-'}${r.bootProbeMs !== null ? ` (boot test: ${(r.bootProbeMs / 1000).toFixed(1)} s)` : ''}`,
    `KVM works:    ${yes(r.kvm.works)} (${r.kvm.live ? 'tested now' : 'recorded at setup'}: ${r.kvm.detail})`,
    ...r.problems.map((p) => `problem:      ${p}`),
  ].join('\n');
}
