/**
 * The transfer tool's server (transfer-main.ts `server ADDR PORT`) as netab runs it: started in a
 * namespace and waited for, asked for its per-trial counters, stopped; and TransferServers, the pool
 * that keeps one up per server host and port for a scenario's trials.
 */
import { join } from 'node:path';
import { spawn, untilReady } from '../exec/index.js';
import { projectRoot } from '../paths.js';
import type { TransferServer, TransferServerPool } from './types.js';

export function transferScript(): string {
  return join(projectRoot(), 'dist', 'workload', 'transfer-main.js');
}

/** Start the transfer server in `ns`, resolve once it listens (the handle stops it). */
export async function startTransferServer(
  ns: string,
  addr: string,
  port: number,
  signal?: AbortSignal,
  /** the program to run in `server ADDR PORT` mode (the HTTP workload's server uses this too) */
  script = transferScript(),
  onStart: (pid: number) => void = () => {},
): Promise<TransferServer> {
  let stats: Record<string, unknown> | null = null;
  let ready!: () => void;
  const isReady = new Promise<void>((res) => (ready = res));
  let answer: ((s: Record<string, unknown> | null) => void) | null = null;
  const server = spawn([process.execPath, script, 'server', addr, String(port)], {
    netns: ns,
    signal,
    onLine: (line) => {
      try {
        const m = JSON.parse(line) as { event?: string };
        if (m.event === 'ready') ready();
        else if (m.event === 'stats') {
          stats = m as Record<string, unknown>;
          answer?.(stats);
          answer = null;
        }
      } catch {
        /* not ours */
      }
    },
  });
  if (server.pid !== undefined) onStart(server.pid);
  await untilReady(server, isReady, 10000, `transfer server in ${ns}`);
  return {
    get exited() {
      return server.exited;
    },
    stats(timeoutMs = 2000) {
      if (server.exited) return Promise.resolve(null);
      return new Promise((res) => {
        const t = setTimeout(() => {
          answer = null;
          res(null);
        }, timeoutMs);
        answer = (st) => {
          clearTimeout(t);
          res(st);
        };
        server.write('stats');
      });
    },
    async stop() {
      if (!server.exited) await server.stop(1000);
      return stats;
    },
  };
}

/**
 * Transfer servers kept up for a scenario's trials (one per server host and port), like the iperf3
 * servers: a Node start and a listen-wait (~0.2 s) less per fct / rr / pageload trial. Each trial
 * takes the server's counters since the previous one; a server whose trial failed is replaced.
 */
export class TransferServers implements TransferServerPool {
  private readonly servers = new Map<string, TransferServer>();
  constructor(private readonly onStart: (pid: number) => void = () => {}) {}

  async ensure(ns: string, addr: string, port: number, signal?: AbortSignal): Promise<TransferServer> {
    const key = `${ns} ${addr} ${port}`;
    const cur = this.servers.get(key);
    if (cur && !cur.exited) return cur;
    const started = await startTransferServer(ns, addr, port, signal, transferScript(), this.onStart);
    this.servers.set(key, started);
    return started;
  }

  /** Stop the server of this host and port (after a failed trial; the next ensure() starts a new one). */
  async drop(ns: string, addr: string, port: number): Promise<void> {
    const key = `${ns} ${addr} ${port}`;
    const s = this.servers.get(key);
    this.servers.delete(key);
    await s?.stop();
  }

  async close(): Promise<void> {
    const all = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(all.map((s) => s.stop()));
  }
}
