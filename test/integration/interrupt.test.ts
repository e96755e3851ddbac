/**
 * Ctrl+C as a terminal sends it: SIGINT to the whole process group of `npm run quickstart` (npm, the
 * quickstart script, netab and netab's own children: relay, iperf3). The run must end as a Ctrl+C on
 * `netab run` does: exit 130 and nothing of the run left (namespace, veth, process, container, state).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requirePrereqs } from '../helpers.js';

const ok = requirePrereqs();

/** pids of live (non-zombie) processes whose process group is `pgid`. */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      // fields after the command: state(3) ppid(4) pgrp(5)
      if (f[0] !== 'Z' && Number(f[2]) === pgid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

function cmdlines(pattern: RegExp): string[] {
  const out: string[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const c = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (pattern.test(c)) out.push(`${d} ${c}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(ok)('Ctrl+C of `npm run quickstart` through its process group', () => {
  it('exits 130 and leaves no namespace, veth, process, container or state file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netab-interrupt-'));
    const out = join(dir, 'run');
    // detached: a new session and process group (setsid), as a terminal gives a foreground job
    const p = spawn('npm', ['run', 'quickstart', '--', '--out', out], {
      cwd: process.cwd(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: 'true' },
    });
    const pgid = p.pid!;
    let log = '';
    p.stdout.on('data', (d: Buffer) => (log += d.toString()));
    p.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      p.on('exit', (code, signal) => resolve({ code, signal })),
    );
    let done: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    void exited.then((r) => (done = r));
    try {
      // in the trials: the second trial has been recorded (setup and the build may take a while first)
      const until = Date.now() + 240_000;
      while (!/trial 2\/\d+/.test(log) && !done && Date.now() < until) await sleep(200);
      expect(done, log).toBeUndefined();
      expect(log).toMatch(/trial 2\/\d+/);
      await sleep(1500); // mid-trial
      process.kill(-pgid, 'SIGINT');
      const timeout = sleep(120_000).then(() => null);
      const r = await Promise.race([exited, timeout]);
      expect(r, `no exit within 120 s after SIGINT:\n${log}`).not.toBeNull();
      expect(r!.code, log).toBe(130);
      expect(log).toMatch(/interrupted; partial results are in/);

      const runId = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).runId as string;
      expect(runId).toMatch(/^[0-9a-f]{6}$/);
      const nss = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
      expect(nss.split('\n').filter((l) => l.startsWith(`nb-${runId}-`))).toEqual([]);
      const veths = execFileSync('ip', ['-o', 'link', 'show', 'type', 'veth'], { encoding: 'utf8' });
      expect(veths.split('\n').filter((l) => l.includes(runId))).toEqual([]);
      // nothing of the group is left (npm, quickstart, netab, relay, iperf3, transfer tool) ...
      await sleep(200);
      expect(groupMembers(pgid)).toEqual([]);
      // ... nor anything of this run that left the group
      expect(cmdlines(new RegExp(`${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}|nb-${runId}-`))).toEqual([]);
      expect(existsSync(`/run/netab/${runId}.json`)).toBe(false);
      let containers = '';
      try {
        containers = execFileSync('docker', ['ps', '-aq', '--filter', `label=netab.run=${runId}`], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        });
      } catch {
        /* no docker: no container */
      }
      expect(containers.trim()).toBe('');
    } finally {
      if (!done) {
        try {
          process.kill(-pgid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }, 420_000);
});
