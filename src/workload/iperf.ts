/** iperf3 servers kept up across a scenario's bulk trials, and the port they listen on. */
import { spawn, type ChildProcess } from '../exec/index.js';
import { waitListening } from './tcp.js';

export const IPERF_PORT = 5201;

/**
 * iperf3 servers that stay up for a scenario's trials (one per receiver), instead of a one-off
 * server per trial: a process start and a listen-wait less per trial (0.5-1 s inside an emulated
 * VM). iperf3's server resets between tests; a server whose test failed is replaced before the next.
 */
export class IperfServers {
  private readonly servers = new Map<string, ChildProcess>();
  constructor(private readonly onStart: (pid: number) => void = () => {}) {}

  async ensure(ns: string, addr: string, signal?: AbortSignal): Promise<void> {
    const key = `${ns} ${addr}`;
    const cur = this.servers.get(key);
    if (cur && !cur.exited) return;
    const server = spawn(['iperf3', '-s', '-p', String(IPERF_PORT), '-B', addr], { netns: ns });
    this.servers.set(key, server);
    if (server.pid !== undefined) this.onStart(server.pid);
    try {
      await waitListening(ns, IPERF_PORT, 10000, signal);
    } catch (e) {
      await this.drop(ns, addr);
      throw e;
    }
  }

  /** Stop the server of this receiver (after a failed test; the next ensure() starts a new one). */
  async drop(ns: string, addr: string): Promise<void> {
    const key = `${ns} ${addr}`;
    const s = this.servers.get(key);
    this.servers.delete(key);
    if (s && !s.exited) await s.stop(300);
  }

  async close(): Promise<void> {
    const all = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(all.map((s) => (s.exited ? null : s.stop(300))));
  }
}
