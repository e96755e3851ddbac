/**
 * The `ss -tin` parser on output captured on this project's testbeds (iproute2 6.1, kernel 6.18):
 * iperf3 senders over plain veth (bbr control connection + cubic data), cubic and bbr senders over
 * the dumbbell with 40 ms RTT and 1 % loss, the receiving side (IPv4-mapped IPv6 addresses), and a
 * FIN-WAIT-1 socket. Trailing blanks ss pads lines with were trimmed.
 */
import { describe, expect, it } from 'vitest';
import { parseSs, parseSsRate, ssSeries } from '../../src/workload/telemetry.js';

const VETH_CUBIC_BBR =
  'State Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\nESTAB 0      0       198.18.200.1:48858 198.18.200.2:5201\n\t bbr wscale:10,10 rto:204 rtt:0.048/0.03 ato:40 mss:1448 pmtu:1500 rcvmss:536 advmss:1448 cwnd:13 bytes_sent:207 bytes_acked:208 bytes_received:4 segs_out:7 segs_in:7 data_segs_out:3 data_segs_in:4 bbr:(bw:1930666200bps,mrtt:0.003,pacing_gain:2.88672,cwnd_gain:2.88672) send 3137333333bps lastsnd:1548 lastrcv:1548 lastack:1548 pacing_rate 5517557432bps delivery_rate 1930666664bps delivered:4 app_limited rcv_space:14480 rcv_ssthresh:64088 minrtt:0.003 snd_wnd:65536\nESTAB 0      0       198.18.200.1:48866 198.18.200.2:5201\n\t cubic wscale:10,10 rto:204 rtt:0.259/0.09 mss:1448 pmtu:1500 rcvmss:536 advmss:1448 cwnd:247 ssthresh:236 bytes_sent:38666277 bytes_acked:38666278 segs_out:26848 segs_in:427 data_segs_out:26846 send 11047289575bps lastsnd:4 lastrcv:1548 lastack:4 pacing_rate 13224834280bps delivery_rate 4813442920bps delivered:26847 app_limited busy:32ms rcv_space:14480 rcv_ssthresh:64088 minrtt:0.001 snd_wnd:3987456\nESTAB 0      0       198.18.200.1:48880 198.18.200.2:5201\n\t cubic wscale:10,10 rto:204 rtt:0.183/0.092 mss:1448 pmtu:1500 rcvmss:536 advmss:1448 cwnd:249 ssthresh:238 bytes_sent:38666277 bytes_acked:38666278 segs_out:26847 segs_in:439 data_segs_out:26845 send 15761836066bps lastsnd:4 lastrcv:1548 lastack:4 pacing_rate 18875523920bps delivery_rate 12714146336bps delivered:26846 app_limited busy:24ms rcv_space:14480 rcv_ssthresh:64088 minrtt:0.001 snd_wnd:3808256\n';

const CUBIC_LOSS =
  'State Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\nESTAB 0      0         198.18.0.2:48692   198.18.1.2:5201\n\t cubic wscale:10,10 rto:276 rtt:72.555/39.862 ato:40 mss:1448 pmtu:1500 rcvmss:536 advmss:1448 cwnd:10 bytes_sent:164 bytes_acked:165 bytes_received:4 segs_out:9 segs_in:7 data_segs_out:3 data_segs_in:4 send 1596582bps lastsnd:2412 lastrcv:2240 lastack:2240 pacing_rate 3193136bps delivery_rate 565536bps delivered:4 app_limited busy:84ms rcv_space:14480 rcv_ssthresh:64088 minrtt:40.962 snd_wnd:65536\nESTAB 0      289600    198.18.0.2:48694   198.18.1.2:5201\n\t cubic wscale:10,10 rto:264 rtt:61.092/8.227 mss:1448 pmtu:1500 rcvmss:536 advmss:1448 cwnd:7 ssthresh:7 bytes_sent:1090381 bytes_retrans:73848 bytes_acked:1006398 segs_out:756 segs_in:538 data_segs_out:754 send 1327310bps lastsnd:4 lastrcv:2328 lastack:4 pacing_rate 1592768bps delivery_rate 1398184bps delivered:697 busy:2272ms unacked:7 retrans:0/51 rcv_space:14480 rcv_ssthresh:64088 notsent:279464 minrtt:40.347 snd_wnd:849920\nESTAB 0      123080    198.18.0.2:48708   198.18.1.2:5201\n\t cubic wscale:10,10 rto:260 rtt:59.331/4.563 mss:1448 pmtu:1500 rcvmss:536 advmss:1448 cwnd:11 ssthresh:10 bytes_sent:949925 bytes_retrans:14480 bytes_acked:919518 segs_out:659 segs_in:393 data_segs_out:657 send 2147680bps lastsnd:8 lastrcv:2284 lastack:8 pacing_rate 2577192bps delivery_rate 2028720bps delivered:637 busy:2268ms unacked:11 retrans:0/10 rcv_space:14480 rcv_ssthresh:64088 notsent:107152 minrtt:40.225 snd_wnd:216064\n';

const BBR_LOSS_H =
  'ESTAB 0      0      198.18.2.2:56848 198.18.3.2:5201\n\t bbr wscale:10,10 rto:252 rtt:49.812/19.51 ato:40 mss:1448 pmtu:1500 rcvmss:536 advmss:1448 cwnd:13 bytes_sent:164 bytes_acked:165 bytes_received:4 segs_out:9 segs_in:7 data_segs_out:3 data_segs_in:4 bbr:(bw:566864bps,mrtt:40.82,pacing_gain:2.88672,cwnd_gain:2.88672) send 3023207bps lastsnd:2424 lastrcv:2296 lastack:2296 pacing_rate 6300528bps delivery_rate 567448bps delivered:4 app_limited busy:84ms rcv_space:14480 rcv_ssthresh:64088 minrtt:40.82 snd_wnd:65536\nESTAB 0      806528 198.18.2.2:56854 198.18.3.2:5201\n\t bbr wscale:10,10 rto:260 rtt:56.135/0.906 mss:1448 pmtu:1500 rcvmss:536 advmss:1448 cwnd:76 ssthresh:44 bytes_sent:3575157 bytes_retrans:160728 bytes_acked:3294246 segs_out:2473 segs_in:1479 data_segs_out:2471 bbr:(bw:15627872bps,mrtt:40.443,pacing_gain:0.75,cwnd_gain:2) send 15683335bps lastrcv:2340 pacing_rate 11603696bps delivery_rate 15622104bps delivered:2289 busy:2324ms rwnd_limited:12ms(0.5%) unacked:83 retrans:1/111 lost:1 sacked:11 rcv_space:14480 rcv_ssthresh:64088 notsent:686344 minrtt:40.443 snd_wnd:1753088\n';

const RECEIVER =
  'State Recv-Q Send-Q       Local Address:Port        Peer Address:Port Process\nESTAB 0      0      [::ffff:198.18.1.2]:5201 [::ffff:198.18.0.2]:48694\n\t bbr wscale:10,10 rto:244 rtt:40.638/20.319 ato:40 mss:1448 pmtu:1500 rcvmss:1448 advmss:1448 cwnd:10 bytes_received:1012189 segs_out:539 segs_in:702 data_segs_in:700 bbr:(bw:0bps,mrtt:40.638) send 2850534bps lastsnd:2336 lastrcv:4 lastack:4 pacing_rate 8145504bps delivered:1 app_limited rcv_rtt:55.244 rcv_space:124528 rcv_ssthresh:849343 minrtt:40.638 rcv_ooopack:214 snd_wnd:64512\nESTAB 0      0      [::ffff:198.18.1.2]:5201 [::ffff:198.18.0.2]:48708\n\t bbr wscale:10,10 rto:244 rtt:40.362/20.181 ato:40 mss:1448 pmtu:1500 rcvmss:1448 advmss:1448 cwnd:10 bytes_received:935445 segs_out:397 segs_in:649 data_segs_in:647 bbr:(bw:0bps,mrtt:40.362) send 2870026bps lastsnd:2296 pacing_rate 8200752bps delivered:1 app_limited rcv_rtt:55.517 rcv_space:57920 rcv_ssthresh:215130 minrtt:40.362 rcv_ooopack:135 snd_wnd:64512\nESTAB 0      0      [::ffff:198.18.1.2]:5201 [::ffff:198.18.0.2]:48692\n\t bbr wscale:10,10 rto:248 rtt:44.948/14.921 ato:40 mss:1448 pmtu:1500 rcvmss:536 advmss:1448 cwnd:14 bytes_sent:4 bytes_acked:4 bytes_received:164 segs_out:6 segs_in:9 data_segs_out:4 data_segs_in:3 bbr:(bw:571008bps,mrtt:40.483,pacing_gain:2.88672,cwnd_gain:2.88672) send 3608080bps lastsnd:2292 lastrcv:2420 lastack:2252 pacing_rate 8066568bps delivery_rate 571608bps delivered:5 app_limited busy:168ms rcv_space:14480 rcv_ssthresh:64088 minrtt:40.483 snd_wnd:64512\n';

const FIN_WAIT =
  'State      Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\nFIN-WAIT-1 0      2         198.18.0.2:48692   198.18.1.2:5201\n\t cubic wscale:10,10 rto:268 rtt:66.113/33.904 ato:40 mss:1448 pmtu:1500 rcvmss:536 advmss:1448 cwnd:10 bytes_sent:547 bytes_acked:547 bytes_received:440 segs_out:16 segs_in:12 data_segs_out:7 data_segs_in:8 send 1752152bps lastsnd:16 lastrcv:16 lastack:16 pacing_rate 3504256bps delivery_rate 569952bps delivered:7 app_limited busy:192ms unacked:2 rcv_space:14480 rcv_ssthresh:64088 minrtt:40.612 snd_wnd:65536\n';

describe('ss -tin parser', () => {
  it('rates: raw bps and unit-suffixed forms, to Mbit/s', () => {
    expect(parseSsRate('1930666200bps')).toBe(1930.6662);
    expect(parseSsRate('12.5Mbps')).toBe(12.5);
    expect(parseSsRate('980Kbps')).toBe(0.98);
    expect(parseSsRate('980kbps')).toBe(0.98);
    expect(parseSsRate('1.2Gbps')).toBe(1200);
    expect(parseSsRate('0bps')).toBe(0);
    expect(parseSsRate('lastsnd:4')).toBeNull();
  });

  it('veth: header skipped, one sample per socket, cc and bbr fields', () => {
    const s = parseSs(VETH_CUBIC_BBR);
    expect(s).toHaveLength(3);
    expect(s.map((x) => [x.state, x.local, x.localPort, x.peer, x.peerPort, x.cc])).toEqual([
      ['ESTAB', '198.18.200.1', 48858, '198.18.200.2', 5201, 'bbr'],
      ['ESTAB', '198.18.200.1', 48866, '198.18.200.2', 5201, 'cubic'],
      ['ESTAB', '198.18.200.1', 48880, '198.18.200.2', 5201, 'cubic'],
    ]);
    expect(s[0]!.bbr).toEqual({ bwMbit: 1930.6662, mrttMs: 0.003, pacingGain: 2.88672, cwndGain: 2.88672 });
    expect(s[0]!.appLimited).toBe(true);
    expect(s[1]).toEqual({
      state: 'ESTAB',
      recvQ: 0,
      sendQ: 0,
      local: '198.18.200.1',
      localPort: 48866,
      peer: '198.18.200.2',
      peerPort: 5201,
      cc: 'cubic',
      rtoMs: 204,
      rttMs: 0.259,
      rttvarMs: 0.09,
      mss: 1448,
      cwnd: 247,
      ssthresh: 236,
      bytesSent: 38666277,
      bytesAcked: 38666278,
      sendMbit: 11047.289575,
      pacingRateMbit: 13224.83428,
      deliveryRateMbit: 4813.44292,
      appLimited: true,
      busyMs: 32,
      minRttMs: 0.001,
    });
  });

  it('cubic under loss: retransmissions, unacked, send queue', () => {
    const s = parseSs(CUBIC_LOSS);
    expect(s).toHaveLength(3);
    const d = s[1]!;
    expect(d).toMatchObject({
      sendQ: 289600,
      cc: 'cubic',
      cwnd: 7,
      ssthresh: 7,
      rttMs: 61.092,
      rttvarMs: 8.227,
      minRttMs: 40.347,
      rtoMs: 264,
      retransCur: 0,
      retrans: 51,
      unacked: 7,
      bytesSent: 1090381,
      bytesRetrans: 73848,
      bytesAcked: 1006398,
      deliveryRateMbit: 1.398184,
      pacingRateMbit: 1.592768,
      busyMs: 2272,
    });
    expect(d.appLimited).toBeUndefined();
    expect(s[2]).toMatchObject({ cwnd: 11, ssthresh: 10, retrans: 10, bytesRetrans: 14480 });
  });

  it('bbr under loss (-H, no header): bbr state, lost, sacked, rwnd_limited', () => {
    const s = parseSs(BBR_LOSS_H, 1234.5);
    expect(s).toHaveLength(2);
    expect(s[1]).toMatchObject({
      tMs: 1234.5,
      state: 'ESTAB',
      sendQ: 806528,
      cc: 'bbr',
      cwnd: 76,
      ssthresh: 44,
      rttMs: 56.135,
      rttvarMs: 0.906,
      retransCur: 1,
      retrans: 111,
      lost: 1,
      sacked: 11,
      unacked: 83,
      rwndLimitedMs: 12,
      deliveryRateMbit: 15.622104,
      pacingRateMbit: 11.603696,
      bbr: { bwMbit: 15.627872, mrttMs: 40.443, pacingGain: 0.75, cwndGain: 2 },
      bytesAcked: 3294246,
      minRttMs: 40.443,
    });
  });

  it('receiver side: IPv4-mapped addresses unwrapped, bytes_received, no delivery rate', () => {
    const s = parseSs(RECEIVER);
    expect(s.map((x) => [x.local, x.localPort, x.peer, x.peerPort])).toEqual([
      ['198.18.1.2', 5201, '198.18.0.2', 48694],
      ['198.18.1.2', 5201, '198.18.0.2', 48708],
      ['198.18.1.2', 5201, '198.18.0.2', 48692],
    ]);
    expect(s[0]).toMatchObject({ bytesReceived: 1012189, cc: 'bbr', bbr: { bwMbit: 0, mrttMs: 40.638 } });
    expect(s[0]!.deliveryRateMbit).toBeUndefined();
  });

  it('other states; output of a state filter (no State column); junk lines', () => {
    const f = parseSs(FIN_WAIT);
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ state: 'FIN-WAIT-1', sendQ: 2, unacked: 2, cwnd: 10 });
    const noState = parseSs(
      'Recv-Q Send-Q Local Address:Port Peer Address:Port\n0      0      198.18.0.2:48692   198.18.1.2:5201\n\t cubic cwnd:10 rtt:40.5/20.25\n',
    );
    expect(noState).toEqual([
      {
        recvQ: 0,
        sendQ: 0,
        local: '198.18.0.2',
        localPort: 48692,
        peer: '198.18.1.2',
        peerPort: 5201,
        cc: 'cubic',
        cwnd: 10,
        rttMs: 40.5,
        rttvarMs: 20.25,
      },
    ]);
    // unit-formatted rates (other ss versions) and an info line without a socket line are handled
    const units = parseSs('ESTAB 0 0 198.18.0.1:1 198.18.0.2:2\n\t ts sack reno send 12.5Mbps pacing_rate 980Kbps delivery_rate 1.2Gbps\n');
    expect(units[0]).toMatchObject({ cc: 'reno', sendMbit: 12.5, pacingRateMbit: 0.98, deliveryRateMbit: 1200 });
    expect(parseSs('\t cubic cwnd:10\nnonsense\n')).toEqual([]);
    expect(parseSs('')).toEqual([]);
  });

  it('ssSeries: per-snapshot sums and means over the kept flows', () => {
    const samples = [...parseSs(CUBIC_LOSS, 100), ...parseSs(CUBIC_LOSS, 200)];
    const all = ssSeries(samples);
    expect(all.t).toEqual([0.1, 0.2]);
    expect(all.cwnd).toEqual([28, 28]);
    expect(all.retrans).toEqual([61, 61]);
    const data = ssSeries(samples, (s) => (s.bytesAcked ?? 0) > 100000);
    expect(data.cwnd).toEqual([18, 18]);
    expect(data.rtt).toEqual([60.212, 60.212]); // (61.092 + 59.331) / 2 = 60.2115
    expect(data.delivery).toEqual([3.427, 3.427]); // 1.398184 + 2.02872 Mbit/s, to the kbit/s
    expect(ssSeries(parseSs(CUBIC_LOSS))).toEqual({ t: [], cwnd: [], rtt: [], minrtt: [], delivery: [], pacing: [], retrans: [] });
  });
});
