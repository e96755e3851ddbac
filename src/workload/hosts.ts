/** How a workload's trial function picks its endpoints and congestion control from a WorkloadRun. */
import type { TuningProfile } from '../scenario/model.js';
import type { BulkEndpoints, HostPair } from './types.js';

/** iperf3-style ends of a pair: client on the sender, server on the receiver. */
export function bulkEnds(p: HostPair): BulkEndpoints {
  return { senderNs: p.sender.ns, receiverNs: p.receiver.ns, receiverAddr: p.receiver.addr };
}

/** Request/response ends of a pair: the server on the sender (the tuned host sends the data), the client on the receiver. */
export function serverClientEnds(p: HostPair): { serverNs: string; serverAddr: string; clientNs: string } {
  return { serverNs: p.sender.ns, serverAddr: p.sender.addr, clientNs: p.receiver.ns };
}

/** The congestion control a profile's senders must report. */
export function ccOf(p: TuningProfile): string | undefined {
  return p.route.congctl ?? p.cc;
}
