/**
 * The one place netab starts processes. Always argv arrays, never a shell string: scenario values
 * reach commands only as separate arguments. execa lives here and nowhere else.
 *
 * Every option object handed to execa is built here with every key it relies on set explicitly
 * (`shell: false` above all) and frozen: a key missing from an object is looked up on
 * Object.prototype, so a polluted prototype (`Object.prototype.shell = true`) would otherwise turn a
 * shell on for every command. An own property, even `undefined`, shadows the prototype.
 */
import { accessSync, constants as fsConstants, readFileSync, readdirSync, statSync } from 'node:fs';
import { execa, type Options as ExecaOptions, type ResultPromise } from 'execa';
import { EnvError } from '../errors.js';

/** The keys that decide what is executed and how, pinned to safe values in every call. */
const PINNED = {
  shell: false,
  node: false,
  preferLocal: false,
  detached: false,
  argv0: undefined,
  uid: undefined,
  gid: undefined,
  ipc: false,
  serialization: 'json',
  windowsVerbatimArguments: false,
} as const;

/** A frozen execa option object: the pinned keys, then the caller's (no key can come from a prototype). */
export function execOptions(o: Record<string, unknown>): Readonly<ExecaOptions> {
  const opts: Record<string, unknown> = { ...PINNED };
  for (const k of Object.keys(o)) if (!(k in PINNED)) opts[k] = o[k];
  return Object.freeze(opts) as Readonly<ExecaOptions>;
}

export interface RunOptions {
  /** run inside this network namespace (via `ip netns exec NS`) */
  netns?: string;
  timeoutMs?: number;
  input?: string;
  /** throw on non-zero exit (default true) */
  reject?: boolean;
  env?: Record<string, string>;
  cwd?: string;
  /** abort (Ctrl+C): the process is killed */
  signal?: AbortSignal;
}

export interface RunResult {
  command: string;
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** A command failed (an environment problem, exit 3): carries argv, exit code and both streams. */
export class CommandError extends EnvError {
  constructor(
    public readonly result: RunResult,
    message?: string,
  ) {
    super(
      message ??
        `command failed (exit ${result.exitCode}${result.timedOut ? ', timed out' : ''}): ${result.command}` +
          (result.stderr.trim() ? `\n${result.stderr.trim()}` : ''),
    );
    this.name = 'CommandError';
  }
}

/**
 * The argv that runs `argv` inside network namespace `netns`. ip, tc and ss switch namespace
 * themselves (`ip -n`, `tc -n`, `ss -N`: one setns, no process in between); anything else runs
 * under `ip netns exec`, which also unshares a mount namespace and remounts /sys for it. The
 * difference is ~5 ms of CPU per command: the ss sampler runs one every 100 ms during a trial.
 */
export function nsArgv(argv: string[], netns?: string): string[] {
  if (!netns) return argv;
  const [tool, ...rest] = argv;
  if (tool === 'ip' || tool === 'tc') return [tool, '-n', netns, ...rest];
  if (tool === 'ss') return ['ss', '-N', netns, ...rest];
  return ['ip', 'netns', 'exec', netns, ...argv];
}

/** Quote for display only (error messages, "command to re-run"); never executed. */
export function displayCommand(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export async function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  if (argv.length === 0) throw new Error('run: empty argv');
  const full = nsArgv(argv, opts.netns);
  const [file, ...args] = full;
  const r = await execa(
    file!,
    args,
    execOptions({
      reject: false,
      timeout: opts.timeoutMs,
      input: opts.input,
      env: opts.env,
      extendEnv: true,
      cwd: opts.cwd,
      stripFinalNewline: false,
      killSignal: 'SIGKILL',
      cancelSignal: opts.signal,
    }),
  );
  const result: RunResult = {
    command: displayCommand(full),
    argv: full,
    exitCode: r.exitCode ?? (r.signal ? 128 : -1),
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? '') + (r.failed && r.exitCode === undefined && !r.timedOut ? String(r.shortMessage ?? '') : ''),
    timedOut: Boolean(r.timedOut),
  };
  if ((opts.reject ?? true) && (result.exitCode !== 0 || result.timedOut)) throw new CommandError(result);
  return result;
}

const BATCH_TOKEN = /^[A-Za-z0-9_.:/@%+=-]+$/;

/**
 * Several `ip` (or `tc`) commands in one process: `ip [-n NS] -batch -`, the commands on stdin, one
 * argv per line, stopping at the first failure. Only for commands whose every argument is a plain
 * token (names, addresses, numbers with units): anything with a space, quote, '#' or newline is
 * refused, so a line can never carry more than its argv. Saves a process start per command (0.1-0.3 s
 * each inside an emulated VM, ~12 ms of netab's own CPU on a bare host).
 *
 * `mayFail(i)`: line i (0-based) may fail without failing the batch (what `reject: false` is for a
 * single command, e.g. `ip netns exec NS ethtool ...` in a batch, which ip runs as a child). With it
 * the batch runs with `-force` (every line runs) and fails only when a line that may not fail did,
 * as ip reports each failed line ("Command failed -:<line>").
 */
export async function runBatch(
  tool: 'ip' | 'tc',
  cmds: string[][],
  opts: { netns?: string; signal?: AbortSignal; mayFail?: (i: number) => boolean } = {},
): Promise<RunResult | null> {
  if (cmds.length === 0) return null;
  const lines = cmds.map((c) => {
    if (c[0] !== tool) throw new Error(`runBatch(${tool}): command does not start with ${tool}: ${displayCommand(c)}`);
    const args = c.slice(1);
    const bad = args.find((a) => !BATCH_TOKEN.test(a));
    if (bad !== undefined) throw new Error(`runBatch(${tool}): argument not allowed in a batch: ${JSON.stringify(bad)}`);
    return args.join(' ');
  });
  const argv = [tool, ...(opts.netns ? ['-n', opts.netns] : []), ...(opts.mayFail ? ['-force'] : []), '-batch', '-'];
  const r = await run(argv, { input: lines.join('\n') + '\n', reject: false, signal: opts.signal });
  if (r.exitCode !== 0 && !(opts.mayFail && onlyTolerated(r.stderr, lines.length, opts.mayFail))) {
    throw new CommandError({ ...r, command: `${displayCommand(argv)} <<< ${lines.map((l) => JSON.stringify(l)).join(' ')}` });
  }
  return r;
}

/** Every line ip reported as failed ("Command failed -:<n>", 1-based) may fail; false when none is named. */
function onlyTolerated(stderr: string, count: number, mayFail: (i: number) => boolean): boolean {
  const failed = [...stderr.matchAll(/^Command failed -:(\d+)$/gm)].map((m) => Number(m[1]) - 1);
  return failed.length > 0 && failed.every((i) => i >= 0 && i < count && mayFail(i));
}

/** The program's path when it is an executable file on PATH, else null. */
export async function which(program: string): Promise<string | null> {
  // a PATH lookup in-process (no shell: a process start costs 0.1-0.3 s inside the emulated VM)
  if (program.includes('/')) return isExecutable(program) ? program : null;
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (!dir) continue;
    const p = `${dir}/${program}`;
    if (isExecutable(p)) return p;
  }
  return null;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, fsConstants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export interface SpawnOptions extends RunOptions {
  /** called with each complete stdout line */
  onLine?: (line: string) => void;
  onStderrLine?: (line: string) => void;
}

/** A long-running child (iperf3 server, relay): a handle to wait on, write to and kill. */
export class ChildProcess {
  readonly argv: string[];
  private readonly proc: ResultPromise;
  private stdoutBuf = '';
  private stderrBuf = '';
  stderrTail = '';
  private readonly done: Promise<RunResult>;
  exited = false;

  constructor(argv: string[], opts: SpawnOptions = {}) {
    this.argv = nsArgv(argv, opts.netns);
    const [file, ...args] = this.argv;
    this.proc = execa(
      file!,
      args,
      execOptions({
        reject: false,
        timeout: opts.timeoutMs,
        input: undefined,
        env: opts.env,
        extendEnv: true,
        cwd: opts.cwd,
        cancelSignal: opts.signal,
        stdin: 'pipe',
        buffer: false,
        killSignal: 'SIGKILL',
        cleanup: true,
      }),
    );
    if (opts.netns && this.proc.pid !== undefined) nsMembers(opts.netns).add(this.proc.pid);
    this.proc.stdout?.setEncoding('utf8');
    this.proc.stderr?.setEncoding('utf8');
    this.proc.stdout?.on('data', (d: string) => {
      this.stdoutBuf += d;
      let i: number;
      while ((i = this.stdoutBuf.indexOf('\n')) >= 0) {
        const line = this.stdoutBuf.slice(0, i);
        this.stdoutBuf = this.stdoutBuf.slice(i + 1);
        opts.onLine?.(line);
      }
    });
    this.proc.stderr?.on('data', (d: string) => {
      this.stderrTail = (this.stderrTail + d).slice(-4000);
      this.stderrBuf += d;
      let i: number;
      while ((i = this.stderrBuf.indexOf('\n')) >= 0) {
        const line = this.stderrBuf.slice(0, i);
        this.stderrBuf = this.stderrBuf.slice(i + 1);
        opts.onStderrLine?.(line);
      }
    });
    // stdin errors (EPIPE after the child exits) are expected and not fatal
    this.proc.stdin?.on('error', () => {});
    this.done = this.proc.then((r) => {
      this.exited = true;
      return {
        command: displayCommand(this.argv),
        argv: this.argv,
        exitCode: r.exitCode ?? (r.signal ? 128 : -1),
        stdout: this.stdoutBuf,
        stderr: this.stderrTail,
        timedOut: Boolean(r.timedOut),
      };
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  write(line: string): void {
    if (!this.exited) this.proc.stdin?.write(line.endsWith('\n') ? line : line + '\n');
  }

  closeStdin(): void {
    this.proc.stdin?.end();
  }

  wait(): Promise<RunResult> {
    return this.done;
  }

  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
  async stop(graceMs = 2000): Promise<RunResult> {
    if (!this.exited) {
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => {
        if (!this.exited) this.proc.kill('SIGKILL');
      }, graceMs);
      try {
        return await this.done;
      } finally {
        clearTimeout(t);
      }
    }
    return this.done;
  }
}

/**
 * Settle when `ready` resolves (the child said so, e.g. a "ready" line), else fail with `what` when
 * the child exits first or `timeoutMs` passes; on failure the child is stopped before the error is thrown.
 */
export async function untilReady(child: ChildProcess, ready: Promise<void>, timeoutMs: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      child.wait().then((r) => {
        throw new Error(`${what} exited (code ${r.exitCode}) before it was ready: ${r.stderr.trim().slice(-300)}`);
      }),
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`${what} not ready after ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]);
  } catch (e) {
    await child.stop(200);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

export function spawn(argv: string[], opts: SpawnOptions = {}): ChildProcess {
  return new ChildProcess(argv, opts);
}

/*
 * Reading a namespace's /proc/net files without starting a process: /proc/<pid>/net/* shows the
 * network namespace of <pid>, so any live child netab spawned in the namespace (an iperf3 server, a
 * telemetry sampler) serves. Each candidate is checked (its /proc/<pid>/ns/net must be the inode of
 * /run/netns/<ns>: `ip netns exec` enters the namespace only after the fork), else one `cat` runs in
 * the namespace. Inside an emulated VM a process start costs 0.1-0.3 s; this costs a file read.
 */
const members = new Map<string, Set<number>>();

function nsMembers(ns: string): Set<number> {
  let m = members.get(ns);
  if (!m) members.set(ns, (m = new Set()));
  return m;
}

/** The inode of named namespace `ns` (/run/netns/<ns>), or of netab's own with null; null when absent. */
function nsInode(ns: string | null): number | null {
  try {
    return statSync(ns === null ? '/proc/self/ns/net' : `/run/netns/${ns}`).ino;
  } catch {
    return null;
  }
}

/** A pid of a live process in `ns` that netab started, or null (pure file reads; no exec). */
export function pidInNamespace(ns: string): number | null {
  const m = members.get(ns);
  if (!m?.size) return null;
  const want = nsInode(ns);
  if (want === null) return null;
  for (const pid of [...m]) {
    try {
      if (statSync(`/proc/${pid}/ns/net`).ino === want) return pid;
    } catch {
      m.delete(pid); // gone
    }
  }
  return null;
}

/**
 * Every process in namespace `ns` (what `ip netns pids` prints, without starting it): the processes
 * whose /proc/<pid>/ns/net is the namespace's inode. Empty when the namespace does not exist.
 */
export function namespacePids(ns: string): number[] {
  const want = nsInode(ns);
  // a name bound to netab's own namespace (the host's, usually) would list every process here
  if (want === null || want === nsInode(null)) return [];
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (statSync(`/proc/${d}/ns/net`).ino === want) out.push(Number(d));
    } catch {
      /* gone, or a kernel thread without one */
    }
  }
  return out;
}

/**
 * A process that only holds a namespace open for readNsProcNet (`sleep infinity`): started once per
 * endpoint, so per-trial counter reads never start a process. Stop it with .stop().
 */
export function anchorNamespace(ns: string): ChildProcess {
  return spawn(['sleep', 'infinity'], { netns: ns });
}

/** The content of /proc/net/<name> (e.g. "snmp", "netstat") as seen inside `ns`. */
export async function readNsProcNet(ns: string, name: string): Promise<string> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`readNsProcNet: bad file name ${JSON.stringify(name)}`);
  const pid = pidInNamespace(ns);
  if (pid !== null) {
    try {
      const text = readFileSync(`/proc/${pid}/net/${name}`, 'utf8');
      // the process may have left between the check and the read: check again
      if (pidInNamespace(ns) === pid) return text;
    } catch {
      /* fall back */
    }
  }
  return (await run(['cat', `/proc/net/${name}`], { netns: ns })).stdout;
}
