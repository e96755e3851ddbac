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
import { run, runBatch } from '../../exec/index.js';
import { projectRoot } from '../../paths.js';
import { offloadsOffLine, type LinkEngine, type LinkHandle, type LinkRequest } from '../../topology/links.js';
import { settleAll } from '../../topology/plan.js';
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
    const u = underlay(j);
    const ua = `u${j}`;
    const mtu = String(UNDERLAY_MTU);
    // a name that exists already is not ours (a run id collision): never registered, never deleted
    if (existsSync(`/run/netns/${L}`)) throw new Error(`namespace ${L} exists already (another run with the same id?): run again`);
    resources.record((s) => s.namespaces.push(L));
    resources.defer(`delete namespace ${L}`, () => run(['ip', 'netns', 'del', L], { reject: false }).then(() => undefined), 'namespaces');
    // the link namespace and both underlay veths: one ip process from the root namespace (a process
    // netab starts costs ~12 ms of its CPU; the relay, started next, needs only the namespace)
    await runBatch('ip', [
      ['ip', 'netns', 'add', L],
      ['ip', 'link', 'add', ua, 'netns', a.ns, 'mtu', mtu, 'type', 'veth', 'peer', 'name', 'ua', 'netns', L, 'mtu', mtu],
      ['ip', 'link', 'add', 'ub', 'netns', L, 'mtu', mtu, 'type', 'veth', 'peer', 'name', ua, 'netns', b.ns, 'mtu', mtu],
    ]);
    // The relay's start-up (a Node process with two threads, ~0.35 s) is the longest step of the
    // link: it starts now and gets its config on stdin once its addresses exist (relay-main.ts).
    const config: RelayConfig = {
      a: { listen: u.la, peer: u.a, port: VXLAN_PORT },
      b: { listen: u.lb, peer: u.b, port: VXLAN_PORT },
      forward: req.spec.forward,
      reverse: req.spec.reverse,
      seed: req.seed + j,
    };
    const relay = new RelayClient(L, config, { script, onStderr: (l) => req.log(`relay ${L}: ${l}`), configLater: true });
    resources.defer(`stop relay in ${L}`, () => relay.stop().then(() => undefined));
    if (relay.pid) resources.record((s) => s.pids.push(relay.pid!));
    // each namespace's own commands in one batch each, all at once
    const end = (e: typeof a, local: string, remote: string) =>
      runBatch(
        'ip',
        [
          ['ip', 'addr', 'add', `${local}/30`, 'dev', ua],
          ['ip', 'link', 'set', ua, 'up'],
          // VXLAN over the underlay veth: the relay in L sees one UDP datagram per frame
          [
            'ip',
            'link',
            'add',
            e.ifname,
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
          ],
          ['ip', 'addr', 'add', e.addr, 'dev', e.ifname],
          ['ip', 'link', 'set', e.ifname, 'up'],
        ],
        { netns: e.ns },
      );
    const linkNs = runBatch(
      'ip',
      [
        ['ip', 'link', 'set', 'lo', 'up'],
        ['ip', 'addr', 'add', `${u.la}/30`, 'dev', 'ua'],
        ['ip', 'link', 'set', 'ua', 'up'],
        ['ip', 'addr', 'add', `${u.lb}/30`, 'dev', 'ub'],
        ['ip', 'link', 'set', 'ub', 'up'],
      ],
      { netns: L },
    );
    // the offloads of all six devices in one batch from the root namespace, once the VXLAN devices
    // exist: tx checksum offload off on them (must succeed: inner TCP checksums must be computed
    // before the relay sees them), segmentation/receive offloads off on the underlay (may fail)
    const offloads = settleAll([end(a, u.a, u.la), end(b, u.b, u.lb)]).then(() =>
      runBatch(
        'ip',
        [
          offloadsOffLine(a.ns, ua),
          offloadsOffLine(L, 'ua'),
          offloadsOffLine(L, 'ub'),
          offloadsOffLine(b.ns, ua),
          ...[a, b].map((e) => offloadsOffLine(e.ns, e.ifname, 'tx', 'off')),
        ],
        { mayFail: (i) => i < 4 },
      ),
    );
    const started = linkNs.then(() => {
      relay.configure();
      return relay.ready;
    });
    // every step finishes (or fails) before the link is returned or torn down
    const failed = (await Promise.allSettled([started, offloads])).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
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
