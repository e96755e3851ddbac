/**
 * The transfer tool's client side (run by transfer-main.ts in `client` and `jobs` mode): one
 * connection's request/response exchanges, and a trial's fct / rr / pageload exchanges over them.
 * Every timestamp is process.hrtime.bigint() (monotonic, ns), taken in the event callback.
 */
import { connect, type Socket } from 'node:net';
import {
  encodeRequest,
  type ClientConfig,
  type ClientResult,
  type FctTransfer,
  type PageLoad,
  type PageObject,
  type RrExchange,
} from './transfer-protocol.js';

export const now = (): bigint => process.hrtime.bigint();
/** ns difference -> ms, rounded to the microsecond */
const ms = (a: bigint, b: bigint): number => Math.round(Number(b - a) / 1e3) / 1e3;
export const sleep = (t: number) => new Promise<void>((res) => setTimeout(res, t));

/** One client connection: connect, then request/response exchanges one at a time. */
export class Conn {
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

/** One trial's exchanges (fct / rr / pageload); the connections it keeps open go to `held`. */
export async function exchanges(c: ClientConfig, held: Conn[]): Promise<ClientResult> {
  const body =
    c.mode === 'fct'
      ? await runFct(c, held)
      : c.mode === 'rr'
        ? await runRr(c, held)
        : c.mode === 'pageload'
          ? await runPageload(c, held)
          : null;
  if (!body) throw new Error(`unknown mode ${String(c.mode)}`);
  const result: ClientResult = { mode: c.mode, clock: 'hrtime', ...body };
  if (held.length) result.heldPorts = held.map((h) => h.localPort);
  return result;
}
