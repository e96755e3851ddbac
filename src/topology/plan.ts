/**
 * The plan both backends share: host slots and their addresses (198.18.0.0/15, the benchmarking
 * range), namespace names, the router tree's next hops, the router-to-router links (built by the
 * impairment engine) and the routes between routers.
 */
import { runBatch } from '../exec/index.js';
import type { Scenario, Topology } from '../scenario/model.js';
import type { LinkHandle } from './links.js';
import type { Arm, Role, TestbedRequest } from './types.js';

export type HostSlot = { arm: Arm | 'peer'; role: Role; short: string };
/** The arms' four hosts: the only hosts of a docker testbed, the first four of a netns one. */
export const ARM_HOSTS: (HostSlot & { arm: Arm })[] = [
  { arm: 'control', role: 'sender', short: 'c-snd' },
  { arm: 'control', role: 'receiver', short: 'c-rcv' },
  { arm: 'canary', role: 'sender', short: 'k-snd' },
  { arm: 'canary', role: 'receiver', short: 'k-rcv' },
];
const PEER_HOSTS: HostSlot[] = [
  { arm: 'peer', role: 'sender', short: 'p-snd' },
  { arm: 'peer', role: 'receiver', short: 'p-rcv' },
];

export function needsPeer(s: Scenario): boolean {
  return s.workload.type === 'compete' || s.crossTraffic !== undefined;
}

/** The hosts a scenario needs, in address order (host i gets 198.18.i.0/24). */
export function hostSlots(s: Scenario): HostSlot[] {
  return needsPeer(s) ? [...ARM_HOSTS, ...PEER_HOSTS] : ARM_HOSTS;
}

export function nsName(runId: string, role: string): string {
  return `nb-${runId}-${role}`;
}

/** Host i: 198.18.i.0/24, router .1, host .2. Router link j: 198.19.j.0/30, a .1, b .2. */
export function hostSubnet(i: number): { net: string; router: string; host: string } {
  return { net: `198.18.${i}.0/24`, router: `198.18.${i}.1`, host: `198.18.${i}.2` };
}
export function linkAddrs(j: number): { a: string; b: string } {
  return { a: `198.19.${j}.1`, b: `198.19.${j}.2` };
}

/** For each router, the next hop (router) toward each other router, along the topology's tree. */
export function nextHops(t: Topology): Map<string, Map<string, { via: string; linkIndex: number; side: 'a' | 'b' }>> {
  const out = new Map<string, Map<string, { via: string; linkIndex: number; side: 'a' | 'b' }>>();
  for (const src of t.routers) {
    const m = new Map<string, { via: string; linkIndex: number; side: 'a' | 'b' }>();
    // BFS from src recording the first hop
    const first = new Map<string, { via: string; linkIndex: number; side: 'a' | 'b' }>();
    const queue: string[] = [src];
    const seen = new Set([src]);
    while (queue.length) {
      const r = queue.shift()!;
      t.links.forEach((l, j) => {
        const [a, b] = l.between;
        const nb = a === r ? b : b === r ? a : null;
        if (!nb || seen.has(nb)) return;
        seen.add(nb);
        // the first hop from src: if r is src, the hop is this link; else inherit r's first hop
        const hop = r === src ? { via: nb, linkIndex: j, side: (a === src ? 'a' : 'b') as 'a' | 'b' } : first.get(r)!;
        first.set(nb, hop);
        queue.push(nb);
      });
    }
    for (const [dst, hop] of first) m.set(dst, hop);
    out.set(src, m);
  }
  return out;
}

/**
 * Like Promise.all, but waits for every promise before throwing the first failure: a failure in one
 * concurrent step must not start the teardown while another step is still creating resources.
 */
export async function settleAll<T>(ps: Promise<T>[]): Promise<T[]> {
  const rs = await Promise.allSettled(ps);
  const bad = rs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (bad) throw bad.reason;
  return rs.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** The router a host of this role hangs off. */
export function routerOf(t: Topology, role: Role): string {
  return role === 'sender' ? t.sender : t.receiver;
}

/** The router-to-router links of a topology, each built by the impairment engine (both backends). */
export async function createRouterLinks(req: TestbedRequest, routers: Record<string, string>): Promise<LinkHandle[]> {
  const { scenario, engine, runId, resources, seed, log } = req;
  const links: LinkHandle[] = [];
  for (const [j, l] of scenario.topology.links.entries()) {
    const ad = linkAddrs(j);
    links.push(
      await engine.createLink({
        runId,
        index: j,
        name: l.name,
        a: { ns: routers[l.between[0]]!, ifname: `l${j}`, addr: `${ad.a}/30` },
        b: { ns: routers[l.between[1]]!, ifname: `l${j}`, addr: `${ad.b}/30` },
        spec: scenario.links[l.name]!,
        seed,
        resources,
        log,
      }),
    );
  }
  return links;
}

/** Routes between routers: every host subnet not attached to a router goes via the next hop. */
export async function installRouterRoutes(
  t: Topology,
  routers: Record<string, string>,
  hostNets: { net: string; router: string }[],
): Promise<void> {
  const hops = nextHops(t);
  await settleAll(
    t.routers.map((r) => {
      const cmds: string[][] = [];
      for (const h of hostNets) {
        if (h.router === r) continue;
        const hop = hops.get(r)!.get(h.router)!;
        const ad = linkAddrs(hop.linkIndex);
        const via = hop.side === 'a' ? ad.b : ad.a;
        cmds.push(['ip', 'route', 'add', h.net, 'via', via, 'dev', `l${hop.linkIndex}`]);
      }
      return runBatch('ip', cmds, { netns: routers[r]! });
    }),
  );
}
