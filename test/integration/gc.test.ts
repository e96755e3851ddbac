/**
 * `netab gc` removes only what netab created: namespaces a run recorded (or named after a recorded run
 * id), never a user's look-alike; recorded processes only when their start time still matches.
 * State files live in a private NETAB_STATE_DIR, so runs of other netab processes are never touched.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePrereqs } from '../helpers.js';

const ok = requirePrereqs(['ip']);
const stateDir = mkdtempSync(join(tmpdir(), 'netab-gc-state-'));
process.env.NETAB_STATE_DIR = stateDir;

type Gc = typeof import('../../src/topology/netns/gc.js');
type Res = typeof import('../../src/exec/resources.js');
let gcMod: Gc;
let res: Res;

const hex = () =>
  Math.floor(Math.random() * 0xffffff)
    .toString(16)
    .padStart(6, '0');
const namespaces = () =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!);
const addNs = (n: string) => execFileSync('ip', ['netns', 'add', n]);
const delNs = (n: string) => execFileSync('ip', ['netns', 'del', n], { stdio: 'ignore' });

/** A pid that certainly belongs to no process now (a child that has exited and been reaped). */
async function deadPid(): Promise<number> {
  const p = spawn('true');
  await new Promise((r) => p.on('exit', r));
  return p.pid!;
}

function writeState(s: Record<string, unknown>): void {
  writeFileSync(
    join(stateDir, `${s.runId as string}.json`),
    JSON.stringify({
      startedAt: new Date().toISOString(),
      namespaces: [],
      pids: [],
      sysctls: [],
      docker: { containers: [], networks: [] },
      ...s,
    }),
  );
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.runIf(ok)('netab gc ownership', () => {
  beforeAll(async () => {
    gcMod = await import('../../src/topology/netns/gc.js');
    res = await import('../../src/exec/resources.js');
    expect(res.STATE_DIR).toBe(stateDir);
  });
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it("a user's look-alike namespace survives; a dead run's recorded (and run-id-named) namespaces go", async () => {
    const [user, runId] = [hex(), hex()];
    const userNs = `nb-${user}-foo`;
    const recorded = `nb-${runId}-r-left`;
    const unrecorded = `nb-${runId}-k-snd`; // created, then the run crashed before recording it
    try {
      addNs(userNs);
      addNs(recorded);
      addNs(unrecorded);
      writeState({ runId, pid: await deadPid(), namespaces: [recorded] });
      const logs: string[] = [];
      const removed = await gcMod.gc({ log: (s) => logs.push(s) });
      expect(removed).toEqual(expect.arrayContaining([`namespace ${recorded}`, `namespace ${unrecorded}`]));
      expect(removed.join('\n')).not.toContain(userNs);
      const now = namespaces();
      expect(now).toContain(userNs);
      expect(now).not.toContain(recorded);
      expect(now).not.toContain(unrecorded);
      expect(logs.join('\n')).toMatch(new RegExp(`namespace ${userNs} looks like netab's but no run recorded it: left alone`));
      const left = await gcMod.findLeftovers();
      expect(left.orphanNamespaces).toContain(userNs);
    } finally {
      for (const n of [userNs, recorded, unrecorded]) {
        try {
          delNs(n);
        } catch {
          /* gone */
        }
      }
    }
  });

  it('kills a recorded pid only when its start time matches (never a process that reused the pid)', async () => {
    const reused = spawn('sleep', ['60'], { stdio: 'ignore' });
    const mine = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const start = res.pidStartTime(mine.pid!);
      expect(start).toMatch(/^\d+$/);
      expect(res.pidStartTime(reused.pid!)).toMatch(/^\d+$/);
      const [a, b] = [hex(), hex()];
      // run a recorded `reused.pid` with another start time: the pid now belongs to someone else
      writeState({
        runId: a,
        pid: await deadPid(),
        pids: [reused.pid],
        pidStarts: { [reused.pid!]: String(Number(res.pidStartTime(reused.pid!)) - 1) },
      });
      writeState({ runId: b, pid: await deadPid(), pids: [mine.pid], pidStarts: { [mine.pid!]: start } });
      const removed = await gcMod.gc();
      expect(removed).toContain(`process ${mine.pid}`);
      expect(removed).not.toContain(`process ${reused.pid}`);
      await new Promise((r) => setTimeout(r, 100));
      expect(alive(reused.pid!)).toBe(true);
      expect(mine.exitCode !== null || mine.signalCode !== null || !alive(mine.pid!)).toBe(true);
    } finally {
      reused.kill('SIGKILL');
      mine.kill('SIGKILL');
    }
  });

  it("a run whose owner pid was reused by another process is dead (the owner's start time differs)", async () => {
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const runId = hex();
      writeState({ runId, pid: other.pid, pidStart: '1' });
      const left = await gcMod.findLeftovers();
      expect(left.runs.find((r) => r.runId === runId)?.alive).toBe(false);
      writeState({ runId, pid: other.pid, pidStart: res.pidStartTime(other.pid!) });
      expect((await gcMod.findLeftovers()).runs.find((r) => r.runId === runId)?.alive).toBe(true);
      rmSync(join(stateDir, `${runId}.json`));
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('Resources records the start time of every registered pid', async () => {
    const p = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const r = new res.Resources(hex());
      r.record((s) => s.pids.push(p.pid!));
      expect(r.state.pidStarts?.[p.pid!]).toBe(res.pidStartTime(p.pid!));
      expect(r.state.pidStart).toBe(res.pidStartTime(process.pid));
      await r.close();
    } finally {
      p.kill('SIGKILL');
    }
  });

  it("namespacePids lists exactly the processes in a namespace, and never those of netab's own", async () => {
    const { namespacePids } = await import('../../src/exec/index.js');
    const ns = `nbt-pids-${hex()}`;
    addNs(ns);
    const inside = spawn('ip', ['netns', 'exec', ns, 'sleep', '60'], { stdio: 'ignore' });
    const outside = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      // `ip netns exec` enters the namespace after the fork: wait until the child shows there
      for (let i = 0; i < 100 && !namespacePids(ns).includes(inside.pid!); i++) await new Promise((r) => setTimeout(r, 20));
      const listed = namespacePids(ns);
      const ipSays = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number);
      expect(listed).toEqual([inside.pid!]);
      expect(listed.sort()).toEqual(ipSays.sort());
      expect(namespacePids(`nbt-missing-${hex()}`)).toEqual([]);
      // a name bound to this process's own namespace would list every process on the host: refused
      const own = `nbt-own-${hex()}`;
      execFileSync('touch', [`/run/netns/${own}`]);
      execFileSync('mount', ['--bind', '/proc/self/ns/net', `/run/netns/${own}`]);
      try {
        expect(namespacePids(own)).toEqual([]);
      } finally {
        execFileSync('umount', [`/run/netns/${own}`]);
        rmSync(`/run/netns/${own}`);
      }
    } finally {
      inside.kill('SIGKILL');
      outside.kill('SIGKILL');
      delNs(ns);
    }
  });
});
