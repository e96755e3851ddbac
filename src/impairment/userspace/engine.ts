/**
 * The userspace engine's plumbing. An impaired link A <-> B becomes:
 *
 *   A: vxlan (overlay addr) --underlay veth u<j>--> L: relay process <--underlay veth-- B: vxlan
 *
 * The relay (relay-main.ts) runs in the link namespace L and applies the link model to each VXLAN
 * datagram. Underlay MTU 1550 keeps the overlay at 1500. Transmit checksum offload is switched off on
 * both VXLAN devices: otherwise inner TCP checksums are left for offload and every TCP segment that
 * crosses a userspace relay is dropped (TcpInCsumErrors) while ping still works.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../exec/index.js';
import { projectRoot } from '../../paths.js';
import { offloadsOff, type LinkEngine, type LinkHandle, type LinkRequest } from '../../topology/links.js';
import { traceTimes } from '../../scenario/trace.js';
import type { LinkImpairment } from '../types.js';
import { RelayClient } from './client.js';
import { VXLAN_PORT, type RelayConfig } from './protocol.js';

export const UNDERLAY_MTU = 1550;

export function relayScript(): string {
  return join(projectRoot(), 'dist', 'impairment', 'userspace', 'relay-main.js');
}

/** Underlay addresses of link j: A .1 / L .2 on one /30, L .5 / B .6 on the next. */
export function underlay(j: number): { a: string; la: string; lb: string; b: string } {
  const base = `198.19.${128 + j}`;
  return { a: `${base}.1`, la: `${base}.2`, lb: `${base}.5`, b: `${base}.6` };
}

export class UserspaceEngine implements LinkEngine {
  readonly name = 'userspace' as const;

  // Long by design: the link set-up steps in order, each registered for teardown before it runs.
  async createLink(req: LinkRequest): Promise<LinkHandle> {
    const script = relayScript();
    if (!existsSync(script)) throw new Error(`the relay is not built (${script} missing): run \`npm run build\``);
    const { a, b, index: j, resources } = req;
    const L = `nb-${req.runId}-lk${j}`;
    await run(['ip', 'netns', 'add', L]);
    resources.record((s) => s.namespaces.push(L));
    resources.defer(`delete namespace ${L}`, () => run(['ip', 'netns', 'del', L]).then(() => undefined));
    await run(['ip', '-n', L, 'link', 'set', 'lo', 'up']);
    const u = underlay(j);
    const ua = `u${j}`;
    await run([
      'ip',
      'link',
      'add',
      ua,
      'netns',
      a.ns,
      'mtu',
      String(UNDERLAY_MTU),
      'type',
      'veth',
      'peer',
      'name',
      'ua',
      'netns',
      L,
      'mtu',
      String(UNDERLAY_MTU),
    ]);
    await run([
      'ip',
      'link',
      'add',
      'ub',
      'netns',
      L,
      'mtu',
      String(UNDERLAY_MTU),
      'type',
      'veth',
      'peer',
      'name',
      ua,
      'netns',
      b.ns,
      'mtu',
      String(UNDERLAY_MTU),
    ]);
    const plumb: [string, string, string][] = [
      [a.ns, ua, `${u.a}/30`],
      [L, 'ua', `${u.la}/30`],
      [L, 'ub', `${u.lb}/30`],
      [b.ns, ua, `${u.b}/30`],
    ];
    for (const [ns, dev, addr] of plumb) {
      await run(['ip', '-n', ns, 'addr', 'add', addr, 'dev', dev]);
      await run(['ip', '-n', ns, 'link', 'set', dev, 'up']);
      await offloadsOff(ns, dev);
    }
    const vx: [typeof a, string, string][] = [
      [a, u.a, u.la],
      [b, u.b, u.lb],
    ];
    for (const [end, local, remote] of vx) {
      await run([
        'ip',
        '-n',
        end.ns,
        'link',
        'add',
        end.ifname,
        'mtu',
        '1500',
        'type',
        'vxlan',
        'id',
        String(100 + j),
        'local',
        local,
        'remote',
        remote,
        'dstport',
        String(VXLAN_PORT),
        'dev',
        ua,
        'nolearning',
      ]);
      await run(['ip', '-n', end.ns, 'addr', 'add', end.addr, 'dev', end.ifname]);
      await run(['ip', '-n', end.ns, 'link', 'set', end.ifname, 'up']);
      // tx checksum offload off: inner TCP checksums must be computed before the relay sees them
      await run(['ethtool', '-K', end.ifname, 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off'], { netns: end.ns });
    }
    const config: RelayConfig = {
      a: { listen: u.la, peer: u.a, port: VXLAN_PORT },
      b: { listen: u.lb, peer: u.b, port: VXLAN_PORT },
      forward: req.spec.forward,
      reverse: req.spec.reverse,
      seed: req.seed + j,
    };
    const relay = new RelayClient(L, config, { script, onStderr: (l) => req.log(`relay ${L}: ${l}`) });
    resources.defer(`stop relay in ${L}`, () => relay.stop().then(() => undefined));
    if (relay.pid) resources.record((s) => s.pids.push(relay.pid!));
    await relay.ready;
    // traces go over stdin (too large for argv): the relay replaces those directions' models
    const withTimes = (i: LinkImpairment) => (i.trace ? { ...i, trace: { ...i.trace, times: traceTimes(i.trace) } } : undefined);
    if (req.spec.forward.trace || req.spec.reverse.trace) await relay.set(withTimes(req.spec.forward), withTimes(req.spec.reverse));
    const scheduled = Boolean(req.spec.forward.schedule || req.spec.reverse.schedule || req.spec.forward.trace || req.spec.reverse.trace);
    return {
      name: req.name,
      telemetry: (reset) => relay.stats(reset).catch(() => null),
      ...(scheduled ? { schedule: (action: 'start' | 'stop', trigger?: 'now' | 'data') => relay.schedule(action, trigger) } : {}),
    };
  }
}
