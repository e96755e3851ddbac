/** Per-trial ECN counters of an arm's endpoints, read from /proc/net/netstat without a process start. */
import { readNsProcNet } from '../exec/index.js';
import { parseSnmp } from './tcp.js';

/**
 * ECN counters of one arm's endpoints (/proc/net/netstat): what the receiver's IP layer saw arrive
 * (IpExt InCEPkts = CE marks on the data, InECT0Pkts / InECT1Pkts / InNoECTPkts) and what the
 * sender's TCP was told (TcpExt TCPDeliveredCE: delivered segments the receiver echoed as CE-marked).
 */
export interface EcnCounters {
  ceReceived: number;
  ect0Received: number;
  ect1Received: number;
  notEctReceived: number;
  deliveredCe: number;
}

/** Parse the receiver's and the sender's /proc/net/netstat text (pure). */
export function parseEcnCounters(receiverNetstat: string, senderNetstat: string): EcnCounters {
  const ip = parseSnmp(receiverNetstat, 'IpExt');
  const tcp = parseSnmp(senderNetstat, 'TcpExt');
  return {
    ceReceived: ip.InCEPkts ?? 0,
    ect0Received: ip.InECT0Pkts ?? 0,
    ect1Received: ip.InECT1Pkts ?? 0,
    notEctReceived: ip.InNoECTPkts ?? 0,
    deliveredCe: tcp.TCPDeliveredCE ?? 0,
  };
}

/** The ECN counters of a sender/receiver pair of namespaces now. */
export async function ecnCounters(senderNs: string, receiverNs: string): Promise<EcnCounters> {
  const [r, s] = await Promise.all([readNsProcNet(receiverNs, 'netstat'), readNsProcNet(senderNs, 'netstat')]);
  return parseEcnCounters(r, s);
}

/** after - before, field by field */
export function ecnDelta(before: EcnCounters, after: EcnCounters): EcnCounters {
  const out = { ...after };
  for (const k of Object.keys(out) as (keyof EcnCounters)[]) out[k] = after[k] - before[k];
  return out;
}
