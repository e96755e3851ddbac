import { describe, expect, it } from 'vitest';
import { parseRouteOptions, profileSysctls, routeArgs } from '../../src/tuning/index.js';

describe('tuning', () => {
  it('route options to ip route keywords', () => {
    expect(routeArgs({ initcwnd: 30, initrwnd: 40, quickack: true, rtoMinMs: 20, congctl: 'bbr' })).toEqual([
      'initcwnd', '30', 'initrwnd', '40', 'quickack', '1', 'rto_min', '20ms', 'congctl', 'bbr',
    ]);
    expect(routeArgs({})).toEqual([]);
  });
  it('parses ip route show output, with and without lock', () => {
    expect(parseRouteOptions('default via 198.18.0.1 dev eth0 rto_min lock 20ms initcwnd 30 initrwnd 40 quickack 1 congctl bbr')).toEqual({
      rtoMinMs: 20, initcwnd: 30, initrwnd: 40, quickack: true, congctl: 'bbr',
    });
    expect(parseRouteOptions('default via 198.18.0.1 dev eth0 rto_min 1s')).toEqual({ rtoMinMs: 1000 });
    expect(parseRouteOptions('default via 198.18.0.1 dev eth0')).toEqual({});
  });
  it('profile sysctls: base, endpoint defaults, profile, cc', () => {
    expect(
      profileSysctls(
        { name: 'x', cc: 'bbr', sysctls: { 'net.ipv4.tcp_ecn': '1' }, route: {}, applyTo: 'sender' },
        { 'net.ipv4.tcp_ecn': '0', 'net.ipv4.tcp_rmem': '4096 131072 33554432' },
      ),
    ).toEqual({
      'net.ipv4.tcp_no_metrics_save': '1',
      'net.ipv4.tcp_ecn': '1',
      'net.ipv4.tcp_rmem': '4096 131072 33554432',
      'net.ipv4.tcp_congestion_control': 'bbr',
    });
  });
});
