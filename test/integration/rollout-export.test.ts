/**
 * netab export round trip on a real namespace: apply.sh sets the canary profile (read back with the
 * same read-back the lab uses), a second apply changes nothing, --dry-run changes nothing, and
 * rollback.sh restores the control profile and the values from before.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/exec/index.js';
import { exportCommand } from '../../src/rollout/export.js';
import { parseRouteOptions, readBack } from '../../src/tuning/index.js';
import { requirePrereqs } from '../helpers.js';
import { CANARY, fixtureRun } from '../unit/rollout-fixture.js';

const ok = requirePrereqs(['ip', 'sysctl']);

async function sysctls(ns: string, keys: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const k of keys) out[k] = (await run(['sysctl', '-n', k], { netns: ns })).stdout.trim().split(/\s+/).join(' ');
  return out;
}

describe.runIf(ok)('netab export: apply.sh / rollback.sh in a fresh namespace', () => {
  it('applies the canary profile, reads it back, rolls back to control', async () => {
    const id = randomBytes(3).toString('hex');
    const ns = `nb-${id}-export`;
    const dir = fixtureRun('promote', { keepScenarios: 1 });
    const out = join(dir, '..', 'export');
    expect(await exportCommand(dir, { out, print: () => undefined })).toBe(0);
    const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', NETAB_STATE_DIR: mkdtempSync(join(tmpdir(), 'netab-state-')) };
    const keys = ['net.ipv4.tcp_congestion_control', 'net.ipv4.tcp_slow_start_after_idle', 'net.ipv4.tcp_rmem'];
    // A namespace other than the host's may only pick a congestion control the host allows (the
    // kernel's tcp_allowed_congestion_control); on a real host apply.sh runs in the host's own
    // namespace, where every available one is allowed. Allow the profile's two here, restore after.
    const ALLOWED = '/proc/sys/net/ipv4/tcp_allowed_congestion_control';
    const allowedBefore = readFileSync(ALLOWED, 'utf8').trim();
    const allowed = new Set([...allowedBefore.split(/\s+/), 'cubic', 'reno']);
    writeFileSync(ALLOWED, [...allowed].join(' '));
    await run(['ip', 'netns', 'add', ns]);
    try {
      const a = `nb${id}e0`;
      const b = `nb${id}e1`;
      await run(['ip', '-n', ns, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
      for (const d of ['lo', a, b]) await run(['ip', '-n', ns, 'link', 'set', d, 'up']);
      await run(['ip', '-n', ns, 'addr', 'add', '198.18.251.2/24', 'dev', a]);
      await run(['ip', '-n', ns, 'route', 'add', 'default', 'via', '198.18.251.1', 'dev', a, 'metric', '100', 'initcwnd', '12']);
      const before = await sysctls(ns, keys);
      const sh = (f: string, ...args: string[]) => run(['sh', join(out, f), ...args], { netns: ns, env, reject: false });

      // --dry-run prints the commands and changes nothing
      const dry = await sh('apply.sh', '--dry-run');
      expect(dry.exitCode, dry.stderr).toBe(0);
      expect(dry.stdout).toContain('ip -4 route change default via 198.18.251.1 dev');
      expect(dry.stdout).toContain('initcwnd 30');
      expect(await sysctls(ns, keys)).toEqual(before);

      for (const round of [1, 2]) {
        const r = await sh('apply.sh');
        expect(r.exitCode, `apply round ${round}: ${r.stderr}`).toBe(0);
        // the lab's own read-back: throws when a value did not take
        const rb = await readBack(
          { ns, gateway: '198.18.251.1', dev: a },
          { 'net.ipv4.tcp_congestion_control': 'reno', ...CANARY.sysctls },
          CANARY.route,
        );
        expect(rb.route).toEqual(CANARY.route);
        expect(rb.routeLine).toContain('metric 100'); // the route kept its identity
      }
      const rl = (await run(['ip', '-n', ns, 'route', 'show', 'default'])).stdout;
      expect(rl.trim().split('\n')).toHaveLength(1);

      const rb = await sh('rollback.sh');
      expect(rb.exitCode, rb.stderr).toBe(0);
      const after = await sysctls(ns, keys);
      expect(after['net.ipv4.tcp_congestion_control']).toBe('cubic'); // the control profile
      expect(after['net.ipv4.tcp_slow_start_after_idle']).toBe(before['net.ipv4.tcp_slow_start_after_idle']);
      expect(after['net.ipv4.tcp_rmem']).toBe(before['net.ipv4.tcp_rmem']);
      const route = (await run(['ip', '-n', ns, 'route', 'show', 'default'])).stdout;
      expect(parseRouteOptions(route)).toEqual({}); // control sets no route options: the canary's are gone
      expect(route).toContain('metric 100');
      // rollback again: still fine (idempotent), and says it has no record of the canary-only values
      const again = await sh('rollback.sh');
      expect(again.exitCode, again.stderr).toBe(0);
      expect(again.stderr).toContain('no record of the values before apply.sh');
    } finally {
      await run(['ip', 'netns', 'del', ns], { reject: false });
      writeFileSync(ALLOWED, allowedBefore);
    }
    const left = (await run(['ip', 'netns', 'list'])).stdout;
    expect(left).not.toContain(ns);
  });
});
