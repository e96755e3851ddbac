/**
 * The embedded backend: one network namespace per router and per host, veth pairs for host links,
 * and the impairment engine's links between routers. Names are nb-<run id>-<role>; addresses come
 * from 198.18.0.0/15 (the benchmarking range). Each arm has its own sender and receiver host, attached
 * to the same routers, so both arms cross the identical impaired path and can share one bottleneck.
 */
import { run, runBatch } from '../../exec/index.js';
import type { Resources } from '../../exec/resources.js';
import { offloadsOff, type ImpairmentEngine, type LinkHandle } from '../../impairment/index.js';
import type { Scenario, Topology } from '../../scenario/model.js';
import type { Arm } from '../../results/types.js';

export type Role = 'sender' | 'receiver';

export interface Host {
  arm: Arm;
  role: Role;
  ns: string;
  /** host address, no prefix */
  addr: string;
  gateway: string;
  dev: string;
  router: string;
}

export interface Testbed {
  runId: string;
  backend: 'netns' | 'docker';
  namespaces: string[];
  routers: Record<string, string>;
  hosts: Record<Arm, Record<Role, Host>>;
  /**
   * A second control-profile host pair behind the same routers, present when the workload competes
   * (the control trial's competitor) or the scenario has cross traffic (its source and sink).
   */
  peer?: Record<Role, Host>;
  links: LinkHandle[];
  engine: string;
}

type HostSlot = { arm: Arm | 'peer'; role: Role; short: string };
const ARM_HOSTS: HostSlot[] = [
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

export async function createTestbed(
  scenario: Scenario,
  engine: ImpairmentEngine,
  runId: string,
  resources: Resources,
  seed: number,
  log: (s: string) => void,
): Promise<Testbed> {
  const t = scenario.topology;
  const namespaces: string[] = [];
  // no IPv6 chatter (DAD, router solicitations) on the testbed
  const NO_V6 = ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];
  const addNs = async (role: string, sysctls: string[]) => {
    const ns = nsName(runId, role);
    await run(['ip', 'netns', 'add', ns]);
    namespaces.push(ns);
    resources.record((s) => s.namespaces.push(ns));
    resources.defer(`delete namespace ${ns}`, () => deleteNamespace(ns));
    await run(['sysctl', '-qw', ...sysctls], { netns: ns, reject: false });
    return ns;
  };

  // namespaces other than the first are created concurrently (the first `ip netns add` sets up
  // /run/netns itself); each one's commands go through one `ip -batch` where they can
  const routers: Record<string, string> = {};
  const ROUTER_SYSCTLS = [...NO_V6, 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0'];
  const addRouter = async (r: string) => {
    routers[r] = await addNs(`r-${r}`, ROUTER_SYSCTLS);
    await runBatch('ip', [['ip', 'link', 'set', 'lo', 'up']], { netns: routers[r] });
  };
  await addRouter(t.routers[0]!);
  await settleAll(t.routers.slice(1).map(addRouter));

  // router <-> router links through the impairment engine
  const links = await createRouterLinks(scenario, engine, runId, routers, resources, seed, log);

  // hosts
  const HOSTS = hostSlots(scenario);
  const hosts = { control: {}, canary: {} } as Record<Arm, Record<Role, Host>>;
  const peer = {} as Record<Role, Host>;
  const built = await settleAll(
    HOSTS.map(async (h, i) => {
      const ns = await addNs(h.short, NO_V6);
      const router = h.role === 'sender' ? t.sender : t.receiver;
      const rns = routers[router]!;
      const sn = hostSubnet(i);
      await run(['ip', 'link', 'add', `h${i}`, 'netns', rns, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await settleAll<unknown>([
        runBatch('ip', [
          ['ip', 'addr', 'add', `${sn.router}/24`, 'dev', `h${i}`],
          ['ip', 'link', 'set', `h${i}`, 'up'],
        ], { netns: rns }),
        runBatch('ip', [
          ['ip', 'link', 'set', 'lo', 'up'],
          ['ip', 'addr', 'add', `${sn.host}/24`, 'dev', 'eth0'],
          ['ip', 'link', 'set', 'eth0', 'up'],
          ['ip', 'route', 'add', 'default', 'via', sn.router, 'dev', 'eth0'],
        ], { netns: ns }),
        offloadsOff(ns, 'eth0'),
        offloadsOff(rns, `h${i}`),
      ]);
      const host: Host = { arm: h.arm === 'peer' ? 'control' : h.arm, role: h.role, ns, addr: sn.host, gateway: sn.router, dev: 'eth0', router };
      return { h, host };
    }),
  );
  for (const { h, host } of built) {
    if (h.arm === 'peer') peer[h.role] = host;
    else hosts[h.arm][h.role] = host;
  }

  await installRouterRoutes(
    t,
    routers,
    HOSTS.map((h, i) => ({ net: hostSubnet(i).net, router: h.role === 'sender' ? t.sender : t.receiver })),
  );
  return { runId, backend: 'netns', namespaces, routers, hosts, peer: needsPeer(scenario) ? peer : undefined, links, engine: engine.name };
}

/** The router-to-router links of a topology, each built by the impairment engine (both backends). */
export async function createRouterLinks(
  scenario: Scenario,
  engine: ImpairmentEngine,
  runId: string,
  routers: Record<string, string>,
  resources: Resources,
  seed: number,
  log: (s: string) => void,
): Promise<LinkHandle[]> {
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
export async function installRouterRoutes(t: Topology, routers: Record<string, string>, hostNets: { net: string; router: string }[]): Promise<void> {
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

/** Kill whatever still runs in the namespace, then delete it. */
export async function deleteNamespace(ns: string): Promise<void> {
  const pids = await run(['ip', 'netns', 'pids', ns], { reject: false });
  for (const p of pids.stdout.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(p), 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
  await run(['ip', 'netns', 'del', ns], { reject: false });
}
