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
 *
 * Honest measurement: every timestamp is process.hrtime.bigint() (monotonic, ns), taken in the
 * event callback (connect, data); TCP_NODELAY is set on both ends (no Nagle delay on a response's
 * last partial segment or on a request), a request goes out in one write, responses are written
 * from a preallocated buffer in 1 MiB slices with back-pressure. Nothing else is set on the socket:
 * buffer sizes, congestion control and route options are the namespace's, i.e. the tuning under test.
 */
import { connect, createServer, type Socket } from 'node:net';
import {
  encodeRequest,
  RequestParser,
  type ClientConfig,
  type ClientResult,
  type FctTransfer,
  type PageLoad,
  type PageObject,
  type Request,
  type RrExchange,
} from './transfer-protocol.js';

const now = (): bigint => process.hrtime.bigint();
/** ns difference -> ms, rounded to the microsecond */
const ms = (a: bigint, b: bigint): number => Math.round(Number(b - a) / 1e3) / 1e3;
const sleep = (t: number) => new Promise<void>((res) => setTimeout(res, t));
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

/** One client connection: connect, then request/response exchanges one at a time. */
class Conn {
  readonly sock: Socket;
  readonly t0: bigint;
  tConnect = 0n;
  private readonly connected: Promise<void>;
  private want = 0;
  private got = 0;
  private tFirst = 0n;
  private waiter: { res: (t: { first: bigint; last: bigint }) => void; rej: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(addr: string, port: number) {
    this.t0 = now();
    this.sock = connect({ host: addr, port, noDelay: true });
    this.connected = new Promise((res, rej) => {
      this.sock.once('connect', () => {
        this.tConnect = now();
        this.sock.setNoDelay(true);
        res();
      });
      this.sock.once('error', rej);
    });
    this.connected.catch(() => {});
    this.sock.on('data', (chunk: Buffer) => {
      const t = now();
      if (this.got === 0) this.tFirst = t;
      this.got += chunk.length;
      if (this.got > this.want) this.fail(new Error(`server sent ${this.got} bytes, ${this.want} were asked for`));
      else if (this.got === this.want && this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w.res({ first: this.tFirst, last: t });
      }
    });
    this.sock.on('error', (e) => this.fail(e));
    this.sock.on('close', () => this.fail(new Error('connection closed by the server')));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.rej(e);
    }
  }

  async open(): Promise<number> {
    await this.connected;
    return ms(this.t0, this.tConnect);
  }

  /** Send one request, resolve at the last response byte. */
  request(requestBytes: number, responseBytes: number): Promise<{ sent: bigint; first: bigint; last: bigint }> {
    if (this.failure) return Promise.reject(this.failure);
    if (responseBytes < 1) return Promise.reject(new Error('a response must be at least 1 byte'));
    const buf = encodeRequest(requestBytes, responseBytes);
    this.want = responseBytes;
    this.got = 0;
    return new Promise((res, rej) => {
      const sent = now();
      this.waiter = { res: (t) => res({ sent, ...t }), rej };
      this.sock.write(buf);
    });
  }

  close(): void {
    this.sock.removeAllListeners('close');
    this.sock.on('error', () => {});
    this.sock.end();
  }

  get localPort(): number {
    return this.sock.localPort ?? 0;
  }
}

async function runFct(c: ClientConfig, held: Conn[]): Promise<Partial<ClientResult>> {
  const sizes = c.sizes ?? [];
  const transfers: FctTransfer[] = [];
  for (const [i, bytes] of sizes.entries()) {
    if (i > 0 && c.gapMs) await sleep(c.gapMs);
    const conn = new Conn(c.addr, c.port);
    const connectMs = await conn.open();
    const r = await conn.request(c.requestBytes, bytes);
    transfers.push({ bytes, connectMs, ttfbMs: ms(r.sent, r.first), fctMs: ms(r.sent, r.last), totalMs: ms(conn.t0, r.last) });
    if (c.hold && i === sizes.length - 1) held.push(conn);
    else conn.close();
  }
  return { transfers };
}

async function runRr(c: ClientConfig, held: Conn[]): Promise<Partial<ClientResult>> {
  const conn = new Conn(c.addr, c.port);
  const connectMs = await conn.open();
  const exchanges: RrExchange[] = [];
  for (let i = 0; i < (c.count ?? 0); i++) {
    if (i > 0 && c.gapMs) await sleep(c.gapMs);
    const r = await conn.request(c.requestBytes, c.responseBytes ?? 1);
    exchanges.push({ latencyMs: ms(r.sent, r.last), ttfbMs: ms(r.sent, r.first) });
  }
  if (c.hold) held.push(conn);
  else conn.close();
  return { connectMs, exchanges };
}

async function loadPage(c: ClientConfig, keepOpen: boolean, held: Conn[]): Promise<PageLoad> {
  const objects = c.objects ?? [];
  const k = Math.max(1, Math.min(c.connections ?? 1, objects.length));
  const next = [...objects.keys()];
  const got: PageObject[] = [];
  const conns = Array.from({ length: k }, () => new Conn(c.addr, c.port));
  const t0 = conns[0]!.t0;
  let last = t0;
  const connectMs = await Promise.all(
    conns.map(async (conn, ci) => {
      const cm = await conn.open();
      for (let i = next.shift(); i !== undefined; i = next.shift()) {
        const r = await conn.request(c.requestBytes, objects[i]!);
        if (r.last > last) last = r.last;
        got[i] = { bytes: objects[i]!, conn: ci, startMs: ms(t0, r.sent), ttfbMs: ms(r.sent, r.first), doneMs: ms(t0, r.last) };
      }
      if (keepOpen) held.push(conn);
      else conn.close();
      return cm;
    }),
  );
  return { pltMs: ms(t0, last), connectMs, objects: got };
}

async function runPageload(c: ClientConfig, held: Conn[]): Promise<Partial<ClientResult>> {
  const pages: PageLoad[] = [];
  const n = c.pages ?? 1;
  for (let p = 0; p < n; p++) {
    if (p > 0 && c.gapMs) await sleep(c.gapMs);
    pages.push(await loadPage(c, Boolean(c.hold) && p === n - 1, held));
  }
  return { pages };
}

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

async function client(c: ClientConfig): Promise<void> {
  const held: Conn[] = [];
  const body =
    c.mode === 'fct'
      ? await runFct(c, held)
      : c.mode === 'rr'
        ? await runRr(c, held)
        : c.mode === 'pageload'
          ? await runPageload(c, held)
          : c.mode === 'onoff'
            ? await runOnOff(c)
            : null;
  if (!body) throw new Error(`unknown mode ${String(c.mode)}`);
  const result: ClientResult = { mode: c.mode, clock: 'hrtime', ...body };
  if (held.length) result.heldPorts = held.map((h) => h.localPort);
  out(result);
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

const [mode, a1, a2] = process.argv.slice(2);
if (mode === 'server' && a1 && a2) {
  serve(a1, Number(a2));
} else if (mode === 'client' && a1) {
  let cfg: ClientConfig;
  try {
    cfg = JSON.parse(a1) as ClientConfig;
  } catch (e) {
    process.stderr.write(`transfer client: bad config: ${(e as Error).message}\n`);
    process.exit(2);
  }
  client(cfg).catch((e: Error) => {
    out({ mode: cfg.mode, clock: 'hrtime', error: `${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`.trim() });
    process.exit(1);
  });
} else {
  process.stderr.write('usage: transfer-main.js server ADDR PORT | client CONFIG_JSON\n');
  process.exit(2);
}
