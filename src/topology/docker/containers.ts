/** The containers of a docker testbed: create, start, attach their namespaces, wait for servers, remove. */
import { readFileSync } from 'node:fs';
import { run } from '../../exec/index.js';
import { listensOn } from '../../exec/listen.js';
import type { Resources } from '../../exec/resources.js';
import { deleteNamespace } from '../netns/index.js';
import { settleAll } from '../plan.js';
import { containerLogs, LABEL_NS, LABEL_ROLE, LABEL_RUN, type Docker } from './client.js';
import { docker as call, DockerError, dockerMessage, toDockerError } from './errors.js';
import { labels, type Plan } from './plan.js';

export interface DockerContainer {
  id: string;
  name: string;
  role: string;
  /** the attached netns name (Host.ns / Testbed.routers value) */
  ns: string;
  image: string;
  pid: number;
}

/** Create (in parallel), join the remaining networks and start every planned container. */
export async function createContainers(
  d: Docker,
  runId: string,
  plans: Plan[],
  resources: Resources,
  containerIds: string[],
): Promise<DockerContainer[]> {
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
  return containers;
}

/** Attach each container's network namespace as its plan's netns name; lo up, no IPv6. */
export async function attachNamespaces(
  d: Docker,
  plans: Plan[],
  containers: DockerContainer[],
  resources: Resources,
  attached: string[],
): Promise<void> {
  const byRole = new Map(containers.map((c) => [c.role, c]));
  for (const p of plans) {
    const c = byRole.get(p.role)!;
    resources.record((s) => s.namespaces.push(p.ns));
    attached.push(p.ns);
    const r = await run(['ip', 'netns', 'attach', p.ns, String(c.pid)], { reject: false });
    if (r.exitCode !== 0) {
      attached.pop();
      // the container may have died between inspect and attach
      const info = await d
        .getContainer(c.id)
        .inspect()
        .catch(() => null);
      if (info && !info.State.Running) await exitedEarly(d, c.id, p);
      throw new DockerError(`cannot attach the namespace of ${p.name} (pid ${c.pid}) as ${p.ns}: ${r.stderr.trim()}`);
    }
    await run(['ip', '-n', p.ns, 'link', 'set', 'lo', 'up']);
    await run(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], {
      netns: p.ns,
      reject: false,
    });
  }
}

/** Detach the namespaces (last attached first). */
export async function detachNamespaces(attached: string[]): Promise<void> {
  for (const ns of attached.splice(0).reverse()) await deleteNamespace(ns);
}

/** Wait until each endpoint server listens; a container that exited is an error with its logs. */
export async function waitServers(d: Docker, plans: Plan[], containers: DockerContainer[], readyTimeoutMs: number): Promise<void> {
  const byRole = new Map(containers.map((c) => [c.role, c]));
  await settleAll(plans.flatMap((p) => (p.port ? [waitReady(d, byRole.get(p.role)!, p, p.port, readyTimeoutMs)] : [])));
  for (const c of containers) {
    const info = await call(`inspect container ${c.name}`, () => d.getContainer(c.id).inspect());
    if (!info.State.Running) await exitedEarly(d, c.id, plans.find((p) => p.role === c.role)!);
  }
}

export /** Find the device carrying `addr` in namespace `ns` (Docker names them eth0, eth1, ... in join order). */
async function devWithAddr(ns: string, addr: string): Promise<string> {
  const r = await run(['ip', '-n', ns, '-o', '-4', 'addr', 'show']);
  for (const line of r.stdout.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet\s+([\d.]+)\//.exec(line);
    if (m && m[2] === addr) return m[1]!.replace(/@.*$/, '');
  }
  throw new DockerError(`no device with address ${addr} in ${ns} (Docker did not attach the network as expected):\n${r.stdout.trim()}`);
}

export async function removeContainers(d: Docker, runId: string, ids: Iterable<string>): Promise<void> {
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

/**
 * Whether the container's namespace has a TCP listener on `port`, from its init's /proc/<pid>/net
 * tables read here (no `ss` started per poll). A container that is gone reads as not listening; the
 * caller's inspect says why.
 */
function listensIn(pid: number, port: number): boolean {
  for (const f of ['tcp', 'tcp6']) {
    try {
      if (listensOn(readFileSync(`/proc/${pid}/net/${f}`, 'utf8'), port, 'tcp')) return true;
    } catch {
      /* gone */
    }
  }
  return false;
}

async function waitReady(d: Docker, c: DockerContainer, p: Plan, port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (listensIn(c.pid, port)) return;
    let info: Awaited<ReturnType<ReturnType<Docker['getContainer']>['inspect']>>;
    try {
      info = await d.getContainer(c.id).inspect();
    } catch (e) {
      throw toDockerError(e, `inspect container ${c.name}`);
    }
    if (!info.State.Running) await exitedEarly(d, c.id, p);
    if (Date.now() > until) {
      const logs = await containerLogs(d, c.id);
      throw new DockerError(
        `container ${p.name} (image ${p.image}) runs but nothing listens on TCP port ${port} after ${timeoutMs} ms` +
          (logs ? `; its output:\n${logs}` : ''),
      );
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}
