/**
 * Garbage collection after a crash: every run keeps a state file (/run/netab/<run id>.json) listing
 * its namespaces, processes and root sysctl changes; namespaces are also recognisable by name
 * (nb-<run id>-...). A run whose owner process is gone is swept: processes killed, namespaces
 * deleted, sysctls restored.
 */
import { readFileSync } from 'node:fs';
import { run } from '../../exec/index.js';
import { NS_RE, pidAlive, readStates, removeState, type RunState } from '../../exec/resources.js';
import { deleteNamespace } from './index.js';

export interface Leftovers {
  runs: { runId: string; pid: number; alive: boolean; namespaces: string[] }[];
  orphanNamespaces: string[];
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
  const nss = (await listNamespaces()).filter((n) => NS_RE.test(n));
  const byRun = new Map(states.map((s) => [s.runId, s]));
  const runs = states.map((s) => ({
    runId: s.runId,
    pid: s.pid,
    alive: pidAlive(s.pid) && s.pid !== process.pid,
    namespaces: nss.filter((n) => NS_RE.exec(n)![1] === s.runId),
  }));
  const orphanNamespaces = nss.filter((n) => !byRun.has(NS_RE.exec(n)![1]!));
  return { runs, orphanNamespaces };
}

/** Remove leftovers of runs whose process is gone (or of all runs with force). Returns what was removed. */
export async function gc(opts: { force?: boolean; log?: (s: string) => void } = {}): Promise<string[]> {
  const log = opts.log ?? (() => {});
  const removed: string[] = [];
  const states = readStates();
  const live = new Set(states.filter((s) => pidAlive(s.pid) && s.pid !== process.pid && !opts.force).map((s) => s.runId));
  for (const s of states) {
    if (live.has(s.runId)) {
      log(`run ${s.runId} is still running (pid ${s.pid}); left alone (use --force to remove anyway)`);
      continue;
    }
    await sweepState(s, removed);
    removeState(s.runId);
  }
  for (const ns of await listNamespaces()) {
    const m = NS_RE.exec(ns);
    if (!m || live.has(m[1]!)) continue;
    await deleteNamespace(ns);
    removed.push(`namespace ${ns}`);
  }
  for (const r of removed) log(`removed ${r}`);
  return removed;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
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
  for (const pid of s.pids) {
    // only processes netab starts (a pid may have been reused since the crash)
    if (running(pid) && /relay-main|probe-main|iperf3|netab|^sleep infinity/.test(cmdline(pid))) {
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
  for (const ns of s.namespaces) {
    const r = await run(['ip', 'netns', 'pids', ns], { reject: false });
    if (r.exitCode === 0 || (await listNamespaces()).includes(ns)) {
      await deleteNamespace(ns);
      removed.push(`namespace ${ns}`);
    }
  }
  for (const sc of s.sysctls) {
    await run(['sysctl', '-qw', `${sc.key}=${sc.restore}`], { reject: false });
    removed.push(`sysctl ${sc.key} restored to "${sc.restore}"`);
  }
}
