/**
 * Kernel-image helpers: the uncompressed vmlinux inside a bzImage, its PVH ELF note, module
 * dependency order, and the Debian metapackage's dependency. Pure functions plus a few file steps.
 */
import { gunzipSync } from 'node:zlib';
import { open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { run } from '../exec/index.js';

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b, 0x08]);
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/** Every offset of `needle` in `buf` (like extract-vmlinux's `grep -abo`). */
export function findAll(buf: Buffer, needle: Buffer): number[] {
  const out: number[] = [];
  let i = buf.indexOf(needle);
  while (i >= 0) {
    out.push(i);
    i = buf.indexOf(needle, i + 1);
  }
  return out;
}

/** XEN_ELFNOTE_PHYS32_ENTRY: the PVH entry point qemu needs to boot an ELF vmlinux directly. */
const XEN_ELFNOTE_PHYS32_ENTRY = 18;

/** True when `elf` (an ELF64 little-endian image) carries the Xen PVH entry note in a PT_NOTE segment. */
export function hasPvhNote(elf: Buffer): boolean {
  if (elf.length < 64 || !elf.subarray(0, 4).equals(ELF_MAGIC)) return false;
  if (elf[4] !== 2 || elf[5] !== 1) return false; // ELFCLASS64, little endian
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + 56 > elf.length) return false;
    if (elf.readUInt32LE(ph) !== 4) continue; // PT_NOTE
    const off = Number(elf.readBigUInt64LE(ph + 8));
    const size = Number(elf.readBigUInt64LE(ph + 32));
    let p = off;
    const end = Math.min(off + size, elf.length);
    while (p + 12 <= end) {
      const namesz = elf.readUInt32LE(p);
      const descsz = elf.readUInt32LE(p + 4);
      const type = elf.readUInt32LE(p + 8);
      const name = elf
        .subarray(p + 12, p + 12 + namesz)
        .toString('latin1')
        .replace(/\0+$/, '');
      if (name === 'Xen' && type === XEN_ELFNOTE_PHYS32_ENTRY) return true;
      p += 12 + align4(namesz) + align4(descsz);
    }
  }
  return false;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/**
 * Extract the uncompressed vmlinux from a bzImage (the kernel's scripts/extract-vmlinux, in
 * TypeScript): try each xz (via the `xz` binary) or gzip (node:zlib) stream start until one
 * decompresses to an ELF. Writes `dest`; returns false when no payload decompressed to an ELF.
 */
export async function extractVmlinux(vmlinuz: string, dest: string): Promise<boolean> {
  const img = await readFile(vmlinuz);
  const tmpXz = `${dest}.payload.xz`;
  const tmpOut = `${dest}.payload`;
  try {
    for (const off of findAll(img, XZ_MAGIC)) {
      await writeFile(tmpXz, img.subarray(off));
      await rm(tmpOut, { force: true });
      // file to file (binary-safe); --single-stream ignores the bzImage's trailing data
      const r = await run(['xz', '--decompress', '--keep', '--force', '--single-stream', tmpXz], { reject: false });
      if (r.exitCode === 0 && (await isElf(tmpOut))) {
        await rename(tmpOut, dest);
        return true;
      }
    }
    for (const off of findAll(img, GZIP_MAGIC)) {
      try {
        const out = gunzipSync(img.subarray(off));
        if (out.subarray(0, 4).equals(ELF_MAGIC)) {
          await writeFile(dest, out);
          return true;
        }
      } catch {
        /* not a gzip stream after all */
      }
    }
    return false;
  } finally {
    await rm(tmpXz, { force: true });
    await rm(tmpOut, { force: true });
  }
}

async function isElf(path: string): Promise<boolean> {
  try {
    if ((await stat(path)).size < 64) return false;
    const fh = await open(path, 'r');
    try {
      const b = Buffer.alloc(4);
      await fh.read(b, 0, 4, 0);
      return b.equals(ELF_MAGIC);
    } finally {
      await fh.close();
    }
  } catch {
    return false;
  }
}

/** Does the ELF file at `path` have the PVH note? (reads the whole file; vmlinux is ~65 MB) */
export async function fileHasPvhNote(path: string): Promise<boolean> {
  return hasPvhNote(await readFile(path));
}

/**
 * Parse `modprobe --show-depends` output into the module files to insmod, in order.
 * Lines look like `insmod /abs/path/x.ko [params]` or `builtin x`.
 */
export function parseShowDepends(out: string): string[] {
  const files: string[] = [];
  for (const line of out.split('\n')) {
    const m = /^insmod\s+(\S+)/.exec(line.trim());
    if (m) files.push(m[1]!);
  }
  return files;
}

/** Merge several dependency-ordered lists, keeping the first occurrence of each file. */
export function mergeOrdered(lists: string[][]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const l of lists) {
    for (const f of l) {
      if (!seen.has(f)) {
        seen.add(f);
        out.push(f);
      }
    }
  }
  return out;
}

/**
 * The concrete kernel package a Debian `linux-image-amd64` record depends on, from
 * `apt-cache show --no-all-versions linux-image-amd64`.
 */
export function parseKernelDependency(aptCacheShow: string): { name: string; version?: string } | null {
  const line = aptCacheShow.split('\n').find((l) => l.startsWith('Depends:'));
  if (!line) return null;
  for (const alt of line.slice('Depends:'.length).split(/[,|]/)) {
    const m = /^\s*(linux-image-[A-Za-z0-9.+~-]+)\s*(?:\(\s*=\s*([^)\s]+)\s*\))?/.exec(alt);
    if (m && m[1] !== 'linux-image-amd64' && !m[1]!.endsWith('-dbg')) return { name: m[1]!, ...(m[2] ? { version: m[2] } : {}) };
  }
  return null;
}
