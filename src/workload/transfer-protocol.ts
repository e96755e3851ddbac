/**
 * Wire format of netab's transfer tool (transfer-main.ts), kept free of I/O so it is unit-tested.
 *
 * A request is `requestBytes` bytes long (at least the 16-byte header, the rest zero padding):
 *
 *   offset 0  uint32 BE  magic 0x4e544231 ("NTB1")
 *   offset 4  uint32 BE  total request length in bytes, header included (>= 16)
 *   offset 8  uint32 BE  response length, high 32 bits
 *   offset 12 uint32 BE  response length, low 32 bits (so up to 2^53 - 1 bytes)
 *
 * The server answers each complete request with exactly `response length` bytes (zeros) and then
 * waits for the next request on the same connection. There is no response header: the client knows
 * how many bytes it asked for, so the last byte of the response is the moment it counts them all.
 */

export const MAGIC = 0x4e544231;
export const HEADER_BYTES = 16;
/** Largest response a request can ask for (JS numbers stay exact below 2^53). */
export const MAX_RESPONSE = Number.MAX_SAFE_INTEGER;
/** Largest request accepted (a request is a small thing; this bounds what a bad peer can make us read). */
export const MAX_REQUEST = 64 * 1024 * 1024;

export interface Request {
  requestBytes: number;
  responseBytes: number;
}

/** The bytes of one request (header + zero padding up to `requestBytes`). */
export function encodeRequest(requestBytes: number, responseBytes: number): Buffer {
  if (!Number.isInteger(requestBytes) || requestBytes < HEADER_BYTES || requestBytes > MAX_REQUEST)
    throw new RangeError(`request size must be an integer in [${HEADER_BYTES}, ${MAX_REQUEST}] bytes, got ${requestBytes}`);
  if (!Number.isInteger(responseBytes) || responseBytes < 0 || responseBytes > MAX_RESPONSE)
    throw new RangeError(`response size must be an integer in [0, 2^53) bytes, got ${responseBytes}`);
  const b = Buffer.alloc(requestBytes);
  b.writeUInt32BE(MAGIC, 0);
  b.writeUInt32BE(requestBytes, 4);
  b.writeUInt32BE(Math.floor(responseBytes / 2 ** 32), 8);
  b.writeUInt32BE(responseBytes % 2 ** 32, 12);
  return b;
}

/** Decode a 16-byte header (throws on a bad magic or impossible lengths). */
export function decodeHeader(h: Buffer): Request {
  if (h.length < HEADER_BYTES) throw new Error(`short header: ${h.length} bytes`);
  const magic = h.readUInt32BE(0);
  if (magic !== MAGIC) throw new Error(`bad magic 0x${magic.toString(16).padStart(8, '0')}`);
  const requestBytes = h.readUInt32BE(4);
  if (requestBytes < HEADER_BYTES || requestBytes > MAX_REQUEST) throw new Error(`bad request length ${requestBytes}`);
  const hi = h.readUInt32BE(8);
  const responseBytes = hi * 2 ** 32 + h.readUInt32BE(12);
  if (responseBytes > MAX_RESPONSE) throw new Error(`response length ${responseBytes} too large`);
  return { requestBytes, responseBytes };
}

/**
 * Incremental request parser for a byte stream (the server side): feed it whatever `data` events
 * deliver, get back the requests that became complete (header and all padding received).
 */
export class RequestParser {
  private header = Buffer.alloc(HEADER_BYTES);
  private have = 0;
  private pending: Request | null = null;
  private skip = 0;

  push(chunk: Buffer): Request[] {
    const out: Request[] = [];
    let off = 0;
    while (off < chunk.length) {
      if (this.pending) {
        const n = Math.min(this.skip, chunk.length - off);
        this.skip -= n;
        off += n;
        if (this.skip === 0) {
          out.push(this.pending);
          this.pending = null;
        }
        continue;
      }
      const n = Math.min(HEADER_BYTES - this.have, chunk.length - off);
      chunk.copy(this.header, this.have, off, off + n);
      this.have += n;
      off += n;
      if (this.have === HEADER_BYTES) {
        const r = decodeHeader(this.header);
        this.have = 0;
        this.skip = r.requestBytes - HEADER_BYTES;
        if (this.skip === 0) out.push(r);
        else this.pending = r;
      }
    }
    return out;
  }

  /** True between requests (nothing partially received). */
  get idle(): boolean {
    return this.have === 0 && this.pending === null;
  }
}

/** What netab passes to `transfer-main.js client` (one JSON argument; sizes in bytes, times in ms). */
export interface ClientConfig {
  mode: 'fct' | 'rr' | 'pageload' | 'onoff';
  addr: string;
  port: number;
  /** bytes per request, header included */
  requestBytes: number;
  /** fct: the response size of each transfer, in order (already drawn from the distribution) */
  sizes?: number[];
  /** fct: pause between transfers; pageload: between page loads; rr: between exchanges */
  gapMs?: number;
  /** rr */
  responseBytes?: number;
  count?: number;
  /** pageload: object sizes of one page, fetched over `connections` parallel fresh connections */
  objects?: number[];
  connections?: number;
  pages?: number;
  /**
   * onoff (cross traffic): per source, the on periods (ms from the client's start): each is a fresh
   * connection asking for an unbounded response, closed when the period ends. Runs until the
   * schedule ends or stdin closes.
   */
  schedule?: OnPeriod[][];
  /**
   * Keep the last connection(s) open after printing the result, until stdin closes, so netab can
   * take a one-shot `ss -tin` sample of the finished flows on the server side.
   */
  hold?: boolean;
}

export interface FctTransfer {
  bytes: number;
  /** connect() called -> connection established (SYN, SYN-ACK) */
  connectMs: number;
  /** request written -> first response byte */
  ttfbMs: number;
  /** request written -> last response byte (the flow completion time) */
  fctMs: number;
  /** connect() called -> last response byte (handshake included) */
  totalMs: number;
}

export interface RrExchange {
  latencyMs: number;
  ttfbMs: number;
}

export interface PageObject {
  bytes: number;
  /** which of the page's connections fetched it */
  conn: number;
  /** request written, relative to the start of the page load */
  startMs: number;
  ttfbMs: number;
  /** last byte received, relative to the start of the page load */
  doneMs: number;
}

export interface PageLoad {
  /** page load start (first connect() call) -> last byte of the last object */
  pltMs: number;
  connectMs: number[];
  objects: PageObject[];
}

export interface OnPeriod {
  atMs: number;
  durMs: number;
}

export interface ClientResult {
  mode: ClientConfig['mode'];
  /** clock used for every number: process.hrtime.bigint (monotonic) */
  clock: 'hrtime';
  transfers?: FctTransfer[];
  connectMs?: number;
  exchanges?: RrExchange[];
  pages?: PageLoad[];
  /** onoff: on periods started and bytes received, over all sources */
  cross?: { periods: number; bytes: number; sources: number };
  /** local ports of the connections still open (hold mode), for the ss filter */
  heldPorts?: number[];
  error?: string;
}
