/**
 * Reads the relay's own UDP sockets from /proc/net/udp (which shows the reading process's network
 * namespace): rx_queue is the receive backlog the relay has not read yet (the "hidden queue" that
 * forms when the relay runs out of CPU) and drops counts datagrams the kernel discarded because
 * the receive buffer was full. Both are kernel accounting (rx_queue is in skb truesize bytes).
 */
import { readFileSync } from 'node:fs';

export interface UdpSocketSample {
  rxQueue: number;
  txQueue: number;
  drops: number;
}

/** /proc/net/udp spelling of an IPv4 address:port, e.g. 198.19.0.2:4789 -> "020013C6:12B5". */
export function procAddress(ip: string, port: number): string {
  const b = ip.split('.').map((x) => Number(x));
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
  return `${hex(b[3]!)}${hex(b[2]!)}${hex(b[1]!)}${hex(b[0]!)}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Parse /proc/net/udp text; returns samples for the given local addresses (procAddress form). */
export function parseProcNetUdp(text: string, locals: string[]): Map<string, UdpSocketSample> {
  const out = new Map<string, UdpSocketSample>();
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length < 13) continue;
    const local = f[1]!;
    if (!locals.includes(local)) continue;
    const [tx, rx] = f[4]!.split(':');
    out.set(local, {
      txQueue: parseInt(tx!, 16),
      rxQueue: parseInt(rx!, 16),
      drops: Number(f[f.length - 1]),
    });
  }
  return out;
}

export function sampleUdpSockets(locals: string[], path = '/proc/net/udp'): Map<string, UdpSocketSample> {
  try {
    return parseProcNetUdp(readFileSync(path, 'utf8'), locals);
  } catch {
    return new Map();
  }
}
