/**
 * The Docker backend: every router and host of the topology is a container, and each container's
 * network namespace is attached under the netns name the embedded backend would use
 * (`ip netns attach nb-<run id>-<role> <pid>`). From then on the rest of the pipeline (impairment
 * engines, tunings, iperf3 workloads, fidelity probe: all `ip -n NS` / `ip netns exec NS`) runs
 * unchanged, and any image can be an endpoint: netab's tools come from the host.
 *
 *   host link i     one --internal Docker network netab-<run>-<host>, subnet 198.18.<i>.0/24,
 *                   router container .1, host container .2, Docker's gateway (the bridge) .254;
 *                   the host's default route is replaced by one via the router (.1)
 *   router links    built by the impairment engine between the attached router namespaces, exactly
 *                   as with the netns backend (no Docker network)
 *
 * Containers get NET_ADMIN only, labels netab=1 / netab.run=<run id> (networks too), names
 * netab-<run id>-<role>, and run a long-lived command. Every creation registers its undo on
 * `resources` first and is recorded in the run's state file, so success, failure, Ctrl+C and (through
 * `netab gc` / the sweep at the next start) crashes all end with nothing left.
 */
import { run } from '../../exec/index.js';
import type { Scenario } from '../../scenario/model.js';
import { offloadsOff } from '../links.js';
import { ARM_HOSTS, createRouterLinks, installRouterRoutes, nsName, routerOf } from '../plan.js';
import type { Arm, Host, Role, Testbed, TestbedRequest, TopologyBackend } from '../types.js';
import { dockerClient, pingDocker, type Docker } from './client.js';
import {
  attachNamespaces,
  createContainers,
  detachNamespaces,
  devWithAddr,
  removeContainers,
  waitServers,
  type DockerContainer,
} from './containers.js';
import { DockerError } from './errors.js';
import { markRunLive, sweepDeadRuns, unmarkRunLive } from './gc.js';
import { buildEndpointImage, endpointImageTag, imagePresent } from './image.js';
import { deleteBridgeRule, dockerUserChain, insertBridgeRule } from './iptables.js';
import { createNetworks, removeNetworks, type DockerNetwork } from './networks.js';
import { dockerHostSubnet, dockerSysctlsFor, planContainers, type DockerScenarioOptions, type HostSysctls } from './plan.js';

export { DockerError } from './errors.js';
export { dockerClient, pingDocker } from './client.js';
export { dockerGc } from './gc.js';
export {
  buildEndpointImage,
  dockerBuildImageCommand,
  endpointImageStatus,
  endpointImageTag,
  ENDPOINT_HTTP_COMMAND,
  ENDPOINT_HTTP_PORT,
} from './image.js';
export { dockerSysctlsFor } from './plan.js';

export const dockerBackend: TopologyBackend = {
  name: 'docker',
  create: (req) => createDockerTestbed(req, { hostSysctls: dockerSysctlsFor(req.scenario, req.aa) }),
};

/** The Testbed with backend 'docker' and what it is made of. */
export interface DockerTestbed extends Testbed {
  backend: 'docker';
  containers: DockerContainer[];
  networks: DockerNetwork[];
}

export interface DockerTestbedOptions {
  /** Engine API client (default: DOCKER_HOST or /var/run/docker.sock) */
  docker?: Docker;
  /** overrides scenario.docker */
  endpoints?: DockerScenarioOptions;
  /**
   * Sysctls to pass as HostConfig.Sysctls per host (see dockerSysctlsFor). Only net.ipv4.* keys this
   * kernel has are passed; the pipeline sets (and reads back) the same values inside the namespace.
   */
  hostSysctls?: HostSysctls;
  /** how long to wait for a receiver's `port` to listen (default 15 s) */
  readyTimeoutMs?: number;
  /** remove leftovers of dead netab runs first (default true) */
  sweep?: boolean;
}

/** Build the scenario's topology out of containers; same contract as the netns createTestbed. */
// Long by design: the testbed steps in order, each registered for teardown before it runs.
export async function createDockerTestbed(req: TestbedRequest, opts: DockerTestbedOptions = {}): Promise<DockerTestbed> {
  const { scenario, engine, runId, resources, log } = req;
  const d = opts.docker ?? dockerClient();
  const t = scenario.topology;
  const ep: DockerScenarioOptions = opts.endpoints ?? (scenario as Scenario & { docker?: DockerScenarioOptions }).docker ?? {};
  await pingDocker(d);
  markRunLive(runId);
  resources.defer(`forget run ${runId}`, () => unmarkRunLive(runId));
  if (opts.sweep ?? true) await sweepDeadRuns(d, log);

  // images first: nothing is created when one is missing
  const defaultImage = endpointImageTag();
  const hostImage = ep.image ?? defaultImage;
  await ensureImages(
    d,
    defaultImage,
    [hostImage, ...(ep.receiver ? [ep.receiver.image] : []), ...(ep.sender ? [ep.sender.image] : [])],
    log,
  );

  // undo steps, registered before anything exists; they also find by label what a failed call left
  const containerIds: string[] = [];
  const networks: DockerNetwork[] = [];
  const attached: string[] = [];
  resources.defer(`remove Docker networks of run ${runId}`, () =>
    removeNetworks(
      d,
      runId,
      networks.map((n) => n.id),
    ),
  );
  resources.defer(`remove Docker containers of run ${runId}`, () => removeContainers(d, runId, containerIds));
  resources.defer(`detach namespaces of run ${runId}`, () => detachNamespaces(attached));

  const slot = await createNetworks(d, runId, resources, networks, log);
  // routed traffic must cross each host-link bridge despite Docker's internal-network isolation
  if (await dockerUserChain()) {
    for (const n of networks) {
      resources.defer(`remove iptables rule for ${n.bridge}`, () => deleteBridgeRule(n.bridge, runId));
      await insertBridgeRule(n.bridge, runId);
    }
  }
  const hostIdx = new Map(ARM_HOSTS.map((h, i) => [h.short, i]));
  const netOf = (short: string) => networks[hostIdx.get(short)!]!.name;
  const sub = (i: number) => dockerHostSubnet(i, slot);
  const plans = planContainers(t, runId, { router: defaultImage, host: hostImage }, ep, opts.hostSysctls, netOf, sub);

  const containers = await createContainers(d, runId, plans, resources, containerIds);
  await attachNamespaces(d, plans, containers, resources, attached);

  const routers: Record<string, string> = {};
  for (const r of t.routers) {
    routers[r] = nsName(runId, `r-${r}`);
    await run(['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0'], {
      netns: routers[r],
    });
  }

  // router <-> router links through the impairment engine, as in the netns backend
  const links = await createRouterLinks(req, routers);
  const hosts = await routeHosts(req, routers, sub);
  await installRouterRoutes(
    t,
    routers,
    ARM_HOSTS.map((h, i) => ({ net: sub(i).net, router: routerOf(t, h.role) })),
  );

  // endpoint servers: wait until they listen; a container that exited is an error with its logs
  await waitServers(d, plans, containers, opts.readyTimeoutMs ?? 15_000);

  return {
    runId,
    backend: 'docker',
    namespaces: plans.map((p) => p.ns),
    routers,
    hosts,
    links,
    engine: engine.name,
    containers,
    networks,
  };
}

/** Build the default endpoint image when needed; every other image must be in the local engine. */
async function ensureImages(d: Docker, defaultImage: string, others: string[], log: (s: string) => void): Promise<void> {
  for (const img of new Set([defaultImage, ...others])) {
    if (img === defaultImage) {
      const b = await buildEndpointImage(log, { docker: d });
      if (b.built) log(`docker: built ${img} in ${(b.ms / 1000).toFixed(1)} s`);
    } else if (!(await imagePresent(img, d))) {
      throw new DockerError(
        `image ${img} (scenario docker section) is not in the local Docker engine, and netab does not pull images: ` +
          'load or build it first (`docker pull`, `docker load`, `docker build`)',
      );
    }
  }
}

/** Hosts: default route via the router (Docker's internal networks have none), offloads off both ends. */
async function routeHosts(
  req: TestbedRequest,
  routers: Record<string, string>,
  sub: (i: number) => { net: string; router: string; host: string },
): Promise<Record<Arm, Record<Role, Host>>> {
  const t = req.scenario.topology;
  const hosts = { control: {}, canary: {} } as Record<Arm, Record<Role, Host>>;
  for (const [i, h] of ARM_HOSTS.entries()) {
    const ns = nsName(req.runId, h.short);
    const router = routerOf(t, h.role);
    const rns = routers[router]!;
    const sn = sub(i);
    const dev = await devWithAddr(ns, sn.host);
    const rdev = await devWithAddr(rns, sn.router);
    await run(['ip', '-n', ns, 'route', 'replace', 'default', 'via', sn.router, 'dev', dev]);
    await run(['sysctl', '-qw', `net.ipv4.conf.${rdev}.rp_filter=0`], { netns: rns, reject: false });
    await offloadsOff(ns, dev);
    await offloadsOff(rns, rdev);
    hosts[h.arm][h.role] = { arm: h.arm, role: h.role, ns, addr: sn.host, gateway: sn.router, dev, router };
  }
  return hosts;
}
