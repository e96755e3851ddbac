/**
 * One error type for everything the Docker backend reports: a clear sentence of what netab was doing,
 * Docker's own message inside it, and exit code 3 (environment problem, like EngineUnavailable).
 */

export class DockerError extends Error {
  readonly exitCode = 3;
  constructor(
    message: string,
    /** the Docker engine's own message, when there is one */
    readonly dockerMessage?: string,
    /** HTTP status of the failed Engine API call, when there is one */
    readonly statusCode?: number,
  ) {
    super(message);
    this.name = 'DockerError';
  }
}

interface DockerodeError {
  statusCode?: number;
  json?: { message?: string } | string | null;
  reason?: string;
  code?: string;
  message?: string;
  address?: string;
}

/** Docker's message out of a dockerode/docker-modem error (HTTP status + body, or a socket error). */
export function dockerMessage(e: unknown): string {
  const d = e as DockerodeError;
  if (d && typeof d.json === 'object' && d.json && typeof d.json.message === 'string') return d.json.message.trim();
  if (d && typeof d.json === 'string' && d.json.trim()) return d.json.trim();
  return String(d?.message ?? e).trim();
}

export function isUnreachable(e: unknown): boolean {
  const code = (e as DockerodeError)?.code;
  return (
    code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EPIPE'
  );
}

export function dockerHostDescription(): string {
  return process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

/**
 * Turn a failed Engine API call into a DockerError. `what` is what netab was doing
 * ("create container netab-1a2b3c-c-rcv"); the classification adds what to do about it.
 */
export function toDockerError(e: unknown, what: string): DockerError {
  if (e instanceof DockerError) return e;
  const msg = dockerMessage(e);
  const status = (e as DockerodeError)?.statusCode;
  if (isUnreachable(e)) {
    return new DockerError(
      `Docker engine not reachable at ${dockerHostDescription()} while trying to ${what} (${msg}). ` +
        'Start one with `zx scripts/docker-engine.mjs` (installs docker.io and starts dockerd when missing).',
      msg,
    );
  }
  if (status === 404 && /no such image|not found|pull access denied|repository does not exist/i.test(msg)) {
    return new DockerError(
      `cannot ${what}: the image is not in the local Docker engine and netab does not pull images (Docker: ${msg}). ` +
        'Load or build it first (`docker pull`/`docker load`; the default endpoint image: `netab docker build-image`).',
      msg,
      status,
    );
  }
  if (status === 409) {
    return new DockerError(
      `cannot ${what}: the name is already in use (Docker: ${msg}). A crashed run may have left it behind: run \`netab gc\`.`,
      msg,
      status,
    );
  }
  const sysctl = /write \/proc\/sys\/(\S+?):/.exec(msg);
  if (sysctl) {
    return new DockerError(
      `cannot ${what}: Docker could not set the container sysctl ${sysctl[1]!.replace(/\//g, '.')} (Docker: ${msg})`,
      msg,
      status,
    );
  }
  if (/pool overlaps|overlaps with other one/i.test(msg)) {
    return new DockerError(`cannot ${what}: its subnet overlaps an existing Docker network (Docker: ${msg}).`, msg, status);
  }
  return new DockerError(`cannot ${what} (Docker${status ? ` HTTP ${status}` : ''}: ${msg})`, msg, status);
}

/** Await an Engine API call, rethrowing its failure as a DockerError about `what`. */
export async function docker<T>(what: string, p: Promise<T> | (() => Promise<T>)): Promise<T> {
  try {
    return await (typeof p === 'function' ? p() : p);
  } catch (e) {
    throw toDockerError(e, what);
  }
}
