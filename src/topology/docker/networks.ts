/** The host-link networks of a docker testbed: one --internal network per host, in a free slot. */
import type { Resources } from '../../exec/resources.js';
import { ARM_HOSTS } from '../plan.js';
import { LABEL_ROLE, LABEL_RUN, type Docker } from './client.js';
import { docker as call, DockerError, dockerMessage } from './errors.js';
import { containerName, dockerHostSubnet, labels, MAX_SLOTS } from './plan.js';

export interface DockerNetwork {
  id: string;
  name: string;
  subnet: string;
  /** the Linux bridge in the root namespace */
  bridge: string;
}

export async function removeNetworks(d: Docker, runId: string, ids: Iterable<string>): Promise<void> {
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

/** Create the four networks in the lowest free slot; returns the slot. */
export async function createNetworks(
  d: Docker,
  runId: string,
  resources: Resources,
  created: DockerNetwork[],
  log: (s: string) => void,
): Promise<number> {
  // skip slots whose subnets Docker already holds (a concurrent docker run), retry on a lost race
  const taken = new Set<string>();
  for (const n of await call('list Docker networks', d.listNetworks()))
    for (const c of n.IPAM?.Config ?? []) if (c.Subnet) taken.add(c.Subnet);
  for (let slot = 0; slot < MAX_SLOTS; slot++) {
    if (ARM_HOSTS.some((_, i) => taken.has(dockerHostSubnet(i, slot).net))) continue;
    // the four networks in parallel; every call settles before a failure is acted on
    const results = await Promise.allSettled(
      ARM_HOSTS.map(async (h, i) => {
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
      if (slot > 0)
        log(
          `docker: host subnets 198.18.${slot * ARM_HOSTS.length}-${slot * ARM_HOSTS.length + ARM_HOSTS.length - 1}.0/24 (lower ones are in use)`,
        );
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
    for (let i = 0; i < ARM_HOSTS.length; i++) taken.add(dockerHostSubnet(i, slot).net);
  }
  throw new DockerError(`no free host subnets in 198.18.0.0/16 for the Docker networks (${MAX_SLOTS} concurrent runs?): run \`netab gc\``);
}
