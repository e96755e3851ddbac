/** Waiting for a server to listen, read from the namespace's /proc/net tables (no process start). */
import { readNsProcNet } from './index.js';

/**
 * Whether /proc/net/{tcp,tcp6,udp,udp6} text shows a socket bound to local `port` that accepts
 * (TCP: state 0A LISTEN; UDP: state 07, bound and unconnected). Pure.
 */
export function listensOn(text: string, port: number, proto: 'tcp' | 'udp'): boolean {
  const want = proto === 'tcp' ? '0A' : '07';
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st ...; local_address is HEXADDR:HEXPORT
    const local = f[1];
    if (f.length < 4 || !local || f[3] !== want) continue;
    const colon = local.lastIndexOf(':');
    if (colon > 0 && Number.parseInt(local.slice(colon + 1), 16) === port) return true;
  }
  return false;
}

/**
 * Wait until something listens on `port` in `ns`. Reads /proc/net/<proto>{,6} through a process
 * netab keeps in the namespace (a file read per poll, no process start; see readNsProcNet).
 */
export async function waitListening(
  ns: string,
  port: number,
  timeoutMs = 5000,
  signal?: AbortSignal,
  proto: 'tcp' | 'udp' = 'tcp',
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (signal?.aborted) throw new Error('aborted');
    for (const file of [proto, `${proto}6`]) {
      if (listensOn(await readNsProcNet(ns, file), port, proto)) return;
    }
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error(`nothing listens on ${proto.toUpperCase()} port ${port} in ${ns} after ${timeoutMs} ms`);
}
