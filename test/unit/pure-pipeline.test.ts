import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { binomialInterval, parsePing } from '../../src/impairment/fidelity.js';
import { loadTopology } from '../../src/scenario/load.js';
import { nextHops } from '../../src/topology/plan.js';
import { hashString, pairOrders } from '../../src/trial/schedule.js';
import { reduceIperf } from '../../src/workload/bulk.js';
import { parseSnmp } from '../../src/workload/tcp.js';
import { listensOn } from '../../src/exec/listen.js';
import { parseNetDevRx, rxRateSeries } from '../../src/workload/telemetry.js';
import { quantileSorted } from '../../src/stats/quantile.js';

describe('bulk workload reduction', () => {
  it('reduces a real iperf3 JSON document to trial metrics', () => {
    const j = JSON.parse(readFileSync('test/fixtures/iperf3-bulk.json', 'utf8'));
    const out = reduceIperf(j, { outSegs: 1000, retransSegs: 16 });
    expect(out.metrics).toEqual({ goodput: 20192.565067804902, retrans: 0.016, rtt_p50: 0.076, rtt_p99: 0.08874 });
    // no server output in this document: no receiver-side goodput series (the client's intervals
    // count bytes written to the socket, not goodput, and are not kept as such)
    expect(out.series).toEqual({ t: [0.5, 1], rtt: [0.089, 0.063], cwnd: [723.6, 633.1] });
    expect(out.extra!.senderCongestion).toBe('bbr');
  });
  it('goodput over time from the server side; omitted intervals on one clock since the start', () => {
    const iv = (start: number, end: number, mbit: number, omitted: boolean) => ({
      sum: { start, end, bits_per_second: mbit * 1e6, omitted },
      streams: [{ rtt: 100000, snd_cwnd: 14480 }],
    });
    // -O 0.2 -t 0.4 -i 0.1: iperf3 restarts its clock after the omitted intervals
    const client = [iv(0, 0.1, 300, true), iv(0.1, 0.2, 0, true), iv(0, 0.1, 250, false), iv(0.1, 0.2, 10, false)];
    const server = [iv(0, 0.1, 40, true), iv(0.1, 0.2, 49, true), iv(0, 0.1, 48.7, false), iv(0.1, 0.2, 48.9, false)];
    const out = reduceIperf({ intervals: client, end: {}, server_output_json: { intervals: server } });
    expect(out.series).toEqual({
      t: [0.1, 0.2, 0.3, 0.4],
      rtt: [100, 100, 100, 100],
      cwnd: [10, 10, 10, 10],
      rx_t: [0.1, 0.2, 0.3, 0.4],
      rx_goodput: [40, 49, 48.7, 48.9],
    });
  });
  it('no counters -> no retransmit ratio; iperf3 error -> throws', () => {
    expect(reduceIperf({ end: {} }).metrics.retrans).toBeNull();
    expect(() => reduceIperf({ error: 'unable to connect to server' })).toThrow(/iperf3: unable to connect/);
  });
  it('bytes arriving at a namespace: /proc/net/dev without lo and ifb, rates between reads', () => {
    const dev = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo:  82118130    3301    0    0    0     0          0         0 82118130    3301    0    0    0     0       0          0',
      '  ifb0:     5000       4    0    0    0     0          0         0        0       0    0    0    0     0       0          0',
      'veth-r1@if7: 1250000  900    0    0    0     0          0         0    64000    1000    0    0    0     0       0          0',
      '  eth1:      250       2    0    0    0     0          0         0        0       0    0    0    0     0       0          0',
    ].join('\n');
    expect(parseNetDevRx(dev)).toBe(1_250_250);
    // 125 000 B in 100 ms = 10 Mbit/s; 62 500 B in 50 ms = 10 Mbit/s; a counter reset is skipped
    expect(
      rxRateSeries([
        { tMs: 0, bytes: 0 },
        { tMs: 100, bytes: 125_000 },
        { tMs: 150, bytes: 187_500 },
        { tMs: 250, bytes: 10 },
      ]),
    ).toEqual({ t: [0.1, 0.15], mbit: [10, 10] });
  });
  it('parses /proc/net/snmp', () => {
    const t = 'Ip: Forwarding DefaultTTL\nIp: 1 64\nTcp: RtoAlgorithm OutSegs RetransSegs\nTcp: 1 1234 56\n';
    expect(parseSnmp(t, 'Tcp')).toEqual({ RtoAlgorithm: 1, OutSegs: 1234, RetransSegs: 56 });
  });
  it('finds a listening socket in /proc/net/{tcp,udp}', () => {
    const head = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
    // 5202 = 0x1452, listening on 198.18.1.2 (little-endian hex 020112C6); a connection from 5201 (0x1451)
    const tcp =
      head +
      '   0: 020112C6:1452 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1060 1\n' +
      '   1: 020112C6:1451 030112C6:A000 01 00000000:00000000 00:00000000 00000000     0        0 1061 1\n';
    expect(listensOn(tcp, 5202, 'tcp')).toBe(true);
    expect(listensOn(tcp, 5201, 'tcp')).toBe(false); // established, not listening
    expect(listensOn(tcp, 0x52, 'tcp')).toBe(false); // the port is hex: 5202 is not "52"
    expect(listensOn(head, 5202, 'tcp')).toBe(false);
    expect(listensOn('', 5202, 'tcp')).toBe(false);
    // tcp6: a 32-digit address before the port
    expect(
      listensOn(head + '   0: 00000000000000000000000000000000:1452 00000000000000000000000000000000:0000 0A 0 0\n', 5202, 'tcp'),
    ).toBe(true);
    // UDP: state 07 is a bound socket; 0A never appears there
    const udp = head + '  12: 020112C6:14B4 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1062 2\n';
    expect(listensOn(udp, 5300, 'udp')).toBe(true);
    expect(listensOn(udp, 5300, 'tcp')).toBe(false);
  });
  it('type-7 quantiles', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.99)).toBeCloseTo(3.97, 12);
  });
});

describe('trial order', () => {
  it('seeded, reproducible, both orders occur', () => {
    const a = pairOrders(42, 20);
    expect(pairOrders(42, 20)).toEqual(a);
    expect(a.every((p) => p.length === 2 && new Set(p).size === 2)).toBe(true);
    const first = a.filter((p) => p[0] === 'canary').length;
    expect(first).toBeGreaterThan(3);
    expect(first).toBeLessThan(17);
    expect(pairOrders(43, 20)).not.toEqual(a);
    expect(hashString('quickstart')).toBe(hashString('quickstart'));
  });
});

describe('fidelity', () => {
  it('exact binomial 99% interval', () => {
    // reference: scipy.stats.binom.ppf([0.005, 0.995], 500, 0.01) -> [0, 12]
    expect(binomialInterval(500, 0.01)).toEqual([0, 12]);
    // scipy.stats.binom.ppf([0.005, 0.995], 2000, 0.05) -> [76, 126]
    expect(binomialInterval(2000, 0.05)).toEqual([76, 126]);
    expect(binomialInterval(100, 0)).toEqual([0, 0]);
  });

  it('parses ping (iputils) output: RTTs without duplicates, loss, print resolution', () => {
    // iputils-ping 20221126 through a 40 ms path with 1 % loss and duplication (seq 3 lost, 2 duplicated)
    const text = `PING 198.18.1.2 (198.18.1.2) 56(84) bytes of data.
64 bytes from 198.18.1.2: icmp_seq=1 ttl=62 time=40.6 ms
64 bytes from 198.18.1.2: icmp_seq=2 ttl=62 time=40.8 ms
64 bytes from 198.18.1.2: icmp_seq=2 ttl=62 time=40.9 ms (DUP!)
64 bytes from 198.18.1.2: icmp_seq=4 ttl=62 time=41.2 ms

--- 198.18.1.2 ping statistics ---
4 packets transmitted, 3 received, +1 duplicates, 25% packet loss, time 61ms
rtt min/avg/max/mdev = 40.612/40.875/41.201/0.221 ms
`;
    expect(parsePing(text)).toEqual({ sent: 4, received: 3, rttMs: [40.6, 40.8, 41.2], resolutionMs: 0.1 });
    // one late packet printed in whole ms does not coarsen the step at the median
    const late = `64 bytes from 198.18.1.2: icmp_seq=1 ttl=62 time=40.6 ms
64 bytes from 198.18.1.2: icmp_seq=2 ttl=62 time=112 ms
64 bytes from 198.18.1.2: icmp_seq=3 ttl=62 time=40.7 ms

3 packets transmitted, 3 received, 0% packet loss, time 41ms`;
    expect(parsePing(late)).toEqual({ sent: 3, received: 3, rttMs: [40.6, 112, 40.7], resolutionMs: 0.1 });
    const slow = `64 bytes from 198.18.1.2: icmp_seq=1 ttl=62 time=201 ms
64 bytes from 198.18.1.2: icmp_seq=2 ttl=62 time=200 ms

2 packets transmitted, 2 received, 0% packet loss, time 31ms`;
    expect(parsePing(slow)).toEqual({ sent: 2, received: 2, rttMs: [201, 200], resolutionMs: 1 });
    const fast = `64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.166 ms

1 packets transmitted, 1 received, 0% packet loss, time 0ms`;
    expect(parsePing(fast).resolutionMs).toBe(0.001);
    expect(() => parsePing('ping: connect: Network is unreachable')).toThrow(/unexpected ping output/);
  });
});

describe('netns routing', () => {
  it('next hops along a chain', () => {
    const h = nextHops(loadTopology('topologies/parking-lot.yaml'));
    expect(h.get('r1')!.get('r3')).toEqual({ via: 'r2', linkIndex: 0, side: 'a' });
    expect(h.get('r3')!.get('r1')).toEqual({ via: 'r2', linkIndex: 1, side: 'b' });
    expect(h.get('r2')!.get('r1')).toEqual({ via: 'r1', linkIndex: 0, side: 'b' });
  });
});

describe('relay suspicion', () => {
  const dir = (p99: number, kernel = 0, relay = 0) => ({ latenessMs: { count: 100, p99 }, drops: { kernel, relay } });
  it('lateness beyond the limit, and drops the model did not decide', async () => {
    const { relaySuspicions } = await import('../../src/trial/execute.js');
    const st = (f: ReturnType<typeof dir>, r: ReturnType<typeof dir>) => ({ forward: f, reverse: r }) as never;
    expect(relaySuspicions('bottleneck', st(dir(0.3), dir(3.9)), 4)).toEqual([]);
    expect(relaySuspicions('bottleneck', st(dir(0.3), dir(4.1)), 4)).toEqual(['relay bottleneck reverse: send lateness p99 4.1 ms > 4 ms']);
    expect(relaySuspicions('bottleneck', st(dir(2.2), dir(0.1)), 2)).toEqual(['relay bottleneck forward: send lateness p99 2.2 ms > 2 ms']);
    expect(relaySuspicions('l', st(dir(0.1, 3), dir(0.1, 0, 1)), 4)).toEqual([
      'relay l forward: 3 datagrams dropped by the kernel (relay short of CPU)',
      'relay l reverse: 1 datagrams dropped inside the relay',
    ]);
  });
});
