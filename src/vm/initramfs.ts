/** The initramfs: static busybox, the guest kernel's modules in dependency order, the guest scripts. */
import { chmod, copyFile, mkdir, readFile, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { run } from '../exec/index.js';
import { INIT_SCRIPT, INITRAMFS_MODULES, MODPROBE_WRAPPER, STAGE2_SCRIPT } from './guest.js';
import { mergeOrdered, parseShowDepends } from './kernel.js';
import { VmError } from './types.js';

/** Copy a module into `destDir` uncompressed (busybox insmod can't read .ko.xz/.ko.zst); returns its basename. */
async function copyModule(src: string, destDir: string): Promise<string> {
  if (src.endsWith('.ko')) {
    await copyFile(src, join(destDir, basename(src)));
    return basename(src);
  }
  const name = basename(src).replace(/\.(xz|gz|zst)$/, '');
  const dest = join(destDir, name);
  if (src.endsWith('.gz')) {
    await writeFile(dest, gunzipSync(await readFile(src)));
  } else if (src.endsWith('.xz') || src.endsWith('.zst')) {
    const tool = src.endsWith('.xz') ? 'xz' : 'zstd';
    const tmp = `${dest}.${src.endsWith('.xz') ? 'xz' : 'zst'}`;
    await copyFile(src, tmp);
    await run([tool, '--decompress', '--force', tmp]); // file to file: tmp -> dest
    await rm(tmp, { force: true });
  } else {
    throw new VmError('setup-failed', `unknown module file type: ${src}`);
  }
  return name;
}

export function isStaticElf(b: Buffer): boolean {
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false;
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3) return false; // PT_INTERP
  return true;
}

export async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      out.push(p);
      if (e.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return out.map((p) => relative(dir, p)).sort();
}

/** Build <kernelDir>/initramfs.cpio: static busybox, the modules in dependency order, the guest scripts. */
export async function buildInitramfs(
  kdir: string,
  root: string,
  release: string,
  log: (s: string) => void,
): Promise<{ path: string; modules: string[] }> {
  const stage = join(kdir, `.initramfs-${process.pid}`);
  await rm(stage, { recursive: true, force: true });
  for (const d of ['bin', 'dev', 'proc', 'sys', 'newroot', 'netab', 'lib/netab-modules']) await mkdir(join(stage, d), { recursive: true });

  const bb = '/bin/busybox';
  const bbBuf = await readFile(bb).catch(() => null);
  if (!bbBuf || !isStaticElf(bbBuf)) throw new VmError('setup-failed', `${bb} is not a static busybox (apt-get install busybox-static)`);
  await writeFile(join(stage, 'bin', 'busybox'), bbBuf, { mode: 0o755 });
  const applets = (await run([bb, '--list'])).stdout
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => /^[\w.[-]+$/.test(s) && s !== 'busybox');
  for (const a of applets) await symlink('busybox', join(stage, 'bin', a));

  const lists: string[][] = [];
  for (const m of INITRAMFS_MODULES) {
    const r = await run(['modprobe', '--show-depends', '-d', root, '-S', release, m]);
    lists.push(parseShowDepends(r.stdout));
  }
  const files = mergeOrdered(lists);
  const order: string[] = [];
  for (const f of files) order.push(await copyModule(f, join(stage, 'lib', 'netab-modules')));
  await writeFile(join(stage, 'lib', 'netab-modules', 'order'), order.join('\n') + '\n');
  log(`initramfs modules: ${order.map((m) => m.replace(/\.ko$/, '')).join(' ')}`);

  await writeFile(join(stage, 'init'), INIT_SCRIPT, { mode: 0o755 });
  await writeFile(join(stage, 'netab', 'stage2'), STAGE2_SCRIPT, { mode: 0o644 });
  await writeFile(join(stage, 'netab', 'modprobe'), MODPROBE_WRAPPER, { mode: 0o755 });
  if (/\n/.test(root)) throw new VmError('setup-failed', `cache path may not contain a newline: ${root}`);
  await writeFile(join(stage, 'netab', 'modroot'), root + '\n');
  await chmod(join(stage, 'init'), 0o755);

  const list = await listTree(stage);
  const out = join(kdir, 'initramfs.cpio');
  await rm(`${out}.tmp`, { force: true });
  await run(['cpio', '--quiet', '-o', '-H', 'newc', '--reproducible', '-O', `${out}.tmp`], { cwd: stage, input: list.join('\n') + '\n' });
  await rename(`${out}.tmp`, out);
  await rm(stage, { recursive: true, force: true });
  return { path: out, modules: order };
}
