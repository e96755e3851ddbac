/**
 * A precise UDP RTT prober, run inside testbed namespaces (ping prints 0.1 ms steps at 10-99 ms and
 * whole milliseconds above 100 ms: too coarse to check a 0.5 ms tolerance).
 *   node probe-main.js echo ADDR PORT                 echo server; prints {"event":"ready"}
 *   node probe-main.js ping ADDR PORT COUNT INTERVAL_MS [SIZE]
 *        prints one JSON line {sent, received, duplicates, rttMs: number[] (in send order, null = lost)}
 * Timestamps are process.hrtime (monotonic, ns), taken in the 'message' callback.
 */
import { createSocket } from 'node:dgram';

const [mode, addr, portS, countS, intervalS, sizeS] = process.argv.slice(2);
const port = Number(portS);

if (mode === 'echo') {
  const s = createSocket('udp4');
  s.on('message', (msg, rinfo) => s.send(msg, rinfo.port, rinfo.address));
  s.bind(port, addr, () => process.stdout.write(JSON.stringify({ event: 'ready' }) + '\n'));
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
} else if (mode === 'ping') {
  const count = Number(countS);
  const intervalNs = BigInt(Math.round(Number(intervalS) * 1e6));
  const size = Math.max(16, Number(sizeS ?? 64));
  const sentAt: bigint[] = [];
  const rtt: (number | null)[] = new Array(count).fill(null);
  let received = 0;
  let duplicates = 0;
  const s = createSocket('udp4');
  s.on('message', (msg) => {
    const now = process.hrtime.bigint();
    if (msg.length < 8) return;
    const seq = msg.readUInt32BE(0);
    if (seq >= count) return;
    if (rtt[seq] !== null) {
      duplicates++;
      return;
    }
    rtt[seq] = Number(now - sentAt[seq]!) / 1e6;
    received++;
  });
  s.connect(port, addr, () => {
    const start = process.hrtime.bigint();
    let seq = 0;
    const buf = Buffer.alloc(size);
    const tick = () => {
      const now = process.hrtime.bigint();
      while (seq < count && now >= start + BigInt(seq) * intervalNs) {
        buf.writeUInt32BE(seq, 0);
        sentAt[seq] = process.hrtime.bigint();
        s.send(buf);
        seq++;
      }
      if (seq < count) setTimeout(tick, Math.max(0, Number(start + BigInt(seq) * intervalNs - process.hrtime.bigint()) / 1e6 - 0.5));
      else straggle();
    };
    tick();
  });
  /**
   * After the last send: done as soon as every probe is answered; else wait for stragglers up to 3x
   * the largest RTT seen (at least 250 ms): a later answer counts as lost.
   */
  const straggle = () => {
    const maxRtt = Math.max(0, ...rtt.filter((x): x is number => x !== null));
    const deadline = Date.now() + Math.max(250, 3 * maxRtt);
    const check = () => {
      if (received >= count || Date.now() >= deadline) {
        process.stdout.write(JSON.stringify({ sent: count, received, duplicates, rttMs: rtt }) + '\n');
        s.close();
      } else setTimeout(check, 5);
    };
    check();
  };
} else {
  process.stderr.write('usage: probe-main.js echo ADDR PORT | ping ADDR PORT COUNT INTERVAL_MS [SIZE]\n');
  process.exit(2);
}
