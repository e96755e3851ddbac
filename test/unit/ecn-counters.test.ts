/** The per-trial ECN counters: IpExt of the receiver, TcpExt of the sender, as deltas. */
import { describe, expect, it } from 'vitest';
import { ecnDelta, parseEcnCounters } from '../../src/workload/ecn.js';

// /proc/net/netstat shape (header line, value line per group), fields cut down
const netstat = (ce: number, ect0: number, deliveredCe: number) =>
  [
    'TcpExt: SyncookiesSent TCPDelivered TCPDeliveredCE TCPAckCompressed',
    `TcpExt: 0 5000 ${deliveredCe} 0`,
    'IpExt: InNoRoutes InTruncatedPkts InMcastPkts InCsumErrors InNoECTPkts InECT1Pkts InECT0Pkts InCEPkts ReasmOverlaps',
    `IpExt: 0 0 0 0 17 0 ${ect0} ${ce} 0`,
    'MPTcpExt: MPCapableSYNRX',
    'MPTcpExt: 0',
    '',
  ].join('\n');

describe('ECN counters from /proc/net/netstat', () => {
  it('IpExt from the receiver, TCPDeliveredCE from the sender', () => {
    expect(parseEcnCounters(netstat(12, 3400, 99), netstat(1, 2, 40))).toEqual({
      ceReceived: 12,
      ect0Received: 3400,
      ect1Received: 0,
      notEctReceived: 17,
      deliveredCe: 40,
    });
  });
  it('missing groups count as 0; the delta is field by field', () => {
    const a = parseEcnCounters('', '');
    expect(a).toEqual({ ceReceived: 0, ect0Received: 0, ect1Received: 0, notEctReceived: 0, deliveredCe: 0 });
    const b = parseEcnCounters(netstat(12, 3400, 0), netstat(0, 0, 40));
    expect(ecnDelta(a, b)).toEqual({ ceReceived: 12, ect0Received: 3400, ect1Received: 0, notEctReceived: 17, deliveredCe: 40 });
  });
});
