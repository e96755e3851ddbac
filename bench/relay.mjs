// Userspace relay bench: how fast a bottleneck can the relay emulate faithfully?
//   npx tsc -p tsconfig.json && node bench/relay.mjs [--rates 50,100,200,...] [--seconds 3] [--json out.json] [--realtime off|N]
// For each bottleneck rate (RTT 2 ms, buffer 4 BDP) one iperf3 flow A -> B runs through the relay; a
// rate "holds" when the send lateness p99 (both directions) is <= 0.5 ms and the bottleneck delivers
// >= 95 % of its rate (iperf3 goodput converted to inner-frame bytes, the unit the rate counts).
// Also: relay CPU per 100 Mbit/s (utime+stime of the relay from /proc/<pid>/stat), the relay with no
// rate limit, and the plain-veth ceiling (iperf3 over a bare veth pair) for comparison.
// Root only; creates nbt-<random> namespaces and removes them. Takes about 1-2 minutes.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Testbed, TB } from '../dist/impairment/userspace/testbed.js';
import { run } from '../dist/exec/index.js';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const RATES = arg('--rates', '50,100,200,300,400,500,600,800,1000').split(',').map(Number);
const SECONDS = Number(arg('--seconds', 3));
const JSON_OUT = arg('--json', null);
// --realtime off: run the relay without SCHED_FIFO (at nice -10) for comparison
const RT = arg('--realtime', null);
const RELAY_OPTS = RT === null ? {} : { realtime: RT === 'off' ? null : Number(RT) };
const CLK_TCK = 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function cpuTicks(pid) {
  // fields after the ")" of comm: state is field 3, utime 14, stime 15
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

async function iperf(nsServer, nsClient, addr, seconds) {
  await run(['iperf3', '-s', '-1', '-D', '-B', addr], { netns: nsServer });
  await sleep(200);
  const c = await run(['iperf3', '-c', addr, '-t', String(seconds), '-O', '1', '-J'], {
    netns: nsClient,
    reject: false,
    timeoutMs: (seconds + 20) * 1000,
  });
  const j = JSON.parse(c.stdout);
  if (j.error) throw new Error(`iperf3: ${j.error}`);
  return { bps: j.end.sum_received.bits_per_second, mss: j.start.tcp_mss_default || 1448, retr: j.end.sum_sent.retransmits };
}

async function vethCeiling() {
  const p = Testbed.randomPrefix();
  const a = `${p}va`;
  const b = `${p}vb`;
  try {
    await run(['ip', 'netns', 'add', a]);
    await run(['ip', 'netns', 'add', b]);
    await run(['ip', 'link', 'add', 'v0', 'netns', a, 'type', 'veth', 'peer', 'name', 'v0', 'netns', b]);
    await run(['ip', '-n', a, 'addr', 'add', '198.18.1.1/30', 'dev', 'v0']);
    await run(['ip', '-n', b, 'addr', 'add', '198.18.1.2/30', 'dev', 'v0']);
    for (const ns of [a, b]) {
      await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      await run(['ip', '-n', ns, 'link', 'set', 'v0', 'up']);
    }
    const withOffloads = await iperf(b, a, '198.18.1.2', SECONDS);
    // the same veth with the offloads netab switches off (1500-byte segments, like the relay path)
    for (const ns of [a, b]) await run(['ethtool', '-K', 'v0', 'tso', 'off', 'gso', 'off', 'gro', 'off', 'tx', 'off'], { netns: ns });
    const noOffloads = await iperf(b, a, '198.18.1.2', SECONDS);
    return { withOffloads: withOffloads.bps, noOffloads: noOffloads.bps };
  } finally {
    for (const ns of [a, b]) await run(['ip', 'netns', 'del', ns], { reject: false });
  }
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('bench/relay.mjs needs root (namespaces)');
  const t0 = Date.now();
  const veth = await vethCeiling();
  const tb = await Testbed.create({ forward: { delayMs: 1 }, reverse: { delayMs: 1 }, seed: 1, relay: RELAY_OPTS });
  const rows = [];
  try {
    const pid = tb.relay.pid;
    const measure = async (forward) => {
      await tb.relay.set(forward, { delayMs: 1 });
      await tb.relay.stats(true);
      const c0 = cpuTicks(pid);
      const w0 = process.hrtime.bigint();
      const r = await iperf(tb.nsB, tb.nsA, TB.b.overlay, SECONDS);
      const wall = Number(process.hrtime.bigint() - w0) / 1e9;
      const cpu = (cpuTicks(pid) - c0) / CLK_TCK / wall; // cores
      const s = await tb.relay.stats(true);
      const frame = r.mss + 66; // inner Ethernet frame of a full segment (TCP timestamps on)
      const frameBps = (r.bps * frame) / r.mss;
      return {
        goodputMbit: r.bps / 1e6,
        frameMbit: frameBps / 1e6,
        latenessP99Ms: Math.max(s.forward.latenessMs.p99, s.reverse.latenessMs.p99),
        latenessMaxMs: Math.max(s.forward.latenessMs.max, s.reverse.latenessMs.max),
        cpuCores: cpu,
        receiveBusy: s.threads.receiveBusy,
        senderBusy: s.threads.senderBusy,
        rxQueueMaxKB: Math.max(s.forward.socket.rxQueueMaxBytes, s.reverse.socket.rxQueueMaxBytes) / 1024,
        kernelDrops: s.forward.drops.kernel + s.reverse.drops.kernel,
        queueDrops: s.forward.drops.queue,
        earlySends: s.forward.earlySends + s.reverse.earlySends,
        scheduling: s.scheduling,
      };
    };
    let fails = 0;
    for (const mbit of RATES) {
      const rate = mbit * 1e6;
      const bdp = (rate * 0.002) / 8;
      const m = await measure({ delayMs: 1, rateBps: rate, bufferBytes: Math.max(64 * 1024, Math.round(4 * bdp)) });
      const delivered = m.frameMbit / mbit;
      const holds = m.latenessP99Ms <= 0.5 && delivered >= 0.95;
      rows.push({ rateMbit: mbit, delivered, holds, ...m });
      fails = holds ? 0 : fails + 1;
      if (fails >= 2 || delivered < 0.7) break;
    }
    const unlimited = await measure({ delayMs: 1 });
    rows.push({ rateMbit: 'none', delivered: null, holds: null, ...unlimited });

    const pass = rows.filter((r) => r.holds === true);
    const best = pass.length ? Math.max(...pass.map((r) => r.rateMbit)) : 0;
    const cpuPer100 = pass.length ? pass.map((r) => (r.cpuCores * 100) / r.frameMbit) : [];
    const pad = (v, n) => String(v).padStart(n);
    const f = (x, d = 2) => (x === null || x === undefined ? '-' : Number(x).toFixed(d));
    console.log('\nuserspace relay bench (RTT 2 ms, buffer 4 BDP, 1 cubic flow, %d s per point)\n', SECONDS);
    console.log(
      [
        'rate Mbit',
        'goodput',
        'frame Mbit',
        'deliv %',
        'late p99 ms',
        'late max',
        'CPU cores',
        'CPU/100M',
        'rx busy',
        'tx busy',
        'rxq max KB',
        'kdrops',
        'holds',
      ]
        .map((h, i) => pad(h, i === 0 ? 9 : 11))
        .join(' '),
    );
    for (const r of rows) {
      console.log(
        [
          pad(r.rateMbit, 9),
          pad(f(r.goodputMbit, 1), 11),
          pad(f(r.frameMbit, 1), 11),
          pad(r.delivered === null ? '-' : f(r.delivered * 100, 1), 11),
          pad(f(r.latenessP99Ms, 3), 11),
          pad(f(r.latenessMaxMs, 2), 11),
          pad(f(r.cpuCores), 11),
          pad(f((r.cpuCores * 100) / r.frameMbit), 11),
          pad(f(r.receiveBusy), 11),
          pad(f(r.senderBusy), 11),
          pad(f(r.rxQueueMaxKB, 0), 11),
          pad(r.kernelDrops, 11),
          pad(r.holds === null ? '-' : r.holds ? 'yes' : 'NO', 11),
        ].join(' '),
      );
    }
    console.log(
      `\nplain veth ceiling: ${f(veth.withOffloads / 1e6, 0)} Mbit/s with offloads, ${f(veth.noOffloads / 1e6, 0)} Mbit/s with tso/gso/gro/tx off`,
    );
    console.log(
      `relay with no rate limit: ${f(unlimited.frameMbit, 0)} Mbit/s (frame bytes), lateness p99 ${f(unlimited.latenessP99Ms, 3)} ms`,
    );
    console.log(
      `highest rate held (p99 lateness <= 0.5 ms, >= 95 % delivered): ${best} Mbit/s` +
        (cpuPer100.length ? `; CPU per 100 Mbit/s ${f(Math.min(...cpuPer100))}-${f(Math.max(...cpuPer100))} cores` : '') +
        `; goal 1000 Mbit/s ${best >= 1000 ? 'met' : 'not met'}; scheduling ${rows[0]?.scheduling}; ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    );
    if (JSON_OUT) await writeFile(JSON_OUT, JSON.stringify({ veth, rows, best }, null, 2));
  } finally {
    await tb.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
