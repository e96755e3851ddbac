/**
 * Resource hygiene for everything a run creates. Each creation step first registers its undo on a
 * stack (so a failure half-way still tears down what exists) and records the resource in a state file
 * under /run/netab/<run id>.json, which `netab gc` reads after a crash.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const STATE_DIR = process.env.NETAB_STATE_DIR ?? '/run/netab';
/** Namespaces are named nb-<run id>-<role>; run ids are 6 lowercase hex digits. */
export const NS_PREFIX = 'nb-';
export const RUN_ID_RE = /^[0-9a-f]{6}$/;
export const NS_RE = /^nb-([0-9a-f]{6})-[a-z0-9-]+$/;

export interface RunState {
  runId: string;
  pid: number;
  /** the owner's start time (/proc/<pid>/stat field 22): a reused pid is not the owner */
  pidStart?: string;
  startedAt: string;
  namespaces: string[];
  pids: number[];
  /**
   * Start time of each recorded process (pid -> /proc/<pid>/stat field 22), taken when it is recorded:
   * `netab gc` kills a pid only when its start time still matches (never a process that reused it).
   */
  pidStarts?: Record<string, string>;
  /** root-namespace sysctls changed by the run, with the value to restore */
  sysctls: { key: string; restore: string }[];
  docker: { containers: string[]; networks: string[] };
}

export function newRunId(): string {
  return Math.floor(Math.random() * 0xffffff)
    .toString(16)
    .padStart(6, '0');
}

type Undo = { what: string; fn: () => Promise<void> | void; group?: string };

export class Resources {
  private readonly stack: Undo[] = [];
  readonly state: RunState;
  private closed = false;

  constructor(
    public readonly runId: string,
    private readonly log: (s: string) => void = () => {},
  ) {
    this.state = {
      runId,
      pid: process.pid,
      pidStart: pidStartTime(process.pid) ?? undefined,
      startedAt: new Date().toISOString(),
      namespaces: [],
      pids: [],
      pidStarts: {},
      sysctls: [],
      docker: { containers: [], networks: [] },
    };
    this.save();
  }

  /**
   * Register an undo step; steps run in reverse order on close(). Steps of one `group` that follow
   * each other on the stack run at once (deleting namespaces: each is independent of the others).
   */
  defer(what: string, fn: () => Promise<void> | void, group?: string): void {
    this.stack.push({ what, fn, group });
  }

  /** Change the recorded state (and save it); a pid added to `pids` gets its start time recorded. */
  record(mut: (s: RunState) => void): void {
    mut(this.state);
    const starts = (this.state.pidStarts ??= {});
    for (const pid of this.state.pids) {
      if (starts[pid] !== undefined) continue;
      const t = pidStartTime(pid);
      if (t !== null) starts[pid] = t;
    }
    this.save();
  }

  private save(): void {
    try {
      mkdirSync(STATE_DIR, { recursive: true });
      const f = join(STATE_DIR, `${this.runId}.json`);
      writeFileSync(f + '.tmp', JSON.stringify(this.state, null, 1));
      renameSync(f + '.tmp', f);
    } catch {
      // a read-only /run only costs us crash recovery, not the run
    }
  }

  /** Undo everything, newest first; keeps going past failures and reports them. */
  async close(): Promise<string[]> {
    if (this.closed) return [];
    this.closed = true;
    const errors: string[] = [];
    while (this.stack.length) {
      const batch = [this.stack.pop()!];
      const g = batch[0]!.group;
      while (g !== undefined && this.stack.at(-1)?.group === g) batch.push(this.stack.pop()!);
      const rs = await Promise.allSettled(batch.map(async (u) => u.fn()));
      rs.forEach((r, i) => {
        if (r.status === 'rejected') errors.push(`${batch[i]!.what}: ${(r.reason as Error).message}`);
      });
    }
    for (const e of errors) this.log(`cleanup: ${e}`);
    if (errors.length === 0) rmSync(join(STATE_DIR, `${this.runId}.json`), { force: true });
    return errors;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

export function readStates(): RunState[] {
  let names: string[] = [];
  try {
    names = readdirSync(STATE_DIR).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: RunState[] = [];
  for (const n of names) {
    try {
      out.push(JSON.parse(readFileSync(join(STATE_DIR, n), 'utf8')) as RunState);
    } catch {
      /* torn file: ignore */
    }
  }
  return out;
}

export function removeState(runId: string): void {
  rmSync(join(STATE_DIR, `${runId}.json`), { force: true });
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or null when there is no such process. */
export function pidStartTime(pid: number): string | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command (field 2) may hold spaces and parentheses: count fields after its last ')'
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const t = rest[22 - 3];
    return t && /^\d+$/.test(t) ? t : null;
  } catch {
    return null;
  }
}

/** The pid runs the very process recorded (start time matches), not one that reused the pid. */
export function samePidAlive(pid: number, recordedStart: string | undefined): boolean {
  if (!pidAlive(pid)) return false;
  if (recordedStart === undefined) return true; // a state file of an older netab: the pid alone
  return pidStartTime(pid) === recordedStart;
}

/** The run's owner process is alive (and is not this process). */
export function ownerAlive(s: RunState): boolean {
  return s.pid !== process.pid && samePidAlive(s.pid, s.pidStart);
}
