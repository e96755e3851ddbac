/**
 * What a docker testbed runs where, before anything exists: container names and labels, the host
 * subnets of each concurrent-run slot, per-container sysctls, and one Plan per container.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Scenario, Topology, TuningProfile } from '../../scenario/model.js';
import { ARM_HOSTS, hostSubnet, nsName, routerOf } from '../plan.js';
import type { Arm, Role } from '../types.js';
import { LABEL, LABEL_HOST, LABEL_PID, LABEL_RUN } from './client.js';
import { ENDPOINT_DEFAULT_COMMAND } from './image.js';

/** One endpoint container's image: `command` replaces the image's own (omit it to run the image's server). */
export interface DockerEndpointSpec {
  image: string;
  command?: string[];
  /** TCP port the command listens on: setup waits until it does (and fails if the container exits) */
  port?: number;
}

/** The scenario's `docker:` section. */
export interface DockerScenarioOptions {
  /** image of every endpoint host (default netab/endpoint:<version>); it runs `sleep infinity` */
  image?: string;
  /** the senders of both arms run this instead: the tuned server side, e.g. your HTTP server or edge proxy */
  sender?: DockerEndpointSpec;
  /** the receivers of both arms run this instead (e.g. an HTTP server) */
  receiver?: DockerEndpointSpec;
}

export type HostSysctls = Partial<Record<Arm, Partial<Record<Role, Record<string, string>>>>>;

export function containerName(runId: string, role: string): string {
  return `netab-${runId}-${role}`;
}

/**
 * Host subnets of a docker testbed. Slot 0 is exactly hostSubnet(i) (198.18.<i>.0/24); a concurrent
 * docker run holds its subnets in Docker's address space, so the next run takes slot k (198.18.<4k+i>).
 */
export function dockerHostSubnet(i: number, slot = 0): { net: string; router: string; host: string; gateway: string; index: number } {
  const n = slot * ARM_HOSTS.length + i;
  const s = hostSubnet(n);
  return { ...s, gateway: `198.18.${n}.254`, index: n };
}
export const MAX_SLOTS = Math.floor(256 / ARM_HOSTS.length);

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

export interface Plan {
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

export function labels(runId: string, extra: Record<string, string> = {}): Record<string, string> {
  return { [LABEL]: '1', [LABEL_RUN]: runId, [LABEL_PID]: String(process.pid), [LABEL_HOST]: hostname(), ...extra };
}

/**
 * One Plan per router (joining the networks of the hosts behind it) and per host. `netOf` names a
 * host's network, `sub` gives host slot i's subnet.
 */
export function planContainers(
  t: Topology,
  runId: string,
  images: { router: string; host: string },
  ep: DockerScenarioOptions,
  hostSysctls: HostSysctls | undefined,
  netOf: (short: string) => string,
  sub: (i: number) => { router: string; host: string },
): Plan[] {
  const plans: Plan[] = [];
  for (const r of t.routers) {
    const nets = ARM_HOSTS.flatMap((h, i) => (routerOf(t, h.role) === r ? [{ net: netOf(h.short), addr: sub(i).router }] : []));
    plans.push({
      role: `r-${r}`,
      ns: nsName(runId, `r-${r}`),
      name: containerName(runId, `r-${r}`),
      image: images.router,
      command: ENDPOINT_DEFAULT_COMMAND,
      sysctls: { 'net.ipv4.ip_forward': '1', 'net.ipv4.conf.all.rp_filter': '0', 'net.ipv4.conf.default.rp_filter': '0' },
      nets,
    });
  }
  for (const [i, h] of ARM_HOSTS.entries()) {
    const custom = h.role === 'receiver' ? ep.receiver : ep.sender;
    plans.push({
      role: h.short,
      ns: nsName(runId, h.short),
      name: containerName(runId, h.short),
      image: custom?.image ?? images.host,
      command: custom ? custom.command : ENDPOINT_DEFAULT_COMMAND,
      port: custom?.port,
      sysctls: containerSysctls(hostSysctls?.[h.arm]?.[h.role]),
      nets: [{ net: netOf(h.short), addr: sub(i).host }],
    });
  }
  return plans;
}
