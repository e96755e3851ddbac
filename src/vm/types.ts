/** Public types of the VM runner (`netab vm setup`, `netab run --vm`). */

import { EXIT, NetabError } from '../errors.js';

export type Accelerator = 'kvm' | 'tcg';
/**
 * qemu machine. Only `pc` (i440fx, virtio-pci): `microvm` boots ~1 s faster but has no HPET/ACPI PM
 * timer, and under TCG the kernel's TSC calibration against the PIT fails often enough to hang boots.
 */
export type Machine = 'pc';
export type KernelFormat = 'vmlinux' | 'vmlinuz';

/** One boot test made by `vmSetup` (recorded in the cache's image.json). */
export interface BootProbe {
  machine: Machine;
  kernelFormat: KernelFormat;
  accelerator: Accelerator;
  ok: boolean;
  ms: number;
  detail: string;
}

/** A prepared VM: everything `vmRun` needs. Stored as `<cacheDir>/image.json`. */
export interface VmImage {
  /** layout version of the cache */
  format: number;
  /** hash of everything the image was built from; same stamp = `vmSetup` is a no-op */
  stamp: string;
  /** hash of the guest scripts/modules list that built the initramfs (loadVmImage checks it) */
  guestHash: string;
  cacheDir: string;
  /** Debian package the kernel came from, e.g. linux-image-6.1.0-56-amd64 */
  packageName: string;
  packageVersion: string;
  /** kernel release (`uname -r` in the guest), e.g. 6.1.0-56-amd64 */
  kernelVersion: string;
  /** the file given to `qemu -kernel` */
  kernelPath: string;
  kernelFormat: KernelFormat;
  initramfsPath: string;
  /** the unpacked package (modprobe -d root) */
  modulesRoot: string;
  machine: Machine;
  /** what setup's boot test found to work; `vmRun` uses it unless told otherwise */
  accelerator: Accelerator;
  qemu: string;
  qemuVersion: string;
  /** modules the initramfs loads, in order (basenames) */
  initramfsModules: string[];
  probes: BootProbe[];
  createdAt: string;
}

export interface VmSetupOptions {
  /** default: $NETAB_VM_CACHE, else $XDG_CACHE_HOME/netab/vm, else ~/.cache/netab/vm */
  cacheDir?: string;
  log?: (s: string) => void;
  /** rebuild the initramfs and redo the boot tests even when the stamp matches */
  force?: boolean;
}

export interface VmRunOptions {
  /** host directory shared read-write with the guest, mounted at the same path */
  workDir: string;
  /** working directory of the command in the guest (default: workDir) */
  cwd?: string;
  /**
   * Extra environment. The guest command gets a clean environment: PATH (the host's), HOME=/root,
   * USER/LOGNAME=root, LANG/LC_ALL/TZ/TERM when set on the host, NETAB_IN_VM=1, then these.
   */
  env?: Record<string, string>;
  /** kill the VM after this long (rejects with VmError code 'timeout') */
  timeoutMs?: number;
  /** the guest command's stdout+stderr (merged, in order), delivered line by line */
  onOutput?: (chunk: string) => void;
  /** abort powers the VM off (kills qemu); rejects with the signal's reason */
  signal?: AbortSignal;
  /** override the accelerator recorded at setup (also: env NETAB_VM_ACCEL=kvm|tcg) */
  accelerator?: Accelerator;
  /** guest memory, MiB (default 512) */
  memoryMb?: number;
  /** guest vCPUs (default 1; see defaultCpus) */
  cpus?: number;
}

export interface VmRunResult {
  exitCode: number;
  /** guest kernel release */
  kernel: string;
  accelerator: Accelerator;
  /** qemu start to the guest command's start (stage 2), ms */
  bootMs: number;
  /** qemu start to qemu exit, ms */
  totalMs: number;
}

export type VmErrorCode = 'not-ready' | 'invalid' | 'boot-failed' | 'timeout' | 'no-exit-status' | 'setup-failed';

/** The VM cannot do it (exit 3); an invalid request to it (code 'invalid') is the user's input (exit 2). */
export class VmError extends NetabError {
  constructor(
    public readonly code: VmErrorCode,
    message: string,
    /** tail of the guest console and qemu's stderr, when there is one */
    public readonly detail = '',
  ) {
    super(detail ? `${message}\n${detail}` : message, code === 'invalid' ? EXIT.usage : EXIT.env);
    this.name = 'VmError';
  }
}
