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
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { run } from '../../exec/index.js';
import type { Resources } from '../../exec/resources.js';
import { offloadsOff, type ImpairmentEngine, type LinkHandle } from '../../impairment/index.js';
import type { Arm } from '../../results/types.js';
import type { Scenario, TuningProfile } from '../../scenario/model.js';
import { createRouterLinks, deleteNamespace, hostSubnet, installRouterRoutes, nsName, type Host, type Role, type Testbed } from '../netns/index.js';
import {
  containerLogs,
  dockerClient,
  LABEL,
  LABEL_HOST,
  LABEL_NS,
  LABEL_PID,
  LABEL_ROLE,
  LABEL_RUN,
  pingDocker,
  type Docker,
} from './client.js';
import { docker as call, DockerError, dockerMessage, toDockerError } from './errors.js';
import { buildEndpointImage, endpointImageTag, ENDPOINT_DEFAULT_COMMAND, imagePresent } from './image.js';
import { markRunLive, sweepDeadRuns, unmarkRunLive } from './gc.js';
import { deleteBridgeRule, dockerUserChain, insertBridgeRule } from './iptables.js';

export { DockerError } from './errors.js';
export { dockerClient, engineStatus, pingDocker, LABEL, LABEL_RUN, type Docker, type EngineInfo } from './client.js';
export { dockerGc, type DockerGcOptions } from './gc.js';
export {
  buildEndpointImage,
  dockerBuildImageCommand,
  endpointImageStatus,
  endpointImageTag,
  ENDPOINT_FILES,
  ENDPOINT_HTTP_COMMAND,
  ENDPOINT_HTTP_PORT,
  type BuildResult,
  type DockerStatus,
} from './image.js';

export type Backend = 'netns' | 'docker';

/** One endpoint container's image: `command` replaces the image's own (omit it to run the image's server). */
export interface DockerEndpointSpec {
  image: string;
  command?: string[];
  /** TCP port the command listens on: setup waits until it does (and fails if the container exits) */
  port?: number;
}

/** The scenario's `docker:` section (schema field for the lead). */
export interface DockerScenarioOptions {
  /** image of every endpoint host (default netab/endpoint:<version>); it runs `sleep infinity` */
  image?: string;
  /** the senders of both arms run this instead: the tuned server side, e.g. your HTTP server or edge proxy */
  sender?: DockerEndpointSpec;
  /** the receivers of both arms run this instead (e.g. an HTTP server) */
  receiver?: DockerEndpointSpec;
}

export interface DockerContainer {
  id: string;
  name: string;
  role: string;
  /** the attached netns name (Host.ns / Testbed.routers value) */
  ns: string;
  image: string;
  pid: number;
}

export interface DockerNetwork {
  id: string;
  name: string;
  subnet: string;
  /** the Linux bridge in the root namespace */
  bridge: string;
}

/** The netns Testbed shape with backend 'docker' (the lead widens Testbed.backend to Backend). */
export interface DockerTestbed extends Omit<Testbed, 'backend'> {
  backend: 'docker';
  containers: DockerContainer[];
  networks: DockerNetwork[];
}

export type HostSysctls = Partial<Record<Arm, Partial<Record<Role, Record<string, string>>>>>;

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

const HOSTS: { arm: Arm; role: Role; short: string }[] = [
  { arm: 'control', role: 'sender', short: 'c-snd' },
  { arm: 'control', role: 'receiver', short: 'c-rcv' },
  { arm: 'canary', role: 'sender', short: 'k-snd' },
  { arm: 'canary', role: 'receiver', short: 'k-rcv' },
];

export function containerName(runId: string, role: string): string {
  return `netab-${runId}-${role}`;
}

/**
 * Host subnets of a docker testbed. Slot 0 is exactly hostSubnet(i) (198.18.<i>.0/24); a concurrent
 * docker run holds its subnets in Docker's address space, so the next run takes slot k (198.18.<4k+i>).
 */
export function dockerHostSubnet(i: number, slot = 0): { net: string; router: string; host: string; gateway: string; index: number } {
  const n = slot * HOSTS.length + i;
  const s = hostSubnet(n);
  return { ...s, gateway: `198.18.${n}.254`, index: n };
}
export const MAX_SLOTS = Math.floor(256 / HOSTS.length);

/** Per-host sysctls for HostConfig.Sysctls from the arms' profiles (A/A: canary = control). */
export function dockerSysctlsFor(s: Scenario, aa = false): HostSysctls {
  const profiles: Record<Arm, TuningProfile> = { control: s.control, canary: aa ? s.control : s.canary };
  const out: HostSysctls = {};
  for (const arm of ['control', 'canary'] as const) {
    const p = profiles[arm];
    out[arm] = {};
    for (const role of ['sender', 'receiver'] as const) {
      const applies = p.applyTo === 'both' || p.applyTo === role;
      const m: Record<string, string> = { ...s.endpointSysctls };
      if (applies) {
        Object.assign(m, p.sysctls);
        if (p.cc) m['net.ipv4.tcp_congestion_control'] = p.cc;
      }
      out[arm]![role] = m;
    }
  }
  return out;
}

/**
 * The subset Docker can set per container: namespaced net.ipv4.* keys that exist on this kernel, and a
 * congestion control only when tcp_allowed_congestion_control lists it (a namespace other than the
 * initial one cannot select a restricted one: runc would fail the container with EPERM). Anything
 * left out is still set, and read back, by the pipeline inside the namespace.
 */
export function containerSysctls(m: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  let allowed: string[] | null = null;
  for (const [k, v] of Object.entries(m ?? {})) {
    if (!/^net\.ipv4\.[\w.-]+$/.test(k)) continue;
    if (!existsSync(`/proc/sys/${k.replace(/\./g, '/')}`)) continue;
    if (k === 'net.ipv4.tcp_congestion_control') {
      allowed ??= readFileSync('/proc/sys/net/ipv4/tcp_allowed_congestion_control', 'utf8').trim().split(/\s+/);
      if (!allowed.includes(String(v))) continue;
    }
    out[k] = String(v);
  }
  return out;
}

interface Plan {
  role: string;
  ns: string;
  name: string;
  image: string;
  command?: string[];
  port?: number;
  sysctls: Record<string, string>;
  /** networks to join, first one at create time: [network name, address] */
  nets: { net: string; addr: string }[];
}

function labels(runId: string, extra: Record<string, string> = {}): Record<string, string> {
  return { [LABEL]: '1', [LABEL_RUN]: runId, [LABEL_PID]: String(process.pid), [LABEL_HOST]: hostname(), ...extra };
}

/** Find the device carrying `addr` in namespace `ns` (Docker names them eth0, eth1, ... in join order). */
async function devWithAddr(ns: string, addr: string): Promise<string> {
  const r = await run(['ip', '-n', ns, '-o', '-4', 'addr', 'show']);
  for (const line of r.stdout.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet\s+([\d.]+)\//.exec(line);
    if (m && m[2] === addr) return m[1]!.replace(/@.*$/, '');
  }
  throw new DockerError(`no device with address ${addr} in ${ns} (Docker did not attach the network as expected):\n${r.stdout.trim()}`);
}

async function removeContainers(d: Docker, runId: string, ids: Iterable<string>): Promise<void> {
  const all = new Set(ids);
  try {
    const listed = await d.listContainers({ all: true, filters: { label: [`${LABEL_RUN}=${runId}`] } });
    for (const c of listed) all.add(c.Id);
  } catch {
    /* fall back to the recorded ids */
  }
  const errors: string[] = [];
  await Promise.all(
    [...all].map(async (id) => {
      try {
        await d.getContainer(id).remove({ force: true, v: true });
      } catch (e) {
        const st = (e as { statusCode?: number }).statusCode;
        // 404: gone already; 409: removal already in progress
        if (st !== 404 && st !== 409) errors.push(`${id.slice(0, 12)}: ${dockerMessage(e)}`);
      }
    }),
  );
  if (errors.length) throw new DockerError(`could not remove containers: ${errors.join('; ')}`);
}

async function removeNetworks(d: Docker, runId: string, ids: Iterable<string>): Promise<void> {
  const all = new Set(ids);
  try {
    const listed = await d.listNetworks({ filters: { label: [`${LABEL_RUN}=${runId}`] } });
    for (const n of listed) all.add(n.Id);
  } catch {
    /* fall back to the recorded ids */
  }
  const errors: string[] = [];
  await Promise.all(
    [...all].map(async (id) => {
      try {
        await d.getNetwork(id).remove();
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode !== 404) errors.push(`${id.slice(0, 12)}: ${dockerMessage(e)}`);
      }
    }),
  );
  if (errors.length) throw new DockerError(`could not remove networks: ${errors.join('; ')}`);
}

async function createNetworks(
  d: Docker,
  runId: string,
  resources: Resources,
  created: DockerNetwork[],
  log: (s: string) => void,
): Promise<number> {
  // skip slots whose subnets Docker already holds (a concurrent docker run), retry on a lost race
  const taken = new Set<string>();
  for (const n of await call('list Docker networks', d.listNetworks())) for (const c of n.IPAM?.Config ?? []) if (c.Subnet) taken.add(c.Subnet);
  for (let slot = 0; slot < MAX_SLOTS; slot++) {
    if (HOSTS.some((_, i) => taken.has(dockerHostSubnet(i, slot).net))) continue;
    // the four networks in parallel; every call settles before a failure is acted on
    const results = await Promise.allSettled(
      HOSTS.map(async (h, i) => {
        const sn = dockerHostSubnet(i, slot);
        const name = containerName(runId, h.short);
        const bridge = `nb${runId}-${i}`;
        const net = await call(`create network ${name} (${sn.net})`, () =>
          d.createNetwork({
            Name: name,
            CheckDuplicate: true,
            Driver: 'bridge',
            Internal: true,
            EnableIPv6: false,
            Attachable: false,
            Labels: labels(runId, { [LABEL_ROLE]: h.short }),
            IPAM: { Driver: 'default', Config: [{ Subnet: sn.net, Gateway: sn.gateway }] },
            Options: {
              'com.docker.network.bridge.name': bridge,
              'com.docker.network.bridge.enable_ip_masquerade': 'false',
              'com.docker.network.driver.mtu': '1500',
            },
          }),
        );
        resources.record((s) => s.docker.networks.push(net.id));
        return { id: net.id, name, subnet: sn.net, bridge };
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (!failed) {
      created.push(...results.map((r) => (r as PromiseFulfilledResult<DockerNetwork>).value));
      if (slot > 0) log(`docker: host subnets 198.18.${slot * HOSTS.length}-${slot * HOSTS.length + HOSTS.length - 1}.0/24 (lower ones are in use)`);
      return slot;
    }
    const got = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.id] : []));
    const e = failed.reason as unknown;
    if (!(e instanceof DockerError) || !/overlap/i.test(e.dockerMessage ?? '')) {
      created.push(...results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])));
      throw e;
    }
    // lost a race for this slot: give back what we got and try the next one
    await removeNetworks(d, runId, got).catch(() => {});
    for (let i = 0; i < HOSTS.length; i++) taken.add(dockerHostSubnet(i, slot).net);
  }
  throw new DockerError(`no free host subnets in 198.18.0.0/16 for the Docker networks (${MAX_SLOTS} concurrent runs?): run \`netab gc\``);
}

/** Build the scenario's topology out of containers; same contract as the netns createTestbed. */
export async function createDockerTestbed(
  scenario: Scenario,
  engine: ImpairmentEngine,
  runId: string,
  resources: Resources,
  seed: number,
  log: (s: string) => void,
  opts: DockerTestbedOptions = {},
): Promise<DockerTestbed> {
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
  const images = new Set([defaultImage, hostImage, ...(ep.receiver ? [ep.receiver.image] : []), ...(ep.sender ? [ep.sender.image] : [])]);
  for (const img of images) {
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

  // undo steps, registered before anything exists; they also find by label what a failed call left
  const containerIds: string[] = [];
  const networks: DockerNetwork[] = [];
  const attached: string[] = [];
  resources.defer(`remove Docker networks of run ${runId}`, () => removeNetworks(d, runId, networks.map((n) => n.id)));
  resources.defer(`remove Docker containers of run ${runId}`, () => removeContainers(d, runId, containerIds));
  resources.defer(`detach namespaces of run ${runId}`, async () => {
    for (const ns of attached.splice(0).reverse()) await deleteNamespace(ns);
  });

  const slot = await createNetworks(d, runId, resources, networks, log);
  // routed traffic must cross each host-link bridge despite Docker's internal-network isolation
  if (await dockerUserChain()) {
    for (const n of networks) {
      resources.defer(`remove iptables rule for ${n.bridge}`, () => deleteBridgeRule(n.bridge, runId));
      await insertBridgeRule(n.bridge, runId);
    }
  }
  const hostIdx = new Map(HOSTS.map((h, i) => [h.short, i]));
  const netOf = (short: string) => networks[hostIdx.get(short)!]!.name;
  const sub = (i: number) => dockerHostSubnet(i, slot);

  // what to run where
  const plans: Plan[] = [];
  for (const r of t.routers) {
    const nets = HOSTS.flatMap((h, i) => ((h.role === 'sender' ? t.sender : t.receiver) === r ? [{ net: netOf(h.short), addr: sub(i).router }] : []));
    plans.push({
      role: `r-${r}`,
      ns: nsName(runId, `r-${r}`),
      name: containerName(runId, `r-${r}`),
      image: defaultImage,
      command: ENDPOINT_DEFAULT_COMMAND,
      sysctls: { 'net.ipv4.ip_forward': '1', 'net.ipv4.conf.all.rp_filter': '0', 'net.ipv4.conf.default.rp_filter': '0' },
      nets,
    });
  }
  for (const [i, h] of HOSTS.entries()) {
    const custom = h.role === 'receiver' ? ep.receiver : ep.sender;
    plans.push({
      role: h.short,
      ns: nsName(runId, h.short),
      name: containerName(runId, h.short),
      image: custom?.image ?? hostImage,
      command: custom ? custom.command : ENDPOINT_DEFAULT_COMMAND,
      port: custom?.port,
      sysctls: containerSysctls(opts.hostSysctls?.[h.arm]?.[h.role]),
      nets: [{ net: netOf(h.short), addr: sub(i).host }],
    });
  }

  // create (in parallel), join the remaining networks, start, attach the namespaces
  const containers: DockerContainer[] = [];
  await settleAll(
    plans.map(async (p) => {
      const [first, ...rest] = p.nets;
      const c = await call(`create container ${p.name} (image ${p.image})`, () =>
        d.createContainer({
          name: p.name,
          Image: p.image,
          ...(p.command ? { Cmd: p.command } : {}),
          Hostname: p.role,
          Labels: labels(runId, { [LABEL_ROLE]: p.role, [LABEL_NS]: p.ns }),
          HostConfig: {
            CapAdd: ['NET_ADMIN'],
            Privileged: false,
            AutoRemove: false,
            NetworkMode: first ? first.net : 'none',
            Sysctls: p.sysctls,
            RestartPolicy: { Name: 'no' },
          },
          NetworkingConfig: first ? { EndpointsConfig: { [first.net]: { IPAMConfig: { IPv4Address: first.addr } } } } : undefined,
        }),
      );
      containerIds.push(c.id);
      resources.record((s) => s.docker.containers.push(c.id));
      for (const n of rest) {
        await call(`connect ${p.name} to network ${n.net}`, () =>
          d.getNetwork(n.net).connect({ Container: c.id, EndpointConfig: { IPAMConfig: { IPv4Address: n.addr } } }),
        );
      }
      await call(`start container ${p.name}`, () => c.start());
      const info = await call(`inspect container ${p.name}`, () => c.inspect());
      if (!info.State.Running || !info.State.Pid) await exitedEarly(d, c.id, p);
      containers.push({ id: c.id, name: p.name, role: p.role, ns: p.ns, image: p.image, pid: info.State.Pid });
    }),
  );
  const byRole = new Map(containers.map((c) => [c.role, c]));

  for (const p of plans) {
    const c = byRole.get(p.role)!;
    resources.record((s) => s.namespaces.push(p.ns));
    attached.push(p.ns);
    const r = await run(['ip', 'netns', 'attach', p.ns, String(c.pid)], { reject: false });
    if (r.exitCode !== 0) {
      attached.pop();
      // the container may have died between inspect and attach
      const info = await d.getContainer(c.id).inspect().catch(() => null);
      if (info && !info.State.Running) await exitedEarly(d, c.id, p);
      throw new DockerError(`cannot attach the namespace of ${p.name} (pid ${c.pid}) as ${p.ns}: ${r.stderr.trim()}`);
    }
    await run(['ip', '-n', p.ns, 'link', 'set', 'lo', 'up']);
    await run(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], { netns: p.ns, reject: false });
  }

  const routers: Record<string, string> = {};
  for (const r of t.routers) {
    routers[r] = nsName(runId, `r-${r}`);
    await run(['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0'], {
      netns: routers[r],
    });
  }

  // router <-> router links through the impairment engine, as in the netns backend
  const links = await createRouterLinks(scenario, engine, runId, routers, resources, seed, log);

  // hosts: default route via the router (Docker's internal networks have none), offloads off both ends
  const hosts = { control: {}, canary: {} } as Record<Arm, Record<Role, Host>>;
  for (const [i, h] of HOSTS.entries()) {
    const ns = nsName(runId, h.short);
    const router = h.role === 'sender' ? t.sender : t.receiver;
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

  await installRouterRoutes(
    t,
    routers,
    HOSTS.map((h, i) => ({ net: sub(i).net, router: h.role === 'sender' ? t.sender : t.receiver })),
  );

  // endpoint servers: wait until they listen; a container that exited is an error with its logs
  await settleAll(plans.filter((p) => p.port).map((p) => waitReady(d, byRole.get(p.role)!, p, opts.readyTimeoutMs ?? 15_000)));
  for (const c of containers) {
    const info = await call(`inspect container ${c.name}`, () => d.getContainer(c.id).inspect());
    if (!info.State.Running) await exitedEarly(d, c.id, plans.find((p) => p.role === c.role)!);
  }

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

/**
 * Like Promise.all, but waits for every call to finish before rethrowing the first failure, so the undo
 * steps never run while a create call is still in flight (its container would escape the sweep).
 */
async function settleAll(ps: Promise<unknown>[]): Promise<void> {
  const rs = await Promise.allSettled(ps);
  const bad = rs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (bad) throw bad.reason;
}

async function exitedEarly(d: Docker, id: string, p: Plan): Promise<never> {
  let state = '';
  try {
    const i = await d.getContainer(id).inspect();
    state = `exit code ${i.State.ExitCode}${i.State.Error ? `, ${i.State.Error}` : ''}${i.State.OOMKilled ? ', OOM-killed' : ''}`;
  } catch (e) {
    state = dockerMessage(e);
  }
  const logs = await containerLogs(d, id);
  throw new DockerError(
    `container ${p.name} (image ${p.image}${p.command ? `, command ${JSON.stringify(p.command)}` : ''}) exited early (${state})` +
      (logs ? `; its output:\n${logs.split('\n').slice(-10).join('\n')}` : '; it printed nothing'),
    state,
  );
}

async function waitReady(d: Docker, c: DockerContainer, p: Plan, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await run(['ss', '-Hltn', `sport = :${p.port}`], { netns: c.ns, reject: false });
    if (r.stdout.trim()) return;
    let info;
    try {
      info = await d.getContainer(c.id).inspect();
    } catch (e) {
      throw toDockerError(e, `inspect container ${c.name}`);
    }
    if (!info.State.Running) await exitedEarly(d, c.id, p);
    if (Date.now() > until) {
      const logs = await containerLogs(d, c.id);
      throw new DockerError(
        `container ${p.name} (image ${p.image}) runs but nothing listens on TCP port ${p.port} after ${timeoutMs} ms` +
          (logs ? `; its output:\n${logs}` : ''),
      );
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}
