/**
 * A typed client for the relay process (see ./protocol.ts): spawns
 * `node relay-main.js <config>` inside a namespace through exec/spawn, waits for the ready line and
 * matches command replies by id. Used by the tests and the bench; engine.ts may use it as well.
 */
import { fileURLToPath } from 'node:url';
import { run, spawn, type ChildProcess } from '../../exec/index.js';
import type { LinkImpairment } from '../types.js';
import type { RelayConfig, RelayStats } from './protocol.js';

/** The built relay entry point next to this module (dist/impairment/userspace/relay-main.js when built). */
export function builtRelayScript(): string {
  return fileURLToPath(new URL('./relay-main.js', import.meta.url));
}

interface Reply {
  id?: number | string | null;
  stats?: RelayStats;
  ok?: boolean;
  error?: string;
  event?: string;
  message?: string;
  tids?: unknown[];
}

export class RelayClient {
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: Reply | null) => void>();
  private readyResolve!: () => void;
  private readyReject!: (e: Error) => void;
  /** stdout lines that were not protocol replies (should be none) */
  readonly stray: string[] = [];

  private readonly onStderr?: (line: string) => void;

  constructor(
    netns: string,
    private readonly config: RelayConfig,
    opts: {
      script?: string;
      node?: string;
      onStderr?: (line: string) => void;
      readyTimeoutMs?: number;
      /** start the process now, send the config with configure() (its addresses may not exist yet) */
      configLater?: boolean;
    } = {},
  ) {
    this.onStderr = opts.onStderr;
    this.ready = new Promise<void>((res, rej) => {
      this.readyResolve = res;
      this.readyReject = rej;
    });
    this.ready.catch(() => {});
    const argv = [opts.node ?? process.execPath, opts.script ?? builtRelayScript()];
    this.proc = spawn(opts.configLater ? argv : [...argv, JSON.stringify(config)], {
      netns,
      onLine: (l) => this.onLine(l),
      onStderrLine: opts.onStderr,
    });
    const t = setTimeout(
      () => this.readyReject(new Error(`relay in ${netns} not ready after ${opts.readyTimeoutMs ?? 10000} ms`)),
      opts.readyTimeoutMs ?? 10000,
    );
    void this.ready.then(
      () => clearTimeout(t),
      () => clearTimeout(t),
    );
    void this.proc.wait().then((r) => {
      this.readyReject(new Error(`relay in ${netns} exited (code ${r.exitCode}): ${r.stderr.trim().slice(-800)}`));
      for (const [, w] of this.waiting) w(null);
      this.waiting.clear();
    });
  }

  /**
   * SCHED_FIFO for the relay's threads (RelayConfig.realtime, default 10) with chrt, from here: the
   * relay then never loads the exec module (execa's import alone is ~0.25 s of its start-up). A
   * failure is reported (onStderr) and leaves the relay at its nice value.
   */
  private async realtime(tids: number[]): Promise<void> {
    const prio = this.config.realtime === undefined ? 10 : this.config.realtime;
    if (prio === null) return;
    for (const tid of tids) {
      const r = await run(['chrt', '-f', '-p', String(prio), String(tid)], { reject: false, timeoutMs: 5000 });
      if (r.exitCode !== 0) {
        this.onStderr?.(
          `could not make relay thread ${tid} SCHED_FIFO ${prio} (${r.stderr.trim() || r.exitCode}); it runs at its nice value`,
        );
        return;
      }
    }
  }

  /** Send the config (configLater): the relay binds its sockets and reports ready. */
  configure(): void {
    this.proc.write(JSON.stringify(this.config));
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  private onLine(line: string): void {
    let msg: Reply;
    try {
      msg = JSON.parse(line) as Reply;
    } catch {
      this.stray.push(line);
      return;
    }
    if (msg.event === 'ready') {
      const tids = Array.isArray(msg.tids)
        ? msg.tids.filter((t): t is number => typeof t === 'number' && Number.isInteger(t) && t > 0)
        : [];
      void this.realtime(tids).then(this.readyResolve, this.readyReject);
    } else if (msg.event === 'error') this.readyReject(new Error(`relay error: ${msg.message}`));
    else if (typeof msg.id === 'number' && this.waiting.has(msg.id)) {
      const w = this.waiting.get(msg.id)!;
      this.waiting.delete(msg.id);
      w(msg);
    } else this.stray.push(line);
  }

  private request(cmd: Record<string, unknown>, timeoutMs = 5000): Promise<Reply> {
    if (this.proc.exited) return Promise.reject(new Error('relay has exited'));
    const id = this.nextId++;
    return new Promise((res, rej) => {
      const t = setTimeout(() => {
        this.waiting.delete(id);
        rej(new Error(`relay did not answer ${String(cmd.cmd)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, (r) => {
        clearTimeout(t);
        if (!r) rej(new Error('relay exited'));
        else if (r.error) rej(new Error(`relay: ${r.error}`));
        else res(r);
      });
      this.proc.write(JSON.stringify({ ...cmd, id }));
    });
  }

  async stats(reset = false): Promise<RelayStats> {
    const r = await this.request({ cmd: 'stats', reset });
    return r.stats!;
  }

  async set(forward?: LinkImpairment, reverse?: LinkImpairment, seed?: number): Promise<void> {
    await this.request({ cmd: 'set', forward, reverse, seed });
  }

  /** Arm (the workload starts now) or disarm the link's schedules. */
  async schedule(action: 'start' | 'stop', trigger: 'now' | 'data' = 'now'): Promise<void> {
    await this.request({ cmd: 'schedule', action, trigger });
  }

  /** Ask it to stop, close stdin, and SIGKILL after graceMs if it is still there. */
  async stop(graceMs = 2000): Promise<number> {
    if (!this.proc.exited) {
      this.proc.write('{"cmd":"stop"}');
      this.proc.closeStdin();
      const t = setTimeout(() => void this.proc.stop(200), graceMs);
      const r = await this.proc.wait();
      clearTimeout(t);
      return r.exitCode;
    }
    return (await this.proc.wait()).exitCode;
  }
}
