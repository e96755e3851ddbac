/**
 * The transfer tool's client kept up across a scenario's trials (transfer-main.ts `jobs` mode): one
 * process per client namespace takes one trial's ClientConfig per stdin line and answers with one
 * ClientResult line, so an fct / rr / pageload trial no longer pays a Node start (~50-100 ms here,
 * 0.1-0.3 s inside the emulated VM). "release" closes the connections a trial held open for the
 * sender-side snapshot. A client that failed, timed out or was aborted is stopped; the next trial
 * starts a new one.
 */
import { spawn, untilReady, type ChildProcess } from '../exec/index.js';
import type { ClientConfig, ClientResult } from './transfer-protocol.js';
import type { TransferClient, TransferClientPool } from './types.js';
import { transferScript } from './transfer-server.js';

interface Waiter<T> {
  res: (v: T) => void;
  rej: (e: Error) => void;
}

/** `p`, or a rejection with `message` after `ms`. */
async function within<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export class KeptTransferClient implements TransferClient {
  private job: Waiter<ClientResult> | null = null;
  private released: Waiter<void> | null = null;
  private constructor(private readonly proc: ChildProcess) {}

  get exited(): boolean {
    return this.proc.exited;
  }

  /** Start the client in `ns`; resolves once it reads jobs. */
  static async start(ns: string, onStart: (pid: number) => void, script = transferScript()): Promise<KeptTransferClient> {
    let ready!: () => void;
    const isReady = new Promise<void>((res) => (ready = res));
    let self: KeptTransferClient | null = null;
    const proc = spawn([process.execPath, script, 'jobs'], {
      netns: ns,
      onLine: (line) => {
        let m: { event?: string; mode?: string } | null = null;
        try {
          m = JSON.parse(line) as { event?: string; mode?: string };
        } catch {
          return; // not ours
        }
        if (!m || typeof m !== 'object') return;
        if (m.event === 'ready') ready();
        else if (m.event === 'released') self?.settle('released', null);
        else if ('mode' in m) self?.settle('job', m as ClientResult);
      },
    });
    if (proc.pid !== undefined) onStart(proc.pid);
    self = new KeptTransferClient(proc);
    // a client that exits fails whatever waits on it
    void proc.wait().then((r) => {
      const err = new Error(`transfer client exit ${r.exitCode} without a result: ${r.stderr.trim().slice(-300)}`);
      self?.fail(err);
    });
    await untilReady(proc, isReady, 10000, `transfer client in ${ns}`);
    return self;
  }

  private settle(what: 'job' | 'released', result: ClientResult | null): void {
    if (what === 'job' && this.job && result) {
      const w = this.job;
      this.job = null;
      w.res(result);
    } else if (what === 'released' && this.released) {
      const w = this.released;
      this.released = null;
      w.res();
    }
  }

  private fail(err: Error): void {
    for (const w of [this.job, this.released]) w?.rej(err);
    this.job = this.released = null;
  }

  /** Run one trial's exchanges; rejects (and stops the client) on exit, timeout or abort. */
  async run(cfg: ClientConfig, timeoutMs: number, signal?: AbortSignal): Promise<ClientResult> {
    if (signal?.aborted) throw new Error('aborted');
    if (this.job) throw new Error('transfer client: a job is already running');
    if (this.proc.exited) throw new Error('transfer client has exited');
    const result = new Promise<ClientResult>((res, rej) => (this.job = { res, rej }));
    const onAbort = () => this.fail(new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      this.proc.write(JSON.stringify(cfg));
      return await within(result, timeoutMs, `transfer client timed out after ${timeoutMs} ms`);
    } catch (e) {
      this.job = null;
      await this.stop();
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Close the connections the last job held open; resolves when they are closed. */
  async release(timeoutMs = 2000): Promise<void> {
    if (this.proc.exited) return;
    const done = new Promise<void>((res, rej) => (this.released = { res, rej }));
    try {
      this.proc.write('release');
      await within(done, timeoutMs, `transfer client did not release its connections in ${timeoutMs} ms`);
    } catch (e) {
      this.released = null;
      await this.stop();
      throw e;
    }
  }

  async stop(): Promise<void> {
    this.proc.closeStdin();
    await this.proc.stop(300);
  }
}

/** Transfer clients kept up for a scenario's trials, one per client namespace. */
export class TransferClients implements TransferClientPool {
  private readonly clients = new Map<string, KeptTransferClient>();
  constructor(private readonly onStart: (pid: number) => void = () => {}) {}

  async ensure(ns: string): Promise<KeptTransferClient> {
    const cur = this.clients.get(ns);
    if (cur && !cur.exited) return cur;
    const started = await KeptTransferClient.start(ns, this.onStart);
    this.clients.set(ns, started);
    return started;
  }

  async close(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((c) => c.stop()));
  }
}
