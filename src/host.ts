/**
 * What this host is, detected once per process. The VM launcher (src/vm/run.ts, guestEnv) marks the
 * guest's environment with NETAB_IN_VM=1 and `netab run --vm` adds NETAB_VM_ACCELERATOR; everything
 * else asks here instead of reading the environment. Base layer: imports nothing from src.
 */
import { release } from 'node:os';

export interface HostCapabilities {
  /** running inside netab's qemu VM (real netem, emulated CPU: fewer, costlier probes) */
  inVm: boolean;
  /** the guest kernel and the accelerator the launcher chose; null outside the VM */
  vm: { kernel: string; accelerator: string } | null;
}

let cached: HostCapabilities | null = null;

export function hostCapabilities(): HostCapabilities {
  if (cached) return cached;
  const inVm = Boolean(process.env.NETAB_IN_VM);
  cached = { inVm, vm: inVm ? { kernel: release(), accelerator: process.env.NETAB_VM_ACCELERATOR ?? 'unknown' } : null };
  return cached;
}

export function inVm(): boolean {
  return hostCapabilities().inVm;
}
