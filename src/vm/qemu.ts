/** qemu command lines (pure) and one qemu process from start to exit (through the exec module). */
import { availableParallelism } from 'node:os';
import { run, spawn, which } from '../exec/index.js';
import { OUTPUT_PORT } from './guest.js';
import type { Accelerator, Machine } from './types.js';

export const QEMU_BIN = 'qemu-system-x86_64';

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

export async function qemuInfo(): Promise<{ qemu: string; version: string } | null> {
  const q = await which(QEMU_BIN);
  if (!q) return null;
  const r = await run([q, '--version'], { reject: false });
  return { qemu: q, version: r.stdout.split('\n')[0]?.trim() ?? 'unknown' };
}

export interface Share {
  tag: string;
  path: string;
  readonly: boolean;
}

export interface QemuSpec {
  qemu: string;
  machine: Machine;
  accelerator: Accelerator;
  cpus: number;
  memoryMb: number;
  kernel: string;
  initrd: string;
  /** kernel command line */
  append: string;
  /** the guest's serial console (kernel messages, init's errors) goes to this file */
  consoleLog: string;
  shares: Share[];
}

/** A value inside a qemu `-opt key=value,...` list: commas are doubled; newlines and NULs refused. */
export function qemuOptValue(s: string): string {
  if (/[\n\r\0]/.test(s)) throw new Error(`qemu option value may not contain newlines: ${JSON.stringify(s)}`);
  return s.replace(/,/g, ',,');
}

export function kernelCmdline(mode: 'run' | 'probe', accelerator: Accelerator): string {
  // quiet loglevel=0 keeps kernel messages off the console; panic=-1 + -no-reboot turns any panic
  // (e.g. PID 1 dying) into qemu exiting instead of a hang. Under TCG the TSC is derived from one
  // host clock for all vCPUs: tsc=reliable stops the kernel from dropping it for the (emulated, slow)
  // HPET when the vCPUs' TSCs look unsynchronised.
  return [
    'console=ttyS0',
    'quiet',
    'loglevel=0',
    'panic=-1',
    ...(accelerator === 'tcg' ? ['tsc=reliable'] : []),
    `netab.mode=${mode}`,
  ].join(' ');
}

export function buildQemuArgv(s: QemuSpec): string[] {
  for (const p of [s.kernel, s.initrd]) if (/[,\n\r\0]/.test(p)) throw new Error(`qemu cannot take this path (comma or newline): ${p}`);
  const argv = [s.qemu, '-name', 'netab-vm', '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot', '-M', s.machine];
  if (s.accelerator === 'kvm') argv.push('-accel', 'kvm', '-cpu', 'host');
  else argv.push('-accel', s.cpus > 1 ? 'tcg,thread=multi' : 'tcg', '-cpu', 'max');
  argv.push(
    '-smp',
    String(s.cpus),
    '-m',
    String(s.memoryMb),
    '-kernel',
    s.kernel,
    '-initrd',
    s.initrd,
    '-append',
    s.append,
    '-chardev',
    `file,id=con,path=${qemuOptValue(s.consoleLog)}`,
    '-serial',
    'chardev:con',
    '-chardev',
    'stdio,id=out,signal=off',
    '-device',
    'virtio-serial-pci,id=vser',
    '-device',
    `virtserialport,bus=vser.0,chardev=out,name=${OUTPUT_PORT}`,
  );
  s.shares.forEach((sh, i) => {
    argv.push(
      '-fsdev',
      `local,id=fs${i},path=${qemuOptValue(sh.path)},security_model=none,multidevs=remap${sh.readonly ? ',readonly=on' : ''}`,
      '-device',
      `virtio-9p-pci,fsdev=fs${i},mount_tag=${qemuOptValue(sh.tag)}`,
    );
  });
  return argv;
}

/** qemu's stderr when KVM can't run this guest (it then hangs paused instead of exiting). */
export const KVM_FAILURE = /KVM internal error|emulation failure|KVM: entry failed|kvm run failed|failed to initialize kvm/i;

export interface QemuExit {
  exitCode: number;
  /** why netab stopped qemu, if it did */
  stoppedFor: 'timeout' | 'abort' | 'kill-when' | null;
  /** output left after the last newline */
  rest: string;
  stderrTail: string;
  ms: number;
}

export interface QemuRunOptions {
  onLine?: (line: string) => void;
  onStderrLine?: (line: string) => void;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** stop qemu as soon as a stderr line matches (e.g. "KVM internal error") */
  killWhen?: (stderrLine: string) => boolean;
}

/** Start qemu, wait for it to exit; timeout, abort and killWhen stop it (SIGTERM, then SIGKILL). */
export async function runQemu(argv: string[], o: QemuRunOptions = {}): Promise<QemuExit> {
  const t0 = Date.now();
  let stoppedFor: QemuExit['stoppedFor'] = null;
  let stopping: Promise<unknown> | null = null;
  const stop = (why: NonNullable<QemuExit['stoppedFor']>) => {
    if (!stoppedFor) stoppedFor = why;
    if (!stopping) stopping = child.stop(1500);
  };
  // qemu dies with netab even when netab is SIGKILLed (nothing else would stop a guest run)
  const full = (await which('setpriv')) ? ['setpriv', '--pdeathsig', 'KILL', '--', ...argv] : argv;
  const child = spawn(full, {
    onLine: (l) => o.onLine?.(l),
    onStderrLine: (l) => {
      o.onStderrLine?.(l);
      if (o.killWhen?.(l)) stop('kill-when');
    },
  });
  // stdin stays open (and silent) until qemu exits: at EOF qemu's stdio chardev reports "closed",
  // the guest's virtio-serial port loses its host side and every write to it blocks forever
  const timer = o.timeoutMs !== undefined ? setTimeout(() => stop('timeout'), o.timeoutMs) : null;
  const onAbort = () => stop('abort');
  if (o.signal?.aborted) onAbort();
  else o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const r = await child.wait();
    if (stopping) await stopping;
    return { exitCode: r.exitCode, stoppedFor, rest: r.stdout, stderrTail: child.stderrTail, ms: Date.now() - t0 };
  } finally {
    if (timer) clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
  }
}
