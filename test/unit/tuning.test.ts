import { describe, expect, it } from 'vitest';
import { loadScenarioText } from '../../src/scenario/load.js';
import { checkSysctls, parseRouteOptions, profileSysctls, routeArgs, type KernelSysctlProbe } from '../../src/tuning/index.js';
import { READ_ONLY } from '../../src/tuning/check.js';

describe('tuning', () => {
  it('route options to ip route keywords', () => {
    expect(routeArgs({ initcwnd: 30, initrwnd: 40, quickack: true, rtoMinMs: 20, congctl: 'bbr' })).toEqual([
      'initcwnd',
      '30',
      'initrwnd',
      '40',
      'quickack',
      '1',
      'rto_min',
      '20ms',
      'congctl',
      'bbr',
    ]);
    expect(routeArgs({})).toEqual([]);
  });
  it('parses ip route show output, with and without lock', () => {
    expect(parseRouteOptions('default via 198.18.0.1 dev eth0 rto_min lock 20ms initcwnd 30 initrwnd 40 quickack 1 congctl bbr')).toEqual({
      rtoMinMs: 20,
      initcwnd: 30,
      initrwnd: 40,
      quickack: true,
      congctl: 'bbr',
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

describe('checkSysctls (fake kernel)', () => {
  const text = `name: sc
topology: dumbbell
links:
  bottleneck: { delay: 10ms, rate: 10mbit }
endpoints:
  sysctls: { net.ipv4.tcp_rmem: "4096 131072 33554432" }
control: { cc: cubic }
canary:
  cc: bbr
  sysctls:
    net.ipv4.tcp_nonexistent: 1
    net.core.netdev_max_backlog: 5000
    net.core.rmem_max: 8000000
    net.ipv4.tcp_ecn: 7
workload: { type: bulk, duration: 2s }
`;
  // a file that does not exist on disk: problems name the file and the field path, no line
  const scenarios = loadScenarioText(text, 'virtual/sc.yaml');
  const kernel: KernelSysctlProbe = {
    inFreshNs: {
      'net.ipv4.tcp_rmem': '4096 131072 6291456',
      'net.ipv4.tcp_nonexistent': null,
      'net.core.netdev_max_backlog': null,
      'net.core.rmem_max': '212992',
      'net.ipv4.tcp_ecn': '2',
    },
    inInitNs: {
      'net.ipv4.tcp_rmem': true,
      'net.ipv4.tcp_nonexistent': false,
      'net.core.netdev_max_backlog': true,
      'net.core.rmem_max': true,
      'net.ipv4.tcp_ecn': true,
    },
    writes: {
      'net.ipv4.tcp_rmem=4096 131072 33554432': null,
      'net.core.rmem_max=8000000': READ_ONLY,
      'net.ipv4.tcp_ecn=7': 'invalid argument (out of range or wrong form)',
    },
    cc: {
      cubic: null,
      bbr: 'congestion control "bbr" is not available in this kernel (test; available: reno cubic) and no module tcp_bbr can be loaded',
    },
  };
  it('one problem per bad key, value and congestion control, each naming the field', async () => {
    let asked: unknown;
    const problems = await checkSysctls(scenarios, {
      probe: async (keys, writes, ccs) => {
        asked = { keys: [...keys].sort(), writes: writes.length, ccs: [...ccs].sort() };
        return kernel;
      },
    });
    expect(asked).toEqual({
      keys: ['net.core.netdev_max_backlog', 'net.core.rmem_max', 'net.ipv4.tcp_ecn', 'net.ipv4.tcp_nonexistent', 'net.ipv4.tcp_rmem'],
      writes: 5,
      ccs: ['bbr', 'cubic'],
    });
    const by = Object.fromEntries(problems.map((p) => [p.path, p.message]));
    expect(Object.keys(by).sort()).toEqual([
      'canary.cc',
      'canary.sysctls.net.core.netdev_max_backlog',
      'canary.sysctls.net.core.rmem_max',
      'canary.sysctls.net.ipv4.tcp_ecn',
      'canary.sysctls.net.ipv4.tcp_nonexistent',
    ]);
    expect(by['canary.sysctls.net.ipv4.tcp_nonexistent']).toMatch(/has no sysctl "net\.ipv4\.tcp_nonexistent"/);
    expect(by['canary.sysctls.net.core.netdev_max_backlog']).toMatch(/not per-namespace.*only in the host's own namespace/);
    expect(by['canary.sysctls.net.core.rmem_max']).toMatch(/not per-namespace.*read-only/);
    expect(by['canary.sysctls.net.ipv4.tcp_ecn']).toMatch(/does not accept "7"/);
    expect(by['canary.cc']).toMatch(/"bbr" is not available/);
    expect(problems.every((p) => p.file === 'virtual/sc.yaml' && p.line === undefined)).toBe(true);
  });
  it('nothing to check: no probe at all', async () => {
    const plain = loadScenarioText(
      text.replace(/endpoints:[\s\S]*?workload/, 'control: {}\ncanary: { route: { initcwnd: 30 } }\nworkload'),
      'virtual/plain.yaml',
    );
    let called = false;
    expect(
      await checkSysctls(plain, {
        probe: async () => {
          called = true;
          return kernel;
        },
      }),
    ).toEqual([]);
    expect(called).toBe(false);
  });
});
