/**
 * `vmRun`: boot the prepared VM, run one command in it (as root, in the host's root filesystem),
 * stream its output, return its exit status. Per-run values travel as files in a private control
 * directory shared over 9p (see STAGE2_SCRIPT in guest.ts); nothing is ever built into a shell string.
 */
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { TAG_CTL, TAG_HOSTROOT, TAG_WORK } from './guest.js';
import { imageProblems } from './cache.js';
import { buildQemuArgv, defaultCpus, kernelCmdline, KVM_FAILURE, runQemu } from './qemu.js';
import { VmError, type Accelerator, type VmImage, type VmRunOptions, type VmRunResult } from './types.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Put first on the guest PATH: holds `modprobe` for the guest kernel's modules (see guest.ts). */
export const GUEST_BIN = '/run/netab/bin';

/**
 * The guest command's environment: a clean base (PATH like the host's), then the caller's; PATH
 * always starts with GUEST_BIN.
 */
export function guestEnv(extra: Record<string, string> = {}, host: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {
    PATH: host.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/root',
    USER: 'root',
    LOGNAME: 'root',
  };
  for (const k of ['LANG', 'LC_ALL', 'TZ', 'TERM']) if (host[k]) env[k] = host[k]!;
  env.NETAB_IN_VM = '1';
  const out = { ...env, ...extra };
  if (!out.PATH!.split(':').includes(GUEST_BIN)) out.PATH = `${GUEST_BIN}:${out.PATH}`;
  return out;
}

/** Check argv/env for what the file protocol and `env -i` can carry. Throws VmError('invalid'). */
export function validateRunInput(argv: string[], env: Record<string, string>): void {
  if (argv.length === 0) throw new VmError('invalid', 'vmRun: empty argv');
  const a0 = argv[0]!;
  if (a0 === '' || a0.includes('=') || a0.startsWith('-')) {
    throw new VmError('invalid', `vmRun: the program name may not be empty, contain "=" or start with "-": ${JSON.stringify(a0)}`);
  }
  for (const a of argv) if (a.includes('\0')) throw new VmError('invalid', `vmRun: argument contains a NUL byte: ${JSON.stringify(a)}`);
  for (const [k, v] of Object.entries(env)) {
    if (!ENV_NAME.test(k)) throw new VmError('invalid', `vmRun: invalid environment variable name: ${JSON.stringify(k)}`);
    if (v.includes('\0')) throw new VmError('invalid', `vmRun: environment variable ${k} contains a NUL byte`);
  }
}

/**
 * Write the control files stage 2 reads: one value per file, each followed by "." (stage 2 strips
 * it; it keeps $(cat) from eating trailing newlines). Returns the ctl dir.
 */
export async function writeControlFiles(
  ctl: string,
  p: { workDir: string; cwd: string; argv: string[]; env: Record<string, string> },
): Promise<void> {
  await mkdir(join(ctl, 'argv'), { recursive: true });
  await mkdir(join(ctl, 'env'), { recursive: true });
  await writeFile(join(ctl, 'workdir'), p.workDir + '.');
  await writeFile(join(ctl, 'cwd'), p.cwd + '.');
  const name = (i: number) => String(i).padStart(6, '0');
  await Promise.all(p.argv.map((a, i) => writeFile(join(ctl, 'argv', name(i)), a + '.')));
  await Promise.all(Object.entries(p.env).map(([k, v], i) => writeFile(join(ctl, 'env', name(i)), `${k}=${v}.`)));
}

/** Parse the exit file ("3\n"); null when absent or garbled. */
export function parseExitFile(s: string | null): number | null {
  if (s === null) return null;
  const m = /^\s*(\d{1,3})\s*$/.exec(s);
  return m ? Number(m[1]) : null;
}

function abortError(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  const e = new Error(typeof r === 'string' ? r : 'vmRun aborted');
  e.name = 'AbortError';
  return e;
}

function pickAccelerator(image: VmImage, opt?: Accelerator): Accelerator {
  const env = process.env.NETAB_VM_ACCEL;
  if (opt) return opt;
  if (env === 'kvm' || env === 'tcg') return env;
  return image.accelerator;
}

/** The guest environment, the real work dir and the cwd of a vmRun request; throws VmError('invalid' / 'not-ready'). */
async function checkRunRequest(
  image: VmImage,
  argv: string[],
  opts: VmRunOptions,
): Promise<{ env: Record<string, string>; workDir: string; cwd: string }> {
  const env = guestEnv(opts.env);
  validateRunInput(argv, env);
  if (!isAbsolute(opts.workDir)) throw new VmError('invalid', `vmRun: workDir must be an absolute path: ${opts.workDir}`);
  const workDir = await realpath(opts.workDir).catch(() => {
    throw new VmError('invalid', `vmRun: workDir does not exist: ${opts.workDir}`);
  });
  if (!(await stat(workDir)).isDirectory()) throw new VmError('invalid', `vmRun: workDir is not a directory: ${workDir}`);
  if (workDir === '/') throw new VmError('invalid', 'vmRun: workDir may not be /');
  if (/[\n\r\0]/.test(workDir)) throw new VmError('invalid', `vmRun: workDir may not contain newlines: ${JSON.stringify(workDir)}`);
  const cwd = opts.cwd ?? workDir;
  if (!isAbsolute(cwd)) throw new VmError('invalid', `vmRun: cwd must be an absolute path: ${cwd}`);
  const problems = await imageProblems(image);
  if (problems.length) throw new VmError('not-ready', `VM image incomplete (${problems.join('; ')}): run \`netab vm setup\``);
  return { env, workDir, cwd };
}

/** The guest command's exit code; a VmError (with the console and qemu tails) for a timeout, a KVM failure or no exit status. */
async function exitStatus(
  q: Awaited<ReturnType<typeof runQemu>>,
  exitCode: number | null,
  started: string | null,
  consoleLog: string,
  timeoutMs: number | undefined,
): Promise<number> {
  const diag = async () => {
    const con = (await readFile(consoleLog, 'utf8').catch(() => '')).trim().split('\n').slice(-15).join('\n');
    const err = q.stderrTail.trim().split('\n').slice(-10).join('\n');
    return [con && `guest console:\n${con}`, err && `qemu stderr:\n${err}`].filter(Boolean).join('\n');
  };
  if (q.stoppedFor === 'timeout') {
    throw new VmError(
      'timeout',
      `VM run timed out after ${((timeoutMs ?? 0) / 1000).toFixed(1)} s (${started ? 'command was running' : 'still booting'})`,
      await diag(),
    );
  }
  if (q.stoppedFor === 'kill-when') {
    throw new VmError('boot-failed', 'KVM failed to run the guest (try NETAB_VM_ACCEL=tcg or `netab vm setup --force`)', await diag());
  }
  if (exitCode === null) {
    throw new VmError(
      started ? 'no-exit-status' : 'boot-failed',
      started
        ? `the guest command ended without an exit status (qemu exit ${q.exitCode})`
        : `the VM did not boot (qemu exit ${q.exitCode})`,
      await diag(),
    );
  }
  return exitCode;
}

/** qemu's argv for a run: the image, the host root read-only, the control and work dirs writable. */
function runArgv(
  image: VmImage,
  accelerator: Accelerator,
  opts: VmRunOptions,
  d: { ctl: string; workDir: string; consoleLog: string },
): string[] {
  const { ctl, workDir, consoleLog } = d;
  return buildQemuArgv({
    qemu: image.qemu,
    machine: image.machine,
    accelerator,
    cpus: opts.cpus ?? defaultCpus(),
    memoryMb: opts.memoryMb ?? 512,
    kernel: image.kernelPath,
    initrd: image.initramfsPath,
    append: kernelCmdline('run', accelerator),
    consoleLog,
    shares: [
      { tag: TAG_HOSTROOT, path: '/', readonly: true },
      { tag: TAG_CTL, path: ctl, readonly: false },
      { tag: TAG_WORK, path: workDir, readonly: false },
    ],
  });
}

/**
 * Boot the VM, run `argv` in it and power it off. Resolves with the guest command's exit code;
 * rejects with VmError ('timeout', 'boot-failed', 'no-exit-status', 'invalid', 'not-ready') or,
 * on abort, with the signal's reason. Always leaves no qemu process and removes its temp dir.
 */
export async function vmRun(image: VmImage, argv: string[], opts: VmRunOptions): Promise<VmRunResult> {
  if (opts.signal?.aborted) throw abortError(opts.signal);
  const { env, workDir, cwd } = await checkRunRequest(image, argv, opts);

  const accelerator = pickAccelerator(image, opts.accelerator);
  const tmp = await mkdtemp(join(tmpdir(), 'netab-vm-'));
  const ctl = join(tmp, 'ctl');
  const consoleLog = join(tmp, 'console.log');
  let watcher: FSWatcher | null = null;
  try {
    await writeControlFiles(ctl, { workDir, cwd, argv, env });
    const qargv = runArgv(image, accelerator, opts, { ctl, workDir, consoleLog });
    const t0 = Date.now();
    let startedAt: number | null = null;
    try {
      watcher = watch(ctl, (_ev, f) => {
        if (f === 'started' && startedAt === null) startedAt = Date.now();
      });
      watcher.on('error', () => {});
    } catch {
      watcher = null;
    }
    // the caller's abort, or the caller's onOutput throwing, stops the VM
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    let outputError: unknown = null;
    const emit = (chunk: string) => {
      if (outputError !== null) return;
      try {
        opts.onOutput?.(chunk);
      } catch (e) {
        outputError = e;
        stop.abort();
      }
    };
    let q: Awaited<ReturnType<typeof runQemu>>;
    try {
      q = await runQemu(qargv, {
        onLine: (l) => emit(l + '\n'),
        timeoutMs: opts.timeoutMs,
        signal: stop.signal,
        killWhen: accelerator === 'kvm' ? (l) => KVM_FAILURE.test(l) : undefined,
      });
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
    if (q.rest) emit(q.rest);
    watcher?.close();
    watcher = null;

    if (outputError !== null) throw outputError;
    // also when qemu died first (a terminal's Ctrl+C reaches qemu too: same process group)
    if (opts.signal?.aborted) throw abortError(opts.signal);
    const readCtl = (f: string) => readFile(join(ctl, f), 'utf8').catch(() => null);
    const exitFile = parseExitFile(await readCtl('exit'));
    const started = await readCtl('started');
    const exitCode = await exitStatus(q, exitFile, started, consoleLog, opts.timeoutMs);
    // wall-clock from the watcher; else the guest's own uptime at stage 2
    const guestUptimeMs = started ? Math.round(parseFloat(started) * 1000) : NaN;
    const bootMs = startedAt !== null ? startedAt - t0 : Number.isFinite(guestUptimeMs) ? guestUptimeMs : q.ms;
    return { exitCode, kernel: image.kernelVersion, accelerator, bootMs, totalMs: q.ms };
  } finally {
    watcher?.close();
    // NETAB_VM_KEEP=1 keeps the control dir and the guest console log for debugging
    if (process.env.NETAB_VM_KEEP === '1') process.stderr.write(`netab vm: kept ${tmp}\n`);
    else await rm(tmp, { recursive: true, force: true });
  }
}
