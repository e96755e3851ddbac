/**
 * netab's default endpoint image, built locally (nothing is pulled): a minimal root filesystem made of
 * this host's own binaries (busybox with its httpd, wget, sh, sleep; iperf3) plus their shared
 * libraries as `ldd` lists them, handed to Docker as a tar stream (`docker import`) and tagged
 * netab/endpoint:<netab version>. Tools that netab runs itself (ip, tc, ss, iperf3 of the pipeline)
 * come from the host and enter the container's namespace; the image only has to keep a container
 * alive and serve the odd HTTP request.
 */
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { run, which } from '../../exec/index.js';
import { NETAB_VERSION } from '../../version.js';
import { dockerClient, engineStatus, pingDocker, type Docker, type EngineInfo } from './client.js';
import { docker as call, DockerError, dockerMessage } from './errors.js';
import { tarArchive, type TarEntry } from './tar.js';

export const ENDPOINT_REPO = 'netab/endpoint';
export const ENDPOINT_HTTP_PORT = 8080;
/** busybox httpd in the foreground serving /srv (index.html, hello.txt, 100k.bin, 1m.bin) */
export const ENDPOINT_HTTP_COMMAND = ['httpd', '-f', '-p', String(ENDPOINT_HTTP_PORT), '-h', '/srv'];
export const ENDPOINT_DEFAULT_COMMAND = ['sleep', 'infinity'];
/** the files under /srv: name -> size in bytes */
export const ENDPOINT_FILES: Record<string, number> = { 'hello.txt': 17, '100k.bin': 100_000, '1m.bin': 1_000_000 };

export function endpointImageTag(version: string = NETAB_VERSION): string {
  return `${ENDPOINT_REPO}:${version}`;
}

export interface Rootfs {
  entries: TarEntry[];
  /** sha256 over paths and contents: changes when the host's binaries do */
  sha256: string;
  files: number;
  bytes: number;
  binaries: Record<string, string>;
}

/** Shared libraries of a dynamic executable, as ldd resolves them ([] for a static one). */
export async function sharedLibraries(binary: string): Promise<string[]> {
  const r = await run(['ldd', binary], { reject: false });
  if (r.exitCode !== 0) return []; // "not a dynamic executable"
  return parseLdd(r.stdout);
}

export function parseLdd(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const arrow = /=>\s*(\/\S+)/.exec(line);
    if (arrow) out.push(arrow[1]!);
    else {
      const direct = /^\s*(\/\S+)\s+\(/.exec(line);
      if (direct) out.push(direct[1]!);
    }
  }
  return [...new Set(out)];
}

/** Deterministic filler for the HTTP test files (incompressible, the same on every build). */
function filler(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

export async function assembleRootfs(): Promise<Rootfs> {
  const busybox = await which('busybox');
  const iperf3 = await which('iperf3');
  const missing = [!busybox && 'busybox (Debian: busybox-static)', !iperf3 && 'iperf3'].filter(Boolean);
  if (missing.length) {
    throw new DockerError(
      `cannot build the endpoint image: ${missing.join(' and ')} not found on this host; netab builds the image from host binaries ` +
        '(`apt-get install busybox-static iperf3`, or run `zx scripts/docker-engine.mjs`)',
    );
  }
  const files = new Map<string, { data: Buffer; mode: number }>();
  const addHostFile = (hostPath: string, imagePath: string) => {
    const real = realpathSync(hostPath);
    files.set(imagePath, { data: readFileSync(real), mode: statSync(real).mode & 0o777 });
  };
  addHostFile(busybox!, '/bin/busybox');
  addHostFile(iperf3!, '/usr/bin/iperf3');
  for (const bin of [busybox!, iperf3!]) for (const lib of await sharedLibraries(bin)) addHostFile(lib, lib);

  const applets = (await run([busybox!, '--list'])).stdout
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => /^[\w.[\]-]+$/.test(s) && s !== 'busybox');
  const links = new Map<string, string>();
  for (const a of applets) if (!files.has(`/bin/${a}`)) links.set(`/bin/${a}`, 'busybox');

  const text = (s: string) => Buffer.from(s);
  const etc: Record<string, string> = {
    '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
    '/etc/group': 'root:x:0:\nnogroup:x:65534:\n',
    '/etc/hosts': '127.0.0.1 localhost\n',
    '/etc/hostname': 'netab-endpoint\n',
    '/etc/resolv.conf': '',
    '/etc/netab-endpoint': `netab endpoint image ${NETAB_VERSION}: busybox ${busybox} (httpd, wget, sh, sleep), iperf3 ${iperf3}\n`,
    '/srv/index.html': '<!doctype html><title>netab endpoint</title><p>netab endpoint: hello.txt, 100k.bin, 1m.bin</p>\n',
    '/srv/hello.txt': 'hello from netab\n',
  };
  for (const [p, s] of Object.entries(etc)) files.set(p, { data: text(s), mode: 0o644 });
  files.set('/srv/100k.bin', { data: filler(ENDPOINT_FILES['100k.bin']!, 100), mode: 0o644 });
  files.set('/srv/1m.bin', { data: filler(ENDPOINT_FILES['1m.bin']!, 1000), mode: 0o644 });

  // directories: every parent of every path, plus the usual mount points
  const dirs = new Map<string, number>([
    ['/tmp', 0o1777],
    ['/root', 0o700],
    ['/proc', 0o555],
    ['/sys', 0o555],
    ['/dev', 0o755],
    ['/run', 0o755],
    ['/var', 0o755],
  ]);
  for (const p of [...files.keys(), ...links.keys()]) {
    const parts = p.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const d = '/' + parts.slice(0, i).join('/');
      if (!dirs.has(d)) dirs.set(d, 0o755);
    }
  }
  const entries: TarEntry[] = [];
  for (const d of [...dirs.keys()].sort()) entries.push({ type: 'dir', path: d, mode: dirs.get(d)! });
  const hash = createHash('sha256');
  let bytes = 0;
  for (const p of [...files.keys()].sort()) {
    const f = files.get(p)!;
    entries.push({ type: 'file', path: p, mode: f.mode, data: f.data });
    hash.update(p).update('\0').update(f.data);
    bytes += f.data.length;
  }
  for (const p of [...links.keys()].sort()) {
    entries.push({ type: 'symlink', path: p, target: links.get(p)! });
    hash.update(p).update('->').update(links.get(p)!);
  }
  return { entries, sha256: hash.digest('hex'), files: files.size, bytes, binaries: { busybox: busybox!, iperf3: iperf3! } };
}

export interface ImageInfo {
  tag: string;
  id: string;
  sizeBytes: number;
  created: string;
  rootfsSha256?: string;
}

async function inspectImage(d: Docker, tag: string): Promise<ImageInfo | null> {
  try {
    const i = await d.getImage(tag).inspect();
    return { tag, id: i.Id, sizeBytes: i.Size, created: i.Created, rootfsSha256: i.Config?.Labels?.['netab.rootfs.sha256'] };
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return null;
    throw e;
  }
}

/** Is an image present locally? (null when not; DockerError when the engine fails) */
export async function imagePresent(tag: string, d: Docker = dockerClient()): Promise<ImageInfo | null> {
  return call(`inspect image ${tag}`, inspectImage(d, tag));
}

export interface BuildResult extends ImageInfo {
  /** false when the tag was already there and reused */
  built: boolean;
  files?: number;
  ms: number;
}

/**
 * Build (or reuse, cached by tag) netab/endpoint:<version>. `force` rebuilds even when the tag exists.
 * Throws DockerError (exit code 3) when the engine is unreachable or the build fails.
 */
export async function buildEndpointImage(
  log: (s: string) => void = () => {},
  opts: { force?: boolean; docker?: Docker; tag?: string } = {},
): Promise<BuildResult> {
  const d = opts.docker ?? dockerClient();
  const tag = opts.tag ?? endpointImageTag();
  const t0 = performance.now();
  await pingDocker(d);
  if (!opts.force) {
    const have = await imagePresent(tag, d);
    if (have) return { ...have, built: false, ms: performance.now() - t0 };
  }
  const fs = await assembleRootfs();
  log(`building ${tag} from host binaries: ${fs.files} files, ${(fs.bytes / 1e6).toFixed(1)} MB`);
  const tar = tarArchive(fs.entries);
  const [repo, version] = [tag.slice(0, tag.lastIndexOf(':')), tag.slice(tag.lastIndexOf(':') + 1)];
  const changes = [
    `CMD ${JSON.stringify(ENDPOINT_DEFAULT_COMMAND)}`,
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'WORKDIR /',
    `EXPOSE ${ENDPOINT_HTTP_PORT}/tcp 5201/tcp`,
    `LABEL netab.image=endpoint netab.version=${NETAB_VERSION} netab.rootfs.sha256=${fs.sha256}`,
  ];
  await call(`import the endpoint image ${tag}`, async () => {
    const stream = await d.importImage(Readable.from([tar]), { repo, tag: version, changes } as object);
    await new Promise<void>((resolve, reject) => {
      d.modem.followProgress(stream, (err: Error | null, out: { error?: string; errorDetail?: { message?: string } }[]) => {
        const bad = out?.find((o) => o.error || o.errorDetail);
        if (err) reject(err);
        else if (bad) reject(new Error(bad.errorDetail?.message ?? bad.error));
        else resolve();
      });
    });
  });
  const info = await imagePresent(tag, d);
  if (!info) throw new DockerError(`the endpoint image ${tag} was imported but Docker does not list it`);
  log(`built ${tag} (${info.id.slice(7, 19)}, ${(info.sizeBytes / 1e6).toFixed(1)} MB)`);
  return { ...info, built: true, files: fs.files, ms: performance.now() - t0 };
}

export interface DockerStatus {
  engine: { ok: true; info: EngineInfo } | { ok: false; error: string };
  image: { tag: string; present: boolean; id?: string; sizeBytes?: number; created?: string; error?: string };
  /** one line per finding, for `netab doctor` */
  lines: string[];
  ok: boolean;
}

/** For `netab doctor`: engine reachable? default endpoint image built? Never throws. */
export async function endpointImageStatus(d: Docker = dockerClient()): Promise<DockerStatus> {
  const tag = endpointImageTag();
  const engine = await engineStatus(d);
  const lines: string[] = [];
  if (!engine.ok) {
    lines.push(`docker: engine not reachable: ${engine.error}`);
    return { engine, image: { tag, present: false }, lines, ok: false };
  }
  lines.push(`docker: engine ${engine.info.version} (API ${engine.info.apiVersion}) at ${engine.info.host}`);
  try {
    const i = await inspectImage(d, tag);
    if (i) lines.push(`docker: endpoint image ${tag} present (${i.id.slice(7, 19)}, ${(i.sizeBytes / 1e6).toFixed(1)} MB)`);
    else lines.push(`docker: endpoint image ${tag} not built yet (built on first docker run, or \`netab docker build-image\`)`);
    return {
      engine,
      image: i ? { tag, present: true, id: i.id, sizeBytes: i.sizeBytes, created: i.created } : { tag, present: false },
      lines,
      ok: true,
    };
  } catch (e) {
    const error = dockerMessage(e);
    lines.push(`docker: cannot inspect ${tag}: ${error}`);
    return { engine, image: { tag, present: false, error }, lines, ok: false };
  }
}

/** `netab docker build-image [--force]`: prints progress, returns the exit code (0, or 3 with the reason). */
export async function dockerBuildImageCommand(opts: { force?: boolean; log?: (s: string) => void } = {}): Promise<number> {
  const log = opts.log ?? ((s: string) => process.stderr.write(s + '\n'));
  try {
    const r = await buildEndpointImage(log, { force: opts.force });
    if (!r.built) log(`${r.tag} already present (${r.id.slice(7, 19)}); use --force to rebuild`);
    else log(`done in ${(r.ms / 1000).toFixed(1)} s`);
    return 0;
  } catch (e) {
    log(`netab: ${(e as Error).message}`);
    return (e as { exitCode?: number }).exitCode ?? 3;
  }
}
