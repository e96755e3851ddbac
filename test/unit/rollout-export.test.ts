import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/exec/index.js';
import { buildExport, exportCommand, isGlobalSysctl } from '../../src/rollout/export.js';
import { readLabRun } from '../../src/rollout/rundir.js';
import { shQuote } from '../../src/rollout/shell.js';
import { CANARY, fixtureRun } from './rollout-fixture.js';

const quiet = () => undefined;

describe('netab export', () => {
  it('writes the four artifacts for a PROMOTE run', async () => {
    const dir = fixtureRun('promote');
    const out = join(dir, '..', 'out');
    expect(await exportCommand(dir, { out, print: quiet })).toBe(0);
    for (const f of [
      'sysctl.d/60-netab-reno-iw30-quoted.conf',
      'apply.sh',
      'rollback.sh',
      'networkd/60-netab-reno-iw30-quoted.conf',
      'profile.json',
    ])
      expect(existsSync(join(out, f)), f).toBe(true);
    const conf = readFileSync(join(out, 'sysctl.d/60-netab-reno-iw30-quoted.conf'), 'utf8');
    expect(conf).toContain('net.ipv4.tcp_congestion_control = reno');
    expect(conf).toContain('net.ipv4.tcp_rmem = 4096 131072 6291456');
    expect(conf).toMatch(/#\s+net\.ipv4\.tcp_wmem = 4096 16384 4194304/); // lab baseline, commented
    const nd = readFileSync(join(out, 'networkd/60-netab-reno-iw30-quoted.conf'), 'utf8');
    expect(nd).toContain('[Route]');
    expect(nd).toContain('InitialCongestionWindow=30');
    expect(nd).toContain('InitialAdvertisedReceiveWindow=40');
    expect(nd).toContain('QuickAck=yes');
    expect(nd).toContain('TCPCongestionControlAlgorithm=reno');
    expect(nd).toMatch(/NOT in networkd: rto_min/);
    const prof = JSON.parse(readFileSync(join(out, 'profile.json'), 'utf8'));
    expect(prof.provenance.run_id).toBe('20250101T120000Z-fixture');
    expect(prof.provenance.decision).toBe('PROMOTE');
    expect(prof.provenance.forced).toBe(false);
    expect(prof.provenance.scenarios[0].hash).toMatch(/^sha256:/);
    expect(prof.effects.find((e: { metric: string }) => e.metric === 'goodput').ci).toHaveLength(2);
    expect(prof.canary.ip_route_args).toEqual(['initcwnd', '30', 'initrwnd', '40', 'quickack', '1', 'rto_min', '20ms', 'congctl', 'reno']);
    for (const sh of ['apply.sh', 'rollback.sh']) {
      const r = await run(['sh', '-n', join(out, sh)], { reject: false });
      expect(r.exitCode, r.stderr).toBe(0);
    }
  });

  it('refuses HOLD and ROLLBACK runs with exit 4 and writes nothing; --force records it', async () => {
    for (const d of ['hold', 'rollback'] as const) {
      const dir = fixtureRun(d);
      const out = join(dir, '..', 'out');
      await expect(exportCommand(dir, { out, print: quiet })).rejects.toMatchObject({ exitCode: 4 });
      expect(existsSync(out)).toBe(false);
      expect(await exportCommand(dir, { out, force: true, print: quiet })).toBe(0);
      const prof = JSON.parse(readFileSync(join(out, 'profile.json'), 'utf8'));
      expect(prof.provenance.forced).toBe(true);
      expect(readFileSync(join(out, 'apply.sh'), 'utf8')).toContain('FORCED');
    }
  });

  it('a run without verdict or profiles is an input error (exit 2)', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'netab-rollout-'));
    await expect(exportCommand(empty, { print: quiet })).rejects.toMatchObject({ exitCode: 2 });
    await expect(exportCommand('test/fixtures/report/run', { out: join(empty, 'o'), force: true, print: quiet })).rejects.toMatchObject({
      exitCode: 2,
    });
  });

  it('quotes every value: a hostile profile name and value stay literal in --dry-run', async () => {
    const evil = {
      ...CANARY,
      name: "x'; touch /tmp/netab-pwned; echo '\n$(id)",
      sysctls: { 'net.ipv4.tcp_rmem': '4096 $(touch /tmp/netab-pwned) `id` \' " 1' },
    };
    const dir = fixtureRun('promote', { canary: evil });
    const plan = buildExport(readLabRun(dir));
    const out = join(dir, '..', 'out');
    await exportCommand(dir, { out, print: quiet });
    expect(plan.files['apply.sh']).toContain(`echo 'netab: canary profile "x'\\''; touch /tmp/netab-pwned; echo '\\'' $(id)" applied'`);
    expect((await run(['sh', '-n', join(out, 'apply.sh')], { reject: false })).exitCode).toBe(0);
    const r = await run(['sh', join(out, 'apply.sh'), '--dry-run'], {
      reject: false,
      env: { PATH: process.env.PATH!, NETAB_STATE_DIR: join(dir, '..', 'state') },
    });
    // the dry run prints the sysctl with the hostile value as one quoted word and runs nothing
    expect(r.stdout).toContain(`sysctl -q -w 'net.ipv4.tcp_rmem=4096 $(touch /tmp/netab-pwned) \`id\` '\\'' " 1'`);
    expect(existsSync('/tmp/netab-pwned')).toBe(false);
  });

  it('shQuote and the global sysctl list', () => {
    expect(shQuote('plain-1.2')).toBe('plain-1.2');
    expect(shQuote('a b')).toBe("'a b'");
    expect(shQuote("it's")).toBe("'it'\\''s'");
    expect(shQuote('')).toBe("''");
    expect(isGlobalSysctl('net.core.rmem_max')).toBe(true);
    expect(isGlobalSysctl('net.core.somaxconn')).toBe(false);
    expect(isGlobalSysctl('net.ipv4.tcp_mem')).toBe(true);
    expect(isGlobalSysctl('net.ipv4.tcp_rmem')).toBe(false);
  });
});
