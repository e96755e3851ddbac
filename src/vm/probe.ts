/** Boot tests: one probe boot of the image under an accelerator, and whether /dev/kvm is there. */
import { constants as fsc } from 'node:fs';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROBE_MARKER, TAG_HOSTROOT } from './guest.js';
import { buildQemuArgv, defaultCpus, kernelCmdline, KVM_FAILURE, runQemu } from './qemu.js';
import { VmError, type Accelerator, type BootProbe, type KernelFormat, type Machine } from './types.js';

/**
 * Boot test limits: a TCG boot takes 2–7 s. A broken KVM hangs, and a working one boots faster than
 * TCG did on the same machine, so KVM gets twice the TCG boot, at least 8 s (not a fixed 20 s: that
 * wait was half of a fresh `netab vm setup` on machines where /dev/kvm exists but cannot run a guest).
 */
const PROBE_TIMEOUT_TCG_MS = 90_000;
const PROBE_TIMEOUT_KVM_MIN_MS = 8_000;

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
    return {
      ...base,
      ok: false,
      detail: [why, err && `qemu: ${err}`, consoleTail && `console: ${consoleTail}`].filter(Boolean).join('; '),
    };
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

type BootCandidate = { machine: Machine; kernelFormat: KernelFormat; kernel: string };

/** The boot tests: the first candidate that boots under TCG, then whether KVM works with it. Throws VmError('boot-failed'). */
export async function bootTests(
  qemu: string,
  candidates: BootCandidate[],
  initrd: string,
  log: (s: string) => void,
): Promise<{ chosen: BootCandidate; accelerator: Accelerator; probes: BootProbe[] }> {
  const probes: BootProbe[] = [];
  let chosen: (typeof candidates)[number] | null = null;
  for (const c of candidates) {
    log(`boot test: ${c.machine}, ${c.kernelFormat}, tcg`);
    const p = await probeBoot({ qemu, kernel: c.kernel, initrd, machine: c.machine, accelerator: 'tcg', kernelFormat: c.kernelFormat });
    probes.push(p);
    log(`  ${p.ok ? 'ok' : 'failed'}: ${p.detail}`);
    if (p.ok) {
      chosen = c;
      break;
    }
  }
  if (!chosen) {
    throw new VmError(
      'boot-failed',
      `the VM did not boot in any configuration`,
      probes.map((p) => `${p.machine}/${p.kernelFormat}/${p.accelerator}: ${p.detail}`).join('\n'),
    );
  }
  let accelerator: Accelerator = 'tcg';
  if (await kvmDevicePresent()) {
    log(`boot test: ${chosen.machine}, ${chosen.kernelFormat}, kvm`);
    const tcgMs = probes.find((x) => x.ok)?.ms ?? 0;
    const p = await probeBoot({
      qemu,
      kernel: chosen.kernel,
      initrd,
      machine: chosen.machine,
      accelerator: 'kvm',
      kernelFormat: chosen.kernelFormat,
      timeoutMs: Math.max(PROBE_TIMEOUT_KVM_MIN_MS, 2 * tcgMs),
    });
    probes.push(p);
    log(`  ${p.ok ? 'ok' : 'failed'}: ${p.detail}`);
    if (p.ok) accelerator = 'kvm';
  } else {
    probes.push({
      machine: chosen.machine,
      kernelFormat: chosen.kernelFormat,
      accelerator: 'kvm',
      ok: false,
      ms: 0,
      detail: '/dev/kvm not present or not accessible',
    });
  }
  return { chosen, accelerator, probes };
}
