/**
 * A self-contained A <-> L <-> B testbed for the relay's integration test and bench (not used by
 * netab runs; engine.ts builds the production plumbing). Three namespaces <prefix>a, <prefix>l,
 * <prefix>b, the same plumbing as the engine:
 *
 *   A: vx0 198.18.0.1/30 (VXLAN remote 198.19.0.2)  a0 198.19.0.1/30 --veth-- la 198.19.0.2/30 :L
 *   B: vx0 198.18.0.2/30 (VXLAN remote 198.19.0.6)  b0 198.19.0.5/30 --veth-- lb 198.19.0.6/30 :L
 *
 * underlay MTU 1550, `ethtool -K vx0 tx off` (+ tso/gso/gro off), IPv6 off and static neighbour
 * entries on the overlay (no ARP/ND through the impaired path, so counts are exact), and the relay
 * running in L. destroy() never throws and removes everything it created.
 */
import { randomBytes } from 'node:crypto';
import { run } from '../../exec/index.js';
import type { LinkImpairment } from '../types.js';
import { RelayClient } from './client.js';
import type { RelayConfig } from './protocol.js';

export const TB = {
  a: { underlay: '198.19.0.1', overlay: '198.18.0.1' },
  la: '198.19.0.2',
  lb: '198.19.0.6',
  b: { underlay: '198.19.0.5', overlay: '198.18.0.2' },
} as const;

export interface TestbedOptions {
  /** namespace prefix; default nbt-<random> */
  prefix?: string;
  forward?: LinkImpairment;
  reverse?: LinkImpairment;
  seed?: number;
  /** extra relay config (socketBufferBytes, nice, ...) */
  relay?: Partial<RelayConfig>;
  /** relay script (default: the built relay-main.js next to this module) */
  script?: string;
  onRelayStderr?: (line: string) => void;
  /** create the namespaces and links but do not start the relay */
  noRelay?: boolean;
}

export class Testbed {
  readonly nsA: string;
  readonly nsL: string;
  readonly nsB: string;
  relay: RelayClient | null = null;
  private created: string[] = [];

  private constructor(readonly prefix: string) {
    this.nsA = `${prefix}a`;
    this.nsL = `${prefix}l`;
    this.nsB = `${prefix}b`;
  }

  static randomPrefix(): string {
    return `nbt-${randomBytes(3).toString('hex')}`;
  }

  static async create(opts: TestbedOptions = {}): Promise<Testbed> {
    const tb = new Testbed(opts.prefix ?? Testbed.randomPrefix());
    try {
      await tb.plumb();
      if (!opts.noRelay) await tb.startRelay(opts);
    } catch (e) {
      await tb.destroy();
      throw e;
    }
    return tb;
  }

  relayConfig(opts: TestbedOptions = {}): RelayConfig {
    return {
      ...opts.relay,
      a: { listen: TB.la, peer: TB.a.underlay, port: 4789 },
      b: { listen: TB.lb, peer: TB.b.underlay, port: 4789 },
      forward: opts.forward ?? {},
      reverse: opts.reverse ?? {},
      seed: opts.seed ?? 42,
    };
  }

  async startRelay(opts: TestbedOptions = {}): Promise<RelayClient> {
    if (this.relay) await this.relay.stop();
    const r = new RelayClient(this.nsL, this.relayConfig(opts), { script: opts.script, onStderr: opts.onRelayStderr });
    this.relay = r;
    await r.ready;
    return r;
  }

  private async plumb(): Promise<void> {
    const { nsA, nsL, nsB } = this;
    for (const ns of [nsA, nsL, nsB]) {
      await run(['ip', 'netns', 'add', ns]);
      this.created.push(ns);
      await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      await run(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], { netns: ns });
    }
    await run(['ip', 'link', 'add', 'a0', 'netns', nsA, 'mtu', '1550', 'type', 'veth', 'peer', 'name', 'la', 'netns', nsL, 'mtu', '1550']);
    await run(['ip', 'link', 'add', 'lb', 'netns', nsL, 'mtu', '1550', 'type', 'veth', 'peer', 'name', 'b0', 'netns', nsB, 'mtu', '1550']);
    const ifs: Array<[string, string, string]> = [
      [nsA, 'a0', `${TB.a.underlay}/30`],
      [nsL, 'la', `${TB.la}/30`],
      [nsL, 'lb', `${TB.lb}/30`],
      [nsB, 'b0', `${TB.b.underlay}/30`],
    ];
    for (const [ns, dev, addr] of ifs) {
      await run(['ip', '-n', ns, 'addr', 'add', addr, 'dev', dev]);
      await run(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    }
    const vx: Array<[string, string, string, string, string]> = [
      [nsA, TB.a.underlay, TB.la, 'a0', TB.a.overlay],
      [nsB, TB.b.underlay, TB.lb, 'b0', TB.b.overlay],
    ];
    for (const [ns, local, remote, dev, addr] of vx) {
      await run([
        'ip',
        '-n',
        ns,
        'link',
        'add',
        'vx0',
        'mtu',
        '1500',
        'type',
        'vxlan',
        'id',
        '42',
        'local',
        local,
        'remote',
        remote,
        'dstport',
        '4789',
        'dev',
        dev,
        'nolearning',
      ]);
      await run(['ip', '-n', ns, 'addr', 'add', `${addr}/30`, 'dev', 'vx0']);
      await run(['ip', '-n', ns, 'link', 'set', 'vx0', 'up']);
      await run(['ethtool', '-K', 'vx0', 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off'], { netns: ns });
    }
    // static neighbours: nothing but the test traffic crosses the impaired path
    const mac = async (ns: string) => {
      const r = await run(['ip', '-j', '-n', ns, 'link', 'show', 'vx0']);
      return (JSON.parse(r.stdout) as Array<{ address: string }>)[0]!.address;
    };
    const macA = await mac(nsA);
    const macB = await mac(nsB);
    await run(['ip', '-n', nsA, 'neigh', 'replace', TB.b.overlay, 'lladdr', macB, 'dev', 'vx0', 'nud', 'permanent']);
    await run(['ip', '-n', nsB, 'neigh', 'replace', TB.a.overlay, 'lladdr', macA, 'dev', 'vx0', 'nud', 'permanent']);
  }

  /** Stop the relay (if any) and delete the namespaces. Never throws. */
  async destroy(): Promise<void> {
    try {
      if (this.relay) await this.relay.stop(1000);
    } catch {
      /* already gone */
    }
    this.relay = null;
    for (const ns of this.created.splice(0).reverse()) {
      // processes still inside (iperf3 servers after a failure) would keep the namespace's devices alive
      await run(['ip', 'netns', 'pids', ns], { reject: false }).then(async (r) => {
        for (const pid of r.stdout.split('\n').filter((x) => /^\d+$/.test(x))) await run(['kill', '-9', pid], { reject: false });
      });
      await run(['ip', 'netns', 'del', ns], { reject: false });
    }
  }
}
