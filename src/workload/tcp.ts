/** TCP helpers every workload uses: kernel counters of a namespace, tcp_metrics flush, listen wait. */
import { readNsProcNet, run } from '../exec/index.js';

/** TCP counters of a namespace from /proc/net/snmp, read by a process inside it. */
export async function tcpCounters(ns: string): Promise<Record<string, number>> {
  return parseSnmp(await readNsProcNet(ns, 'snmp'), 'Tcp');
}

export function parseSnmp(text: string, proto: string): Record<string, number> {
  const lines = text.split('\n').filter((l) => l.startsWith(`${proto}:`));
  if (lines.length < 2) return {};
  const names = lines[0]!.split(/\s+/).slice(1);
  const values = lines[1]!.split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, values[i]!]));
}

export async function flushTcpMetrics(ns: string): Promise<void> {
  await run(['ip', '-n', ns, 'tcp_metrics', 'flush', 'all'], { reject: false });
}
