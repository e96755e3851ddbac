/**
 * The embedded backend: one network namespace per router and per host, veth pairs for host links,
 * and the impairment engine's links between routers. Names are nb-<run id>-<role>; addresses come
 * from 198.18.0.0/15 (the benchmarking range). Each arm has its own sender and receiver host, attached
 * to the same routers, so both arms cross the identical impaired path and can share one bottleneck.
 */
import { existsSync } from 'node:fs';
import { namespacePids, run, runBatch } from '../../exec/index.js';
import { offloadsOff } from '../links.js';
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
  // every namespace in one `ip -batch` (a process start each costs more than the namespace), each
  // registered for teardown first: the batch may stop half-way. A name that exists already is not
  // ours (a run id collision): refused before anything is registered, so it is never deleted
  const taken = all.find((ns) => existsSync(`/run/netns/${ns}`));
  if (taken) throw new Error(`namespace ${taken} exists already (another run with the same id?): run again`);
  for (const ns of all) {
    namespaces.push(ns);
    resources.record((s) => s.namespaces.push(ns));
    resources.defer(`delete namespace ${ns}`, () => deleteNamespace(ns), 'namespaces');
  }
  await runBatch(
    'ip',
    all.map((ns) => ['ip', 'netns', 'add', ns]),
  );
  await settleAll(
    all.map(async (ns) => {
      const router = t.routers.some((r) => routers[r] === ns);
      await run(['sysctl', '-qw', ...(router ? ROUTER_SYSCTLS : NO_V6)], { netns: ns, reject: false });
      if (router) await runBatch('ip', [['ip', 'link', 'set', 'lo', 'up']], { netns: ns });
    }),
  );

  // router <-> router links through the impairment engine, and the hosts at the same time (they only
  // need the routers; the userspace engine's relay start-up is the longest step of either)
  const linksBuilt = createRouterLinks(req, routers);
  const hosts = { control: {}, canary: {} } as Record<Arm, Record<Role, Host>>;
  const peer = {} as Record<Role, Host>;
  const hostsBuilt = settleAll(
    HOSTS.map(async (h, i) => {
      const ns = nsName(runId, h.short);
      const router = routerOf(t, h.role);
      const rns = routers[router]!;
      const sn = hostSubnet(i);
      await run(['ip', 'link', 'add', `h${i}`, 'netns', rns, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await settleAll<unknown>([
        runBatch(
          'ip',
          [
            ['ip', 'addr', 'add', `${sn.router}/24`, 'dev', `h${i}`],
            ['ip', 'link', 'set', `h${i}`, 'up'],
          ],
          { netns: rns },
        ),
        runBatch(
          'ip',
          [
            ['ip', 'link', 'set', 'lo', 'up'],
            ['ip', 'addr', 'add', `${sn.host}/24`, 'dev', 'eth0'],
            ['ip', 'link', 'set', 'eth0', 'up'],
            ['ip', 'route', 'add', 'default', 'via', sn.router, 'dev', 'eth0'],
          ],
          { netns: ns },
        ),
        offloadsOff(ns, 'eth0'),
        offloadsOff(rns, `h${i}`),
      ]);
      const host: Host = {
        arm: h.arm === 'peer' ? 'control' : h.arm,
        role: h.role,
        ns,
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

/** Kill whatever still runs in the namespace, then delete it. */
export async function deleteNamespace(ns: string): Promise<void> {
  for (const p of namespacePids(ns)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
  await run(['ip', 'netns', 'del', ns], { reject: false });
}
