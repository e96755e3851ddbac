/**
 * Crash recovery for the Docker backend. Every container and network netab creates carries the labels
 * netab=1, netab.run=<run id>, netab.pid=<owner pid> and netab.host=<hostname>; the run's state file
 * (/run/netab/<run id>.json) lists them too. A run is alive when this process owns it, or its state
 * file's pid is alive, or (no state file, e.g. a read-only /run) the labelled owner pid on this host is
 * alive. Everything of a run that is not alive is removed: containers (forced), the netns names
 * attached to them, then the networks. `netab gc` calls dockerGc; createDockerTestbed sweeps the same
 * way before it builds (a crash costs nothing more than the next run's first second).
 */
import { hostname } from 'node:os';
import { run } from '../../exec/index.js';
import { ownerAlive, pidAlive, readStates, RUN_ID_RE, type RunState } from '../../exec/resources.js';
import { deleteNamespace } from '../netns/index.js';
import { dockerClient, LABEL, LABEL_HOST, LABEL_NS, LABEL_PID, LABEL_RUN, pingDocker, type Docker } from './client.js';
import { DockerError, dockerMessage } from './errors.js';
import { deleteRuleSpec, listRules } from './iptables.js';

/** Runs whose testbed this process is building or using (never swept from here). */
const liveHere = new Set<string>();
export function markRunLive(runId: string): void {
  liveHere.add(runId);
}
export function unmarkRunLive(runId: string): void {
  liveHere.delete(runId);
}

export interface DockerGcOptions {
  /** remove runs that still look alive too */
  force?: boolean;
  log?: (s: string) => void;
  docker?: Docker;
}

interface RunLeftovers {
  runId: string;
  labels: Record<string, string>;
  containers: { id: string; name: string; ns?: string }[];
  networks: { id: string; name: string }[];
}

/** Why a run counts as alive, or null when it does not. */
export function runAliveReason(runId: string, labels: Record<string, string>, state: RunState | undefined): string | null {
  if (liveHere.has(runId)) return 'in use by this process';
  if (state && ownerAlive(state)) return `its process ${state.pid} is running`;
  const host = labels[LABEL_HOST];
  if (host && host !== hostname()) return `it belongs to host ${host}`;
  const pid = Number(labels[LABEL_PID]);
  if (!state && Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) return `its process ${pid} is running`;
  return null;
}

async function leftovers(d: Docker): Promise<RunLeftovers[]> {
  const byRun = new Map<string, RunLeftovers>();
  const get = (runId: string, labels: Record<string, string>) => {
    let r = byRun.get(runId);
    if (!r) byRun.set(runId, (r = { runId, labels, containers: [], networks: [] }));
    return r;
  };
  for (const c of await d.listContainers({ all: true, filters: { label: [`${LABEL}=1`] } })) {
    const runId = c.Labels?.[LABEL_RUN];
    if (!runId || !RUN_ID_RE.test(runId)) continue;
    get(runId, c.Labels).containers.push({ id: c.Id, name: (c.Names?.[0] ?? c.Id).replace(/^\//, ''), ns: c.Labels[LABEL_NS] });
  }
  for (const n of await d.listNetworks({ filters: { label: [`${LABEL}=1`] } })) {
    const runId = n.Labels?.[LABEL_RUN];
    if (!runId || !RUN_ID_RE.test(runId)) continue;
    get(runId, n.Labels!).networks.push({ id: n.Id, name: n.Name });
  }
  return [...byRun.values()];
}

async function attachedNamespaces(): Promise<Set<string>> {
  const r = await run(['ip', 'netns', 'list'], { reject: false });
  return new Set(
    r.stdout
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0] ?? '')
      .filter(Boolean),
  );
}

async function sweep(d: Docker, opts: { force: boolean; log: (s: string) => void }): Promise<string[]> {
  const removed: string[] = [];
  const errors: string[] = [];
  const states = new Map(readStates().map((s) => [s.runId, s]));
  const runs = await leftovers(d);
  const nss = runs.length ? await attachedNamespaces() : new Set<string>();
  for (const r of runs) {
    const why = runAliveReason(r.runId, r.labels, states.get(r.runId));
    if (why && (!opts.force || liveHere.has(r.runId))) {
      opts.log(`docker: run ${r.runId} left alone: ${why}${liveHere.has(r.runId) ? '' : ' (use --force to remove anyway)'}`);
      continue;
    }
    await Promise.all(
      r.containers.map(async (c) => {
        try {
          await d.getContainer(c.id).remove({ force: true, v: true });
          removed.push(`container ${c.name}`);
        } catch (e) {
          if ((e as { statusCode?: number }).statusCode !== 404) errors.push(`container ${c.name}: ${dockerMessage(e)}`);
        }
      }),
    );
    for (const c of r.containers) {
      if (c.ns && nss.has(c.ns)) {
        await deleteNamespace(c.ns);
        removed.push(`namespace ${c.ns}`);
      }
    }
    for (const n of r.networks) {
      try {
        await d.getNetwork(n.id).remove();
        removed.push(`network ${n.name}`);
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode !== 404) errors.push(`network ${n.name}: ${dockerMessage(e)}`);
      }
    }
  }
  // iptables rules of runs that are not alive (also when their containers and networks are gone)
  const labelsOf = new Map(runs.map((r) => [r.runId, r.labels]));
  for (const rule of await listRules()) {
    const why = runAliveReason(rule.runId, labelsOf.get(rule.runId) ?? {}, states.get(rule.runId));
    if (why && (!opts.force || liveHere.has(rule.runId))) continue;
    if (await deleteRuleSpec(rule.spec)) removed.push(`iptables rule ${rule.spec[1]} (run ${rule.runId})`);
  }
  for (const x of removed) opts.log(`removed ${x}`);
  for (const e of errors) opts.log(`docker: could not remove ${e}`);
  return removed;
}

/**
 * `netab gc`: remove every container and network labelled netab=1 whose run is not alive (all of them
 * with force, except runs of this very process). Returns what was removed. An unreachable engine is
 * not an error here (nothing of ours can be running in it): it is logged and [] returned.
 */
export async function dockerGc(opts: DockerGcOptions = {}): Promise<string[]> {
  const log = opts.log ?? (() => {});
  const d = opts.docker ?? dockerClient();
  try {
    await pingDocker(d, 3000);
  } catch (e) {
    log(`docker: ${(e as Error).message.split('. ')[0]}; nothing to collect there`);
    return [];
  }
  try {
    return await sweep(d, { force: Boolean(opts.force), log });
  } catch (e) {
    throw e instanceof DockerError ? e : new DockerError(`docker gc failed: ${dockerMessage(e)}`, dockerMessage(e));
  }
}

/** The sweep at the start of a docker testbed: dead runs only, never fatal. */
export async function sweepDeadRuns(d: Docker, log: (s: string) => void): Promise<string[]> {
  try {
    return await sweep(d, {
      force: false,
      log: (s) => (s.startsWith('removed ') ? log(`docker: leftover of a crashed run ${s}`) : undefined),
    });
  } catch (e) {
    log(`docker: sweeping leftovers of crashed runs failed: ${dockerMessage(e)}`);
    return [];
  }
}
