/**
 * The Engine API client. dockerode is imported in src/topology/docker only; everything else in netab
 * sees this backend through its exported functions. The client honours DOCKER_HOST, else the local
 * socket /var/run/docker.sock.
 */
import Docker from 'dockerode';
import { docker as call, DockerError, dockerHostDescription, dockerMessage } from './errors.js';

export type { Docker };

/** Labels on every container and network netab creates. */
export const LABEL = 'netab';
export const LABEL_RUN = 'netab.run';
export const LABEL_ROLE = 'netab.role';
export const LABEL_PID = 'netab.pid';
export const LABEL_HOST = 'netab.host';
export const LABEL_NS = 'netab.ns';

let shared: Docker | null = null;

/** The shared client (DOCKER_HOST or /var/run/docker.sock), or a new one for another socket. */
export function dockerClient(opts?: { socketPath: string }): Docker {
  if (opts) return new Docker(opts);
  shared ??= new Docker();
  return shared;
}

export interface EngineInfo {
  version: string;
  apiVersion: string;
  host: string;
}

/** Is the engine there? Answers within timeoutMs or throws a DockerError saying how to start one. */
export async function pingDocker(d: Docker = dockerClient(), timeoutMs = 5000): Promise<EngineInfo> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
  });
  try {
    const v = await call('reach the Docker engine', Promise.race([d.version(), timeout]));
    return { version: v.Version, apiVersion: v.ApiVersion, host: dockerHostDescription() };
  } finally {
    clearTimeout(timer);
  }
}

/** Engine status for `netab doctor`: never throws. */
export async function engineStatus(d: Docker = dockerClient()): Promise<{ ok: true; info: EngineInfo } | { ok: false; error: string }> {
  try {
    return { ok: true, info: await pingDocker(d) };
  } catch (e) {
    return { ok: false, error: e instanceof DockerError ? e.message : dockerMessage(e) };
  }
}

/** A container's log tail as text (non-TTY logs carry an 8-byte frame header per chunk). */
export async function containerLogs(d: Docker, id: string, tail = 20): Promise<string> {
  try {
    const buf = (await d.getContainer(id).logs({ stdout: true, stderr: true, tail, follow: false })) as unknown as Buffer;
    return demuxLogs(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf))).trim();
  } catch {
    return '';
  }
}

export function demuxLogs(buf: Buffer): string {
  const parts: string[] = [];
  let i = 0;
  while (i + 8 <= buf.length && buf[i]! <= 2 && buf[i + 1] === 0 && buf[i + 2] === 0 && buf[i + 3] === 0) {
    const n = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + n).toString('utf8'));
    i += 8 + n;
  }
  if (i < buf.length) parts.push(buf.subarray(i).toString('utf8'));
  return parts.join('');
}
