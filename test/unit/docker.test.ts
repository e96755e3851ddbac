/** Docker backend pieces that need no engine: tar writer, ldd and log parsing, error classification, addressing, sysctls, gc liveness. */
import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunState } from '../../src/exec/resources.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { demuxLogs } from '../../src/topology/docker/client.js';
import { DockerError, toDockerError } from '../../src/topology/docker/errors.js';
import { markRunLive, runAliveReason, unmarkRunLive } from '../../src/topology/docker/gc.js';
import { endpointImageTag, parseLdd } from '../../src/topology/docker/image.js';
import { containerName, containerSysctls, dockerHostSubnet, dockerSysctlsFor, MAX_SLOTS } from '../../src/topology/docker/plan.js';
import { bridgeRule, RULE_COMMENT_RE } from '../../src/topology/docker/iptables.js';
import { tarArchive, tarHeader } from '../../src/topology/docker/tar.js';

describe('tar writer', () => {
  const entries = [
    { type: 'dir' as const, path: '/bin', mode: 0o755 },
    { type: 'dir' as const, path: '/tmp', mode: 0o1777 },
    { type: 'file' as const, path: '/bin/hello', mode: 0o755, data: Buffer.from('#!/bin/sh\necho hi\n') },
    { type: 'file' as const, path: `/srv/${'d'.repeat(60)}/${'f'.repeat(60)}.txt`, data: Buffer.alloc(1000, 7) },
    { type: 'symlink' as const, path: '/bin/sh', target: 'busybox' },
  ];
  const tar = tarArchive(entries);

  it('is read back by GNU tar: names, modes, link targets, contents', () => {
    expect(tar.length % 512).toBe(0);
    const list = execFileSync('tar', ['-tvf', '-'], { input: tar, encoding: 'utf8' });
    expect(list).toMatch(/^drwxr-xr-x root\/root\s+0 2000-01-01 \d\d:\d\d bin\/$/m);
    expect(list).toMatch(/^drwxrwxrwt .* tmp\/$/m);
    expect(list).toMatch(/^-rwxr-xr-x .* 18 .* bin\/hello$/m);
    expect(list).toMatch(/^lrwxrwxrwx .* bin\/sh -> busybox$/m);
    expect(list).toContain(`srv/${'d'.repeat(60)}/${'f'.repeat(60)}.txt`);
    expect(execFileSync('tar', ['-xOf', '-', 'bin/hello'], { input: tar, encoding: 'utf8' })).toBe('#!/bin/sh\necho hi\n');
  });

  it('writes a valid header checksum and refuses unrepresentable paths', () => {
    const h = tarHeader({ type: 'file', path: 'a', data: Buffer.alloc(3) });
    const stored = parseInt(h.subarray(148, 154).toString('ascii'), 8);
    const copy = Buffer.from(h);
    copy.fill(0x20, 148, 156);
    expect(stored).toBe(copy.reduce((a, b) => a + b, 0));
    expect(() => tarHeader({ type: 'file', path: 'x'.repeat(300), data: Buffer.alloc(0) })).toThrow(/too long/);
  });
});

describe('parsing', () => {
  it('ldd output: resolved libraries and the loader, not the vdso', () => {
    const out = `\tlinux-vdso.so.1 (0x00007ffd)\n\tlibiperf.so.0 => /lib/x86_64-linux-gnu/libiperf.so.0 (0x00007f)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n`;
    expect(parseLdd(out)).toEqual([
      '/lib/x86_64-linux-gnu/libiperf.so.0',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
    expect(parseLdd('\tnot a dynamic executable\n')).toEqual([]);
  });

  it('container logs: frames of stdout and stderr, or plain text', () => {
    const frame = (stream: number, s: string) => {
      const h = Buffer.alloc(8);
      h[0] = stream;
      h.writeUInt32BE(Buffer.byteLength(s), 4);
      return Buffer.concat([h, Buffer.from(s)]);
    };
    expect(demuxLogs(Buffer.concat([frame(1, 'out\n'), frame(2, 'boom\n')]))).toBe('out\nboom\n');
    expect(demuxLogs(Buffer.from('plain tty text\n'))).toBe('plain tty text\n');
  });
});

describe('Docker errors', () => {
  const http = (statusCode: number, message: string) =>
    Object.assign(new Error(`(HTTP code ${statusCode}) ${message}`), { statusCode, json: { message } });

  it('classify with Docker message inside and exit code 3', () => {
    const unreachable = toDockerError(
      Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' }),
      'create network x',
    );
    expect(unreachable).toBeInstanceOf(DockerError);
    expect(unreachable.exitCode).toBe(3);
    expect(unreachable.message).toMatch(/Docker engine not reachable .* create network x \(connect ENOENT .*\).*docker-engine\.mjs/);

    const image = toDockerError(http(404, 'No such image: foo:1'), 'create container c (image foo:1)');
    expect(image.message).toMatch(/not in the local Docker engine and netab does not pull images \(Docker: No such image: foo:1\)/);

    const clash = toDockerError(
      http(409, 'Conflict. The container name "/netab-abcdef-c-snd" is already in use'),
      'create container netab-abcdef-c-snd',
    );
    expect(clash.message).toMatch(/already in use.*netab gc/);
    expect(clash.statusCode).toBe(409);

    const sysctl = toDockerError(
      http(500, 'OCI runtime create failed: write /proc/sys/net/ipv4/tcp_congestion_control: operation not permitted: unknown'),
      'start container c',
    );
    expect(sysctl.message).toMatch(/could not set the container sysctl net\.ipv4\.tcp_congestion_control/);

    const other = toDockerError(http(500, 'something odd'), 'start container c');
    expect(other.message).toBe('cannot start container c (Docker HTTP 500: something odd)');
    expect(toDockerError(other, 'again')).toBe(other);
  });
});

describe('addressing, names, sysctls', () => {
  it('slot 0 is exactly hostSubnet(i); later slots move up by four /24s, gateway .254', () => {
    expect(dockerHostSubnet(1)).toEqual({
      net: '198.18.1.0/24',
      router: '198.18.1.1',
      host: '198.18.1.2',
      gateway: '198.18.1.254',
      index: 1,
    });
    expect(dockerHostSubnet(3, 2).net).toBe('198.18.11.0/24');
    expect(dockerHostSubnet(3, MAX_SLOTS - 1).net).toBe('198.18.255.0/24');
    expect(containerName('abcdef', 'r-left')).toBe('netab-abcdef-r-left');
    expect(endpointImageTag('1.2.3')).toBe('netab/endpoint:1.2.3');
  });

  it('per-host sysctls follow applyTo and A/A; only namespaced, existing net.ipv4 keys reach Docker', () => {
    const [s] = loadScenarioText(
      `name: u\ntopology: dumbbell\nlinks: { bottleneck: { delay: 5ms } }\ncontrol: { cc: cubic }\ncanary: { cc: bbr, sysctls: { net.ipv4.tcp_slow_start_after_idle: 0 } }\nworkload: { type: bulk, duration: 2s }\n`,
      join(process.cwd(), 'scenarios', 'u.yaml'),
    );
    const m = dockerSysctlsFor(s!);
    expect(m.canary!.sender).toMatchObject({ 'net.ipv4.tcp_congestion_control': 'bbr', 'net.ipv4.tcp_slow_start_after_idle': '0' });
    expect(m.canary!.receiver!['net.ipv4.tcp_congestion_control']).toBeUndefined();
    expect(m.control!.sender!['net.ipv4.tcp_congestion_control']).toBe('cubic');
    const aa = dockerSysctlsFor(s!, true);
    expect(aa.canary!.sender!['net.ipv4.tcp_congestion_control']).toBe('cubic');
    expect(aa.canary!.sender!['net.ipv4.tcp_slow_start_after_idle']).toBeUndefined();

    const c = containerSysctls({
      'net.ipv4.tcp_slow_start_after_idle': '0',
      'net.core.rmem_max': '1',
      'net.ipv4.tcp_no_such_knob': '1',
      'kernel.shmmax': '1',
    });
    expect(c).toEqual({ 'net.ipv4.tcp_slow_start_after_idle': '0' });
  });

  it('iptables rule: intra-bridge only, tagged with the run', () => {
    expect(bridgeRule('nbabcdef-0', 'abcdef')).toEqual([
      '-i',
      'nbabcdef-0',
      '-o',
      'nbabcdef-0',
      '-m',
      'comment',
      '--comment',
      'netab run abcdef',
      '-j',
      'ACCEPT',
    ]);
    expect(RULE_COMMENT_RE.exec('-A DOCKER-USER -i nbabcdef-0 -o nbabcdef-0 -m comment --comment "netab run abcdef" -j ACCEPT')?.[1]).toBe(
      'abcdef',
    );
  });
});

describe('gc liveness', () => {
  const state = (pid: number): RunState => ({
    runId: 'abcdef',
    pid,
    startedAt: '',
    namespaces: [],
    pids: [],
    sysctls: [],
    docker: { containers: [], networks: [] },
  });
  const labels = (pid: number, host = hostname()) => ({ 'netab.pid': String(pid), 'netab.host': host });
  const DEAD = 4_194_305;

  it('alive: runs of this process, a live state pid, a live labelled pid without state, another host', () => {
    markRunLive('abcdef');
    expect(runAliveReason('abcdef', {}, undefined)).toMatch(/this process/);
    unmarkRunLive('abcdef');
    expect(runAliveReason('abcdef', {}, state(process.ppid))).toMatch(/running/);
    expect(runAliveReason('abcdef', labels(process.ppid), undefined)).toMatch(/running/);
    expect(runAliveReason('abcdef', labels(DEAD, 'elsewhere'), undefined)).toMatch(/host elsewhere/);
  });

  it('dead: dead pids, and this process pid from an earlier life (pid reuse)', () => {
    expect(runAliveReason('abcdef', labels(DEAD), state(DEAD))).toBeNull();
    expect(runAliveReason('abcdef', labels(DEAD), undefined)).toBeNull();
    expect(runAliveReason('abcdef', labels(process.pid), state(process.pid))).toBeNull();
    // a state file whose pid is dead wins over a label pid that was reused
    expect(runAliveReason('abcdef', labels(process.ppid), state(DEAD))).toBeNull();
  });
});
