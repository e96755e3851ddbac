/** The exec module's in-process helpers: PATH lookup, batch-line building, waiting for a child to be ready (no namespaces needed). */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nsArgv, runBatch, spawn, untilReady, which } from '../../src/exec/index.js';

describe('which', () => {
  const path = process.env.PATH;
  afterEach(() => {
    process.env.PATH = path;
  });

  it('finds executables on PATH, in PATH order, and nothing else', async () => {
    const a = mkdtempSync(join(tmpdir(), 'netab-which-a-'));
    const b = mkdtempSync(join(tmpdir(), 'netab-which-b-'));
    writeFileSync(join(a, 'tool'), 'not executable');
    writeFileSync(join(b, 'tool'), '#!/bin/sh\n');
    chmodSync(join(b, 'tool'), 0o755);
    process.env.PATH = `${a}::${b}`;
    expect(await which('tool')).toBe(join(b, 'tool'));
    expect(await which('netab-no-such-program')).toBeNull();
    // a directory is not a program
    expect(await which('.')).toBeNull();
    expect(await which(join(b, 'tool'))).toBe(join(b, 'tool'));
    expect(await which(join(a, 'tool'))).toBeNull();
  });
});

describe('runBatch', () => {
  it('refuses an argument that could carry more than itself on a batch line, before starting anything', async () => {
    await expect(runBatch('ip', [['ip', 'link', 'set', 'lo up', 'up']])).rejects.toThrow(/not allowed in a batch: "lo up"/);
    await expect(runBatch('ip', [['ip', 'route', 'add', '10.0.0.0/8\nlink', 'del']])).rejects.toThrow(/not allowed in a batch/);
    await expect(runBatch('ip', [['ip', 'addr', '#', 'x']])).rejects.toThrow(/not allowed in a batch/);
    await expect(runBatch('tc', [['ip', 'link']])).rejects.toThrow(/does not start with tc/);
    expect(await runBatch('ip', [])).toBeNull();
  });

  it('runs the lines in one ip process and stops at the first failing one, naming the lines', async () => {
    const ok = await runBatch('ip', [
      ['ip', 'link', 'show', 'dev', 'lo'],
      ['ip', 'addr', 'show', 'dev', 'lo'],
    ]);
    expect(ok!.stdout.match(/link\/loopback/g)).toHaveLength(2);
    const err = await runBatch('ip', [
      ['ip', 'link', 'show', 'dev', 'lo'],
      ['ip', 'link', 'show', 'dev', 'nbnosuchdev0'],
    ]).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(String(err)).toMatch(/ip -batch - <<< "link show dev lo" "link show dev nbnosuchdev0"/);
    expect(String(err)).toMatch(/nbnosuchdev0/);
  });
});

describe('runBatch mayFail', () => {
  it('runs every line and fails only when a line that may not fail did', async () => {
    const cmds = [
      ['ip', 'link', 'show', 'dev', 'nbnosuchdev0'],
      ['ip', 'link', 'show', 'dev', 'lo'],
    ];
    const ok = await runBatch('ip', cmds, { mayFail: (i) => i === 0 });
    expect(ok!.stdout).toMatch(/link\/loopback/);
    const err = await runBatch('ip', cmds, { mayFail: (i) => i === 1 }).catch((e: Error) => e);
    expect(String(err)).toMatch(/ip -force -batch - <<< "link show dev nbnosuchdev0" "link show dev lo"/);
  });
});

describe('nsArgv', () => {
  it('lets ip, tc and ss switch namespace themselves and wraps anything else in ip netns exec', () => {
    expect(nsArgv(['ip', 'link', 'show'], 'nb-1')).toEqual(['ip', '-n', 'nb-1', 'link', 'show']);
    expect(nsArgv(['tc', '-batch', '-'], 'nb-1')).toEqual(['tc', '-n', 'nb-1', '-batch', '-']);
    expect(nsArgv(['ss', '-Htin'], 'nb-1')).toEqual(['ss', '-N', 'nb-1', '-Htin']);
    expect(nsArgv(['iperf3', '-s'], 'nb-1')).toEqual(['ip', 'netns', 'exec', 'nb-1', 'iperf3', '-s']);
    // a path or a look-alike is not the tool: the generic wrapper
    expect(nsArgv(['/usr/sbin/ss', '-t'], 'nb-1')).toEqual(['ip', 'netns', 'exec', 'nb-1', '/usr/sbin/ss', '-t']);
    expect(nsArgv(['ip', 'link'])).toEqual(['ip', 'link']);
  });
});

describe('untilReady', () => {
  const node = (code: string, onLine?: (l: string) => void) => spawn([process.execPath, '-e', code], { onLine });

  it('resolves on the ready line; fails when the child exits first or is too slow, and stops it', async () => {
    let ready!: () => void;
    const said = new Promise<void>((res) => (ready = res));
    const ok = node('console.log("ready"); setTimeout(() => {}, 60000)', (l) => l === 'ready' && ready());
    await untilReady(ok, said, 10_000, 'a server');
    expect(ok.exited).toBe(false);
    await ok.stop(200);

    const dies = node('console.error("port in use"); process.exit(3)');
    await expect(untilReady(dies, new Promise<void>(() => {}), 10_000, 'a server')).rejects.toThrow(
      'a server exited (code 3) before it was ready: port in use',
    );

    const slow = node('setTimeout(() => {}, 60000)');
    await expect(untilReady(slow, new Promise<void>(() => {}), 200, 'a server')).rejects.toThrow('a server not ready after 0.2 s');
    expect(slow.exited).toBe(true); // stopped, not left running
  });
});
