/**
 * Garbage collection after a crash: every run keeps a state file (/run/netab/<run id>.json) listing
 * its namespaces, processes (with their start times) and root sysctl changes. A run whose owner
 * process is gone is swept: processes killed, namespaces deleted, sysctls restored.
 *
 * Only what netab created: a namespace is removed when a run's state file lists it or its name carries
 * the id of a run that has a state file (nb-<run id>-..., covering a crash between `ip netns add` and
 * the record); a look-alike nb-xxxxxx-... that no run recorded is the user's and is left alone. A
 * recorded pid is killed only when its start time (/proc/<pid>/stat field 22) still matches the one
 * recorded, so a process that reused the pid is never touched.
 */
import { readFileSync } from 'node:fs';
import { run } from '../../exec/index.js';
import { NS_RE, ownerAlive, pidAlive, pidStartTime, readStates, removeState, type RunState } from '../../exec/resources.js';
import { deleteNamespace } from './index.js';

export interface Leftovers {
  runs: { runId: string; pid: number; alive: boolean; namespaces: string[] }[];
  /** named like netab's (nb-<6 hex>-...) but recorded by no run: not netab's to remove */
  orphanNamespaces: string[];
}

/** The namespaces of `states` among `existing`: listed in a state file, or named after a recorded run id. */
export function ownedNamespaces(states: RunState[], existing: string[]): Map<string, string> {
  const owner = new Map<string, string>();
  const ids = new Set(states.map((s) => s.runId));
  for (const s of states) for (const ns of s.namespaces ?? []) if (existing.includes(ns)) owner.set(ns, s.runId);
  for (const ns of existing) {
    const m = NS_RE.exec(ns);
    if (m && ids.has(m[1]!) && !owner.has(ns)) owner.set(ns, m[1]!);
  }
  return owner;
}

export async function listNamespaces(): Promise<string[]> {
  const r = await run(['ip', 'netns', 'list'], { reject: false });
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

export async function findLeftovers(): Promise<Leftovers> {
  const states = readStates();
  const all = await listNamespaces();
  const owned = ownedNamespaces(states, all);
  const runs = states.map((s) => ({
    runId: s.runId,
    pid: s.pid,
    alive: ownerAlive(s),
    namespaces: all.filter((n) => owned.get(n) === s.runId),
  }));
  const orphanNamespaces = all.filter((n) => NS_RE.test(n) && !owned.has(n));
  return { runs, orphanNamespaces };
}

/** Remove leftovers of runs whose process is gone (or of all runs with force). Returns what was removed. */
export async function gc(opts: { force?: boolean; log?: (s: string) => void } = {}): Promise<string[]> {
  const log = opts.log ?? (() => {});
  const removed: string[] = [];
  const states = readStates();
  const live = new Set(states.filter((s) => ownerAlive(s) && !opts.force).map((s) => s.runId));
  const owned = ownedNamespaces(states, await listNamespaces());
  for (const s of states) {
    if (live.has(s.runId)) {
      log(`run ${s.runId} is still running (pid ${s.pid}); left alone (use --force to remove anyway)`);
      continue;
    }
    await sweepState(s, removed);
    for (const [ns, runId] of owned) {
      if (runId !== s.runId || s.namespaces?.includes(ns)) continue;
      await deleteNamespace(ns);
      removed.push(`namespace ${ns}`);
    }
    removeState(s.runId);
  }
  for (const r of removed) log(`removed ${r}`);
  const foreign = (await listNamespaces()).filter((n) => NS_RE.test(n) && !owned.has(n));
  for (const ns of foreign)
    log(`namespace ${ns} looks like netab's but no run recorded it: left alone (\`ip netns delete ${ns}\` if it is a leftover)`);
  return removed;
}

/** Alive and not a zombie (a killed process whose new parent has not reaped it yet is gone for us). */
function running(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function sweepState(s: RunState, removed: string[]): Promise<void> {
  const killed: number[] = [];
  for (const pid of s.pids ?? []) {
    // only the very process netab started: a pid reused since the crash has another start time (a pid
    // recorded without one, by an older netab, is left to the namespace deletion below)
    const recorded = s.pidStarts?.[pid];
    if (recorded !== undefined && running(pid) && pidStartTime(pid) === recorded) {
      try {
        process.kill(pid, 'SIGKILL');
        killed.push(pid);
        removed.push(`process ${pid}`);
      } catch {
        /* gone */
      }
    }
  }
  // SIGKILL is asynchronous: wait (up to 5 s) until they are really gone before reporting success
  const until = Date.now() + 5000;
  while (killed.some(running) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  for (const pid of killed.filter(running)) removed.push(`process ${pid} did not exit after SIGKILL`);
  for (const ns of s.namespaces ?? []) {
    const r = await run(['ip', 'netns', 'pids', ns], { reject: false });
    if (r.exitCode === 0 || (await listNamespaces()).includes(ns)) {
      await deleteNamespace(ns);
      removed.push(`namespace ${ns}`);
    }
  }
  for (const sc of s.sysctls ?? []) {
    await run(['sysctl', '-qw', `${sc.key}=${sc.restore}`], { reject: false });
    removed.push(`sysctl ${sc.key} restored to "${sc.restore}"`);
  }
}
