/**
 * netab's transfer tool: short flows over plain TCP (Node `net`, nothing to install). Run by netab,
 * the server in the *sender* namespace (the tuned host that sends the data, like an edge server) and
 * the client in the *receiver* namespace (it sends small requests and receives the responses).
 *
 *   node transfer-main.js server ADDR PORT
 *        serves requests (see transfer-protocol.ts) on any number of connections; prints
 *        {"event":"ready"} once listening, {"event":"stats",...} when stopped (SIGTERM / stdin end)
 *        and on each stdin line "stats" (counters since the last, then reset: one trial's worth)
 *   node transfer-main.js client CONFIG_JSON
 *        runs one trial's worth of fct / rr / pageload exchanges (ClientConfig) and prints one JSON line
 *        (ClientResult); exit 1 with {"error":...} when a connection fails
 *   node transfer-main.js jobs
 *        the client kept up across trials: prints {"event":"ready"}, then runs one ClientConfig per
 *        stdin line (fct / rr / pageload) and prints its ClientResult; the line "release" closes the
 *        connections the last job held ({"event":"released"}); a failed job prints {"error":...}
 *        and exits 1 (its half-open connections go with it); stdin end exits 0
 *
 * Honest measurement: every timestamp is process.hrtime.bigint() (monotonic, ns), taken in the
 * event callback (connect, data); TCP_NODELAY is set on both ends (no Nagle delay on a response's
 * last partial segment or on a request), a request goes out in one write, responses are written
 * from a preallocated buffer in 1 MiB slices with back-pressure. Nothing else is set on the socket:
 * buffer sizes, congestion control and route options are the namespace's, i.e. the tuning under test.
 */
import { connect, createServer } from 'node:net';
import { type Conn, exchanges } from './transfer-exchanges.js';
import { encodeRequest, RequestParser, type ClientConfig, type ClientResult, type Request } from './transfer-protocol.js';
const out = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');

// ---------------------------------------------------------------------------------------- server

const CHUNK = Buffer.alloc(1 << 20);

function serve(addr: string, port: number): void {
  const stats = { connections: 0, requests: 0, bytesSent: 0, errors: 0 };
  const server = createServer({ noDelay: true }, (sock) => {
    stats.connections++;
    sock.setNoDelay(true);
    const parser = new RequestParser();
    const queue: Request[] = [];
    let writing = false;
    let ended = false;
    const pump = async () => {
      if (writing) return;
      writing = true;
      try {
        while (queue.length) {
          const r = queue.shift()!;
          stats.requests++;
          let left = r.responseBytes;
          while (left > 0) {
            const n = Math.min(left, CHUNK.length);
            left -= n;
            stats.bytesSent += n;
            if (!sock.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
              await new Promise<void>((res) => {
                const done = () => {
                  sock.off('drain', done);
                  sock.off('close', done);
                  res();
                };
                sock.on('drain', done);
                sock.on('close', done);
              });
              if (sock.destroyed) return;
            }
          }
        }
      } finally {
        writing = false;
      }
      if (ended && !sock.destroyed) sock.end();
    };
    sock.on('data', (chunk: Buffer) => {
      try {
        queue.push(...parser.push(chunk));
      } catch (e) {
        stats.errors++;
        process.stderr.write(`transfer server: ${(e as Error).message}; closing the connection\n`);
        sock.destroy();
        return;
      }
      void pump();
    });
    sock.on('end', () => {
      ended = true;
      if (!writing && queue.length === 0) sock.end();
    });
    sock.on('error', () => {
      stats.errors++;
    });
  });
  const stop = () => {
    out({ event: 'stats', ...stats });
    process.exit(0);
  };
  // a server kept up across trials: the line "stats" prints the counters since the last one and
  // resets them (one trial's worth)
  let pending = '';
  process.stdin.on('data', (d: Buffer) => {
    pending += d.toString('latin1');
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line === 'stats') {
        out({ event: 'stats', ...stats });
        stats.connections = stats.requests = stats.bytesSent = stats.errors = 0;
      }
      nl = pending.indexOf('\n');
    }
    if (pending.length > 4096) pending = ''; // not ours: netab writes only short lines
  });
  server.on('error', (e) => {
    process.stderr.write(`transfer server: ${e.message}\n`);
    process.exit(1);
  });
  server.listen({ host: addr, port, backlog: 1024 }, () => out({ event: 'ready', port }));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}

// ---------------------------------------------------------------------------------------- client

/** A response no on period will ever finish (the connection is closed first). */
const ENDLESS = 2 ** 50;

async function runOnOff(c: ClientConfig): Promise<Partial<ClientResult>> {
  const start = Date.now();
  let stopped = false;
  const wake = new Set<() => void>();
  const stop = () => {
    stopped = true;
    for (const w of wake) w();
  };
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
  // sleep until `until` (Date.now() ms) or stop
  const until = (t: number) =>
    new Promise<void>((res) => {
      if (stopped) return res();
      const done = () => {
        clearTimeout(timer);
        wake.delete(done);
        res();
      };
      const timer = setTimeout(done, Math.max(0, t - Date.now()));
      wake.add(done);
    });
  let periods = 0;
  let bytes = 0;
  const schedule = c.schedule ?? [];
  await Promise.all(
    schedule.map(async (periodsOfSource) => {
      for (const p of periodsOfSource) {
        await until(start + p.atMs);
        if (stopped) return;
        periods++;
        const sock = connect({ host: c.addr, port: c.port, noDelay: true });
        sock.on('data', (d: Buffer) => (bytes += d.length));
        sock.on('error', () => {});
        sock.once('connect', () => sock.write(encodeRequest(c.requestBytes, ENDLESS)));
        await until(start + p.atMs + p.durMs);
        sock.destroy();
      }
    }),
  );
  process.stdin.pause();
  return { cross: { periods, bytes, sources: schedule.length } };
}

const failed = (mode: unknown, e: Error): ClientResult =>
  ({ mode, clock: 'hrtime', error: `${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`.trim() }) as ClientResult;

async function client(c: ClientConfig): Promise<void> {
  const held: Conn[] = [];
  if (c.mode === 'onoff') out({ mode: c.mode, clock: 'hrtime', ...(await runOnOff(c)) });
  else out(await exchanges(c, held));
  const finish = () => {
    for (const h of held) h.close();
    setTimeout(() => process.exit(0), 20).unref();
  };
  if (held.length) {
    process.stdin.on('end', finish);
    process.stdin.on('error', finish);
    process.stdin.resume();
  } else finish();
}

function jobs(): void {
  let held: Conn[] = [];
  let queue = Promise.resolve();
  let pending = '';
  const release = () => {
    for (const h of held) h.close();
    held = [];
  };
  const handle = async (line: string): Promise<void> => {
    release();
    if (line === 'release') {
      out({ event: 'released' });
      return;
    }
    let c: ClientConfig;
    try {
      c = JSON.parse(line) as ClientConfig;
    } catch (e) {
      out(failed(undefined, new Error(`bad config: ${(e as Error).message}`)));
      process.exit(1);
    }
    try {
      out(await exchanges(c, held));
    } catch (e) {
      out(failed(c.mode, e as Error));
      process.exit(1);
    }
  };
  process.stdin.on('data', (d: Buffer) => {
    pending += d.toString('utf8');
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line) queue = queue.then(() => handle(line));
      nl = pending.indexOf('\n');
    }
  });
  const end = () =>
    void queue.then(() => {
      release();
      setTimeout(() => process.exit(0), 20).unref();
    });
  process.stdin.on('end', end);
  process.stdin.on('error', end);
  process.on('SIGTERM', () => process.exit(0));
  process.stdin.resume();
  out({ event: 'ready' });
}

const [mode, a1, a2] = process.argv.slice(2);
if (mode === 'server' && a1 && a2) {
  serve(a1, Number(a2));
} else if (mode === 'jobs') {
  jobs();
} else if (mode === 'client' && a1) {
  let cfg: ClientConfig;
  try {
    cfg = JSON.parse(a1) as ClientConfig;
  } catch (e) {
    process.stderr.write(`transfer client: bad config: ${(e as Error).message}\n`);
    process.exit(2);
  }
  client(cfg).catch((e: Error) => {
    out(failed(cfg.mode, e));
    process.exit(1);
  });
} else {
  process.stderr.write('usage: transfer-main.js server ADDR PORT | client CONFIG_JSON | jobs\n');
  process.exit(2);
}
