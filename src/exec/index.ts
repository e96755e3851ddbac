/**
 * The one place netab starts processes. Always argv arrays, never a shell string: scenario values
 * reach commands only as separate arguments. execa lives here and nowhere else.
 */
import { execa, type ResultPromise } from 'execa';

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

/** A command failed: carries argv, exit code and both streams, like execa's own error. */
export class CommandError extends Error {
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

export function nsArgv(argv: string[], netns?: string): string[] {
  return netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
}

/** Quote for display only (error messages, "command to re-run"); never executed. */
export function displayCommand(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export async function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  if (argv.length === 0) throw new Error('run: empty argv');
  const full = nsArgv(argv, opts.netns);
  const [file, ...args] = full;
  const r = await execa(file!, args, {
    reject: false,
    timeout: opts.timeoutMs,
    input: opts.input,
    env: opts.env,
    cwd: opts.cwd,
    stripFinalNewline: false,
    killSignal: 'SIGKILL',
    cancelSignal: opts.signal,
  });
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

/** Run several commands one after another (each its own argv), stopping at the first failure. */
export async function runAll(cmds: string[][], opts: RunOptions = {}): Promise<void> {
  for (const c of cmds) await run(c, opts);
}

/** True when the program exists on PATH (and runs with --version or -V without crashing). */
export async function which(program: string): Promise<string | null> {
  const r = await run(['sh', '-c', 'command -v "$1"', 'sh', program], { reject: false });
  return r.exitCode === 0 ? r.stdout.trim() : null;
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
    this.proc = execa(file!, args, {
      reject: false,
      timeout: opts.timeoutMs,
      env: opts.env,
      cwd: opts.cwd,
      cancelSignal: opts.signal,
      stdin: 'pipe',
      buffer: false,
      killSignal: 'SIGKILL',
      cleanup: true,
    });
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

export function spawn(argv: string[], opts: SpawnOptions = {}): ChildProcess {
  return new ChildProcess(argv, opts);
}
