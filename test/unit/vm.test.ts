import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/exec/index.js';
import { INIT_SCRIPT, MODPROBE_WRAPPER, READ_RUN_SPEC, STAGE2_SCRIPT } from '../../src/vm/guest.js';
import { findAll, hasPvhNote, mergeOrdered, parseKernelDependency, parseShowDepends } from '../../src/vm/kernel.js';
import { resolveCacheDir } from '../../src/vm/paths.js';
import { buildQemuArgv, kernelCmdline, qemuOptValue, type QemuSpec } from '../../src/vm/qemu.js';
import { guestEnv, parseExitFile, validateRunInput, writeControlFiles } from '../../src/vm/run.js';
import { computeStamp, pidAlive } from '../../src/vm/cache.js';
import { isStaticElf, listTree } from '../../src/vm/initramfs.js';
import { VmError } from '../../src/vm/types.js';

describe('vm cache dir', () => {
  it('option > NETAB_VM_CACHE > XDG_CACHE_HOME > ~/.cache', () => {
    const env = { HOME: '/home/u', XDG_CACHE_HOME: '/xdg', NETAB_VM_CACHE: '/env/cache' };
    expect(resolveCacheDir('/opt/c', env)).toBe('/opt/c');
    expect(resolveCacheDir(undefined, env)).toBe('/env/cache');
    expect(resolveCacheDir(undefined, { HOME: '/home/u', XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/netab/vm');
    expect(resolveCacheDir(undefined, { HOME: '/home/u', XDG_CACHE_HOME: 'relative' })).toBe('/home/u/.cache/netab/vm');
    expect(resolveCacheDir(undefined, { HOME: '/home/u' })).toBe('/home/u/.cache/netab/vm');
  });
});

describe('qemu command line', () => {
  const spec: QemuSpec = {
    qemu: '/usr/bin/qemu-system-x86_64',
    machine: 'pc',
    accelerator: 'tcg',
    cpus: 1,
    memoryMb: 512,
    kernel: '/c/vmlinux',
    initrd: '/c/initramfs.cpio',
    append: kernelCmdline('run', 'tcg'),
    consoleLog: '/tmp/x/console.log',
    shares: [
      { tag: 'hostroot', path: '/', readonly: true },
      { tag: 'netabwork', path: '/tmp/a,b=c d', readonly: false },
    ],
  };

  it('doubles commas in option values and refuses newlines', () => {
    expect(qemuOptValue('/a,b,,c')).toBe('/a,,b,,,,c');
    expect(() => qemuOptValue('/a\nb')).toThrow();
  });

  it('builds an argv (never a shell string) with escaped share paths', () => {
    const a = buildQemuArgv(spec);
    expect(a[0]).toBe('/usr/bin/qemu-system-x86_64');
    expect(a).toContain('-no-reboot');
    expect(a.join(' ')).toContain('-accel tcg -cpu max');
    expect(a).toContain('local,id=fs0,path=/,security_model=none,multidevs=remap,readonly=on');
    expect(a).toContain('local,id=fs1,path=/tmp/a,,b=c d,security_model=none,multidevs=remap');
    expect(a).toContain('virtio-9p-pci,fsdev=fs1,mount_tag=netabwork');
    expect(a[a.indexOf('-append') + 1]).toMatch(/quiet loglevel=0 .*tsc=reliable netab\.mode=run$/);
    expect(a).toContain('virtserialport,bus=vser.0,chardev=out,name=netab.out');
  });

  it('uses -cpu host with kvm, multi-threaded TCG with several vCPUs', () => {
    expect(buildQemuArgv({ ...spec, accelerator: 'kvm' }).join(' ')).toContain('-accel kvm -cpu host');
    expect(buildQemuArgv({ ...spec, cpus: 2 }).join(' ')).toContain('-accel tcg,thread=multi -cpu max -smp 2');
    expect(kernelCmdline('probe', 'kvm')).not.toContain('tsc=reliable');
  });

  it('refuses kernel paths qemu would split', () => {
    expect(() => buildQemuArgv({ ...spec, kernel: '/a,b/vmlinux' })).toThrow(/comma/);
  });
});

describe('kernel helpers', () => {
  it('parses modprobe --show-depends output in order', () => {
    const out = 'insmod /r/lib/modules/v/kernel/fs/netfs/netfs.ko \ninsmod /r/x/9pnet.ko opt=1\nbuiltin crc32c\ninsmod /r/x/9p.ko\n';
    expect(parseShowDepends(out)).toEqual(['/r/lib/modules/v/kernel/fs/netfs/netfs.ko', '/r/x/9pnet.ko', '/r/x/9p.ko']);
    expect(
      mergeOrdered([
        ['a', 'b'],
        ['b', 'c'],
        ['a', 'd'],
      ]),
    ).toEqual(['a', 'b', 'c', 'd']);
  });

  it("reads linux-image-amd64's dependency", () => {
    const show = 'Package: linux-image-amd64\nVersion: 6.1.192-2\nDepends: linux-image-6.1.0-56-amd64 (= 6.1.192-2)\nDescription: x\n';
    expect(parseKernelDependency(show)).toEqual({ name: 'linux-image-6.1.0-56-amd64', version: '6.1.192-2' });
    expect(parseKernelDependency('Depends: linux-image-6.12.9-amd64-unsigned | linux-image-6.12.9-amd64\n')).toEqual({
      name: 'linux-image-6.12.9-amd64-unsigned',
    });
    expect(parseKernelDependency('Package: x\n')).toBeNull();
  });

  it('finds every magic offset', () => {
    const b = Buffer.from([0, 0xfd, 0x37, 1, 0xfd, 0x37, 0xfd, 0x37]);
    expect(findAll(b, Buffer.from([0xfd, 0x37]))).toEqual([1, 4, 6]);
  });

  it('detects the PVH ELF note', () => {
    const elf = (noteType: number, name = 'Xen') => {
      const b = Buffer.alloc(0x200);
      b.write('\x7fELF', 0, 'latin1');
      b[4] = 2;
      b[5] = 1;
      b.writeBigUInt64LE(0x40n, 0x20); // phoff
      b.writeUInt16LE(56, 0x36);
      b.writeUInt16LE(2, 0x38);
      b.writeUInt32LE(1, 0x40); // PT_LOAD
      const ph = 0x40 + 56;
      b.writeUInt32LE(4, ph); // PT_NOTE
      b.writeBigUInt64LE(0x100n, ph + 8);
      b.writeBigUInt64LE(0x40n, ph + 32);
      // a first, unrelated note, then ours
      b.writeUInt32LE(4, 0x100);
      b.writeUInt32LE(4, 0x104);
      b.writeUInt32LE(1, 0x108);
      b.write('GNU\0', 0x10c, 'latin1');
      b.writeUInt32LE(name.length + 1, 0x114);
      b.writeUInt32LE(4, 0x118);
      b.writeUInt32LE(noteType, 0x11c);
      b.write(name + '\0', 0x120, 'latin1');
      return b;
    };
    expect(hasPvhNote(elf(18))).toBe(true);
    expect(hasPvhNote(elf(17))).toBe(false);
    expect(hasPvhNote(elf(18, 'Lin'))).toBe(false);
    expect(hasPvhNote(Buffer.from('not an elf at all, really not an elf at all, no no no no no no no'))).toBe(false);
  });
});

describe('guest run protocol', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'netab-vm-unit-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('validates what env -i and the files can carry', () => {
    expect(() => validateRunInput([], {})).toThrow(VmError);
    expect(() => validateRunInput(['A=b', 'x'], {})).toThrow(/program name/);
    expect(() => validateRunInput(['-x'], {})).toThrow(/program name/);
    expect(() => validateRunInput(['ls', 'a\0b'], {})).toThrow(/NUL/);
    expect(() => validateRunInput(['ls'], { 'BAD-NAME': 'x' })).toThrow(/variable name/);
    expect(() => validateRunInput(['ls', 'a=b', "'; rm -rf /"], { OK_1: 'x\ny' })).not.toThrow();
  });

  it('gives the guest a clean env with the host PATH (modprobe shim first), caller values last', () => {
    expect(guestEnv({ PATH: '/x' }, {}).PATH).toBe('/run/netab/bin:/x');
    const e = guestEnv({ FOO: 'bar', HOME: '/custom' }, { PATH: '/host/bin:/usr/bin', SECRET: 's', LANG: 'C.UTF-8' });
    expect(e).toEqual({
      PATH: '/run/netab/bin:/host/bin:/usr/bin',
      HOME: '/custom',
      USER: 'root',
      LOGNAME: 'root',
      LANG: 'C.UTF-8',
      NETAB_IN_VM: '1',
      FOO: 'bar',
    });
  });

  it('round-trips awkward argv/env values through the files and the guest sh snippet', async () => {
    const argv = [
      'printf',
      '%s\\0',
      'a b',
      "it's",
      '"q"',
      '$(touch /tmp/netab-pwned)',
      '`id`',
      'x\\ny',
      'tail\n\n',
      '\ttab',
      ' lead',
      '-',
      '',
      '*',
      'ünï ☃',
      'trail.',
    ];
    const env = { FOO: 'x y "z" $HOME', MULTI: 'l1\nl2\n', EMPTY: '' };
    const ctl = join(dir, 'ctl');
    await writeControlFiles(ctl, { workDir: '/w', cwd: '/tmp/some dir', argv, env });
    // stage 2's own snippet, run by the host's sh; prints each resulting "$@" word NUL-terminated
    const script = `off() { echo OFF; exit 99; }\nC="$1"\n${READ_RUN_SPEC}printf '%s\\0' "$cwd" "$@"\n`;
    const r = await run(['sh', '-c', script, 'sh', ctl]);
    const words = r.stdout.split('\0').slice(0, -1);
    expect(words[0]).toBe('/tmp/some dir');
    expect(words.slice(1)).toEqual([...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv]);
    expect(await readFile(join(ctl, 'workdir'), 'utf8')).toBe('/w.');
  });

  it('parses the exit file', () => {
    expect(parseExitFile('3\n')).toBe(3);
    expect(parseExitFile('0')).toBe(0);
    expect(parseExitFile('')).toBeNull();
    expect(parseExitFile(null)).toBeNull();
    expect(parseExitFile('x')).toBeNull();
  });

  it('guest scripts are valid sh', async () => {
    for (const s of [INIT_SCRIPT, STAGE2_SCRIPT, MODPROBE_WRAPPER]) {
      const r = await run(['sh', '-n', '-c', s], { reject: false });
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
    }
  });
});

describe('setup stamp', () => {
  it('changes with the kernel package, qemu and cache dir', () => {
    const base = { packageName: 'linux-image-6.1.0-56-amd64', packageVersion: '6.1.192-2', qemuVersion: 'QEMU 7.2', cacheDir: '/c' };
    const s = computeStamp(base);
    expect(computeStamp(base)).toBe(s);
    expect(computeStamp({ ...base, packageVersion: '6.1.192-3' })).not.toBe(s);
    expect(computeStamp({ ...base, qemuVersion: 'QEMU 8' })).not.toBe(s);
    expect(computeStamp({ ...base, cacheDir: '/d' })).not.toBe(s);
  });
});

describe('setup helpers', () => {
  it('isStaticElf: an ELF64 without PT_INTERP is static, with one it is not', () => {
    const elf = (types: number[]) => {
      const b = Buffer.alloc(64 + 56 * types.length);
      b.writeUInt32BE(0x7f454c46, 0);
      b[4] = 2;
      b.writeBigUInt64LE(64n, 0x20);
      b.writeUInt16LE(56, 0x36);
      b.writeUInt16LE(types.length, 0x38);
      types.forEach((t, i) => b.writeUInt32LE(t, 64 + i * 56));
      return b;
    };
    expect(isStaticElf(elf([1, 1]))).toBe(true);
    expect(isStaticElf(elf([1, 3]))).toBe(false);
    expect(isStaticElf(Buffer.from('#!/bin/sh\n'.padEnd(80)))).toBe(false);
  });

  it('pidAlive: this process yes, nonsense no', () => {
    expect(pidAlive(process.pid)).toBe(true);
    expect(pidAlive(0)).toBe(false);
    expect(pidAlive(Number.NaN)).toBe(false);
  });

  it('listTree: sorted relative paths, directories included', async () => {
    const d = await mkdtemp(join(tmpdir(), 'netab-vm-tree-'));
    try {
      await mkdir(join(d, 'b', 'c'), { recursive: true });
      await writeFile(join(d, 'b', 'c', 'f'), '');
      await writeFile(join(d, 'a'), '');
      expect(await listTree(d)).toEqual(['a', 'b', 'b/c', 'b/c/f']);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});
