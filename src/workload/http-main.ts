/**
 * HTTP/1.1 fetches for the `http` workload, run inside testbed namespaces (Node's http, nothing to
 * install):
 *   node http-main.js server ADDR PORT      serves GET /bytes/N with N bytes; prints {"event":"ready"}
 *   node http-main.js client CONFIG_JSON    {addr, port, path, requests, gapMs}: one fresh connection
 *        per request (no keep-alive agent); prints one JSON line {transfers: [{connectMs, ttfbMs,
 *        fctMs, totalMs, bytes, status}]} where fctMs = request written -> last byte,
 *        totalMs = connect() -> last byte, all from process.hrtime (monotonic)
 * Any HTTP server works as the far end (netab's own here, or the image a docker scenario names).
 */
import { createServer, request } from 'node:http';

const now = (): bigint => process.hrtime.bigint();
const ms = (a: bigint, b: bigint) => Math.round(Number(b - a) / 1e3) / 1e3;
const out = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');
const CHUNK = Buffer.alloc(1 << 20, 0x61);

const [mode, a1, a2] = process.argv.slice(2);

if (mode === 'server') {
  const srv = createServer((req, res) => {
    const m = /^\/bytes\/(\d{1,10})$/.exec(req.url ?? '');
    if (req.method !== 'GET' || !m) {
      res.writeHead(404).end();
      return;
    }
    let left = Number(m[1]);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(left) });
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, CHUNK.length);
        left -= n;
        if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
  srv.on('connection', (s) => s.setNoDelay(true));
  srv.listen(Number(a2), a1, () => out({ event: 'ready' }));
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
} else if (mode === 'client') {
  const c = JSON.parse(a1!) as { addr: string; port: number; path: string; requests: number; gapMs: number };
  const transfers: { connectMs: number; ttfbMs: number; fctMs: number; totalMs: number; bytes: number; status: number }[] = [];
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const t0 = now();
      let tConn = t0;
      let tReq = t0;
      let tFirst: bigint | null = null;
      let bytes = 0;
      const req = request(
        { host: c.addr, port: c.port, path: c.path, method: 'GET', agent: false, headers: { connection: 'close' } },
        (res) => {
          res.on('data', (d: Buffer) => {
            tFirst ??= now();
            bytes += d.length;
          });
          res.on('end', () => {
            const tEnd = now();
            transfers.push({
              connectMs: ms(t0, tConn),
              ttfbMs: ms(tReq, tFirst ?? tEnd),
              fctMs: ms(tReq, tEnd),
              totalMs: ms(t0, tEnd),
              bytes,
              status: res.statusCode ?? 0,
            });
            resolve();
          });
          res.on('error', reject);
        },
      );
      req.on('socket', (s) => {
        s.setNoDelay(true);
        s.once('connect', () => {
          tConn = tReq = now();
        });
      });
      req.on('error', reject);
      req.end();
    });
  (async () => {
    for (let i = 0; i < c.requests; i++) {
      await one();
      if (c.gapMs > 0) await new Promise((r) => setTimeout(r, c.gapMs));
    }
    out({ transfers });
  })().catch((e: Error) => {
    out({ error: e.message });
    process.exit(1);
  });
} else {
  process.stderr.write('usage: http-main.js server ADDR PORT | client CONFIG_JSON\n');
  process.exit(2);
}
