/** iperf3 servers kept up across a scenario's bulk trials, and the port they listen on. */
import { spawn, type ChildProcess } from '../exec/index.js';
import { waitListening } from '../exec/listen.js';

export const IPERF_PORT = 5201;

/**
 * The server's argv: JSON output with its own reporting interval, so that a client's
 * --get-server-output returns the receiver-side intervals (what was delivered, per interval).
 */
export function iperfServerArgv(addr: string, intervalS: number, oneOff: boolean): string[] {
  return ['iperf3', '-s', ...(oneOff ? ['-1'] : []), '-J', '-i', String(intervalS), '-p', String(IPERF_PORT), '-B', addr];
}

/**
 * iperf3 servers that stay up for a scenario's trials (one per receiver), instead of a one-off
 * server per trial: a process start and a listen-wait less per trial (0.5-1 s inside an emulated
 * VM). iperf3's server resets between tests; a server whose test failed is replaced before the next.
 */
export class IperfServers {
  private readonly servers = new Map<string, { proc: ChildProcess; intervalS: number }>();
  constructor(private readonly onStart: (pid: number) => void = () => {}) {}

  /** A server for this receiver, reporting every `intervalS` (a server with another interval is replaced). */
  async ensure(ns: string, addr: string, signal?: AbortSignal, intervalS = 1): Promise<void> {
    const key = `${ns} ${addr}`;
    const cur = this.servers.get(key);
    if (cur && !cur.proc.exited && cur.intervalS === intervalS) return;
    if (cur) await this.drop(ns, addr);
    const server = spawn(iperfServerArgv(addr, intervalS, false), { netns: ns });
    this.servers.set(key, { proc: server, intervalS });
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
    if (s && !s.proc.exited) await s.proc.stop(300);
  }

  async close(): Promise<void> {
    const all = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(all.map((s) => (s.proc.exited ? null : s.proc.stop(300))));
  }
}
