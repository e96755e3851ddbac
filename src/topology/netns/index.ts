/**
 * The embedded backend: one network namespace per router and per host, veth pairs for host links,
 * and the impairment engine's links between routers. Names are nb-<run id>-<role>; addresses come
 * from 198.18.0.0/15 (the benchmarking range). Each arm has its own sender and receiver host, attached
 * to the same routers, so both arms cross the identical impaired path and can share one bottleneck.
 */
import { existsSync } from 'node:fs';
import { namespacePids, run, runBatch } from '../../exec/index.js';
import { offloadsOffLine } from '../links.js';
import { createRouterLinks, hostSlots, hostSubnet, installRouterRoutes, needsPeer, nsName, routerOf, settleAll } from '../plan.js';
import type { Arm, Host, Role, Testbed, TestbedRequest, TopologyBackend } from '../types.js';

export const netnsBackend: TopologyBackend = { name: 'netns', create: createTestbed };

// Long by design: the testbed steps in order, each registered for teardown before it runs.
export async function createTestbed(req: TestbedRequest): Promise<Testbed> {
  const { scenario, engine, runId, resources } = req;
  const t = scenario.topology;
  const namespaces: string[] = [];
  // no IPv6 chatter (DAD, router solicitations) on the testbed
  const NO_V6 = ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];
  const ROUTER_SYSCTLS = [...NO_V6, 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0'];
  const HOSTS = hostSlots(scenario);
  const routers: Record<string, string> = {};
  for (const r of t.routers) routers[r] = nsName(runId, `r-${r}`);
  const all = [...t.routers.map((r) => routers[r]!), ...HOSTS.map((h) => nsName(runId, h.short))];
  // every namespace registered for teardown first: the batch may stop half-way. A name that exists
  // already is not ours (a run id collision): refused before anything is registered, so it is never deleted
  const taken = all.find((ns) => existsSync(`/run/netns/${ns}`));
  if (taken) throw new Error(`namespace ${taken} exists already (another run with the same id?): run again`);
  for (const ns of all) {
    namespaces.push(ns);
    resources.record((s) => s.namespaces.push(ns));
  }
  resources.defer(`delete namespaces ${all.join(' ')}`, () => deleteNamespaces(all), 'namespaces');
  // One ip process from the root namespace for the namespaces, their sysctls (ip starts sysctl in
  // each as its child: before any link exists, as before) and the hosts' veth pairs: a process
  // started by netab costs ~12 ms of its CPU, one started by ip a fork. A sysctl may fail (no IPv6).
  const isRouter = (ns: string) => t.routers.some((r) => routers[r] === ns);
  const setup = [
    ...all.map((ns) => ['ip', 'netns', 'add', ns]),
    ...all.map((ns) => ['ip', 'netns', 'exec', ns, 'sysctl', '-qw', ...(isRouter(ns) ? ROUTER_SYSCTLS : NO_V6)]),
    ...HOSTS.map((h, i) => {
      const rns = routers[routerOf(t, h.role)]!;
      return ['ip', 'link', 'add', `h${i}`, 'netns', rns, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', nsName(runId, h.short)];
    }),
  ];
  await runBatch('ip', setup, { mayFail: (i) => i >= all.length && i < 2 * all.length });

  // router <-> router links through the impairment engine, and the hosts at the same time (they only
  // need the routers; the userspace engine's relay start-up is the longest step of either)
  const linksBuilt = createRouterLinks(req, routers);
  const hosts = { control: {}, canary: {} } as Record<Arm, Record<Role, Host>>;
  const peer = {} as Record<Role, Host>;
  // one batch per namespace; every offload switch in one batch from the root namespace (each may fail)
  const routerSide = (rns: string) =>
    HOSTS.flatMap((h, i) =>
      routers[routerOf(t, h.role)] === rns
        ? [
            ['ip', 'addr', 'add', `${hostSubnet(i).router}/24`, 'dev', `h${i}`],
            ['ip', 'link', 'set', `h${i}`, 'up'],
          ]
        : [],
    );
  const hostSide = (i: number) => [
    ['ip', 'link', 'set', 'lo', 'up'],
    ['ip', 'addr', 'add', `${hostSubnet(i).host}/24`, 'dev', 'eth0'],
    ['ip', 'link', 'set', 'eth0', 'up'],
    ['ip', 'route', 'add', 'default', 'via', hostSubnet(i).router, 'dev', 'eth0'],
  ];
  const offloads = HOSTS.flatMap((h, i) => [
    offloadsOffLine(nsName(runId, h.short), 'eth0'),
    offloadsOffLine(routers[routerOf(t, h.role)]!, `h${i}`),
  ]);
  const hostsBuilt = settleAll<unknown>([
    ...t.routers.map((r) => runBatch('ip', [['ip', 'link', 'set', 'lo', 'up'], ...routerSide(routers[r]!)], { netns: routers[r]! })),
    ...HOSTS.map((h, i) => runBatch('ip', hostSide(i), { netns: nsName(runId, h.short) })),
    runBatch('ip', offloads, { mayFail: () => true }),
  ]).then(() =>
    HOSTS.map((h, i) => {
      const sn = hostSubnet(i);
      const router = routerOf(t, h.role);
      const host: Host = {
        arm: h.arm === 'peer' ? 'control' : h.arm,
        role: h.role,
        ns: nsName(runId, h.short),
        addr: sn.host,
        gateway: sn.router,
        dev: 'eth0',
        router,
      };
      return { h, host };
    }),
  );
  const [lr, hr] = await Promise.allSettled([linksBuilt, hostsBuilt]);
  if (lr.status === 'rejected') throw lr.reason;
  if (hr.status === 'rejected') throw hr.reason;
  const [links, built] = [lr.value, hr.value];
  for (const { h, host } of built) {
    if (h.arm === 'peer') peer[h.role] = host;
    else hosts[h.arm][h.role] = host;
  }

  await installRouterRoutes(
    t,
    routers,
    HOSTS.map((h, i) => ({ net: hostSubnet(i).net, router: routerOf(t, h.role) })),
  );
  return { runId, backend: 'netns', namespaces, routers, hosts, peer: needsPeer(scenario) ? peer : undefined, links, engine: engine.name };
}

/** deleteNamespace for many at once: one ip process deletes them all (each may be gone already). */
export async function deleteNamespaces(nss: string[]): Promise<void> {
  for (const ns of nss) killAll(ns);
  await runBatch(
    'ip',
    nss.map((ns) => ['ip', 'netns', 'del', ns]),
    { mayFail: () => true },
  ).catch(() => null);
}

function killAll(ns: string): void {
  for (const p of namespacePids(ns)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
}

/** Kill whatever still runs in the namespace, then delete it. */
export async function deleteNamespace(ns: string): Promise<void> {
  killAll(ns);
  await run(['ip', 'netns', 'del', ns], { reject: false });
}
