#!/usr/bin/env node
/**
 * Does CPU affinity keep the relay on time on a busy host? (issue 18, item 1: "keep netab's own work
 * off the relay's core ... and measure whether it helps").
 *
 *   npx tsc -p tsconfig.json && node bench/affinity.mjs [--rounds N] [--seconds S] [--busy N] [--json]
 *
 * The relay testbed (A <-> relay <-> B) with N busy loops (default: one per core, normal priority,
 * unpinned: the "other work" netab does not control). Per round, each of two placements runs one
 * iperf3 flow per path (order alternating, so a busy spell of the shared host hits both):
 *   shared  what netab does: the relay's two SCHED_FIFO threads and everything else float;
 *   pinned  the relay's threads on the last core, this process and iperf3 (netab's own work and the
 *           workload) on the others (taskset), as the issue proposed.
 * Paths: 50 Mbit/s at 40 ms RTT (the quickstart's) and 200 Mbit/s at 2 ms RTT, 4 BDP of buffer.
 * Printed per placement and path: median and worst of the rounds' lateness p99 (both directions),
 * median goodput as a share of the rate. Root only; about 2 minutes at the defaults.
 *
 * Measured (2 cores, 2 busy loops, another job's benchmarks running too; two runs of 5 and 6 rounds):
 * median lateness p99 shared/pinned 0.28/0.25 and 0.18/0.25 ms at 50 Mbit/s, 0.63/0.40 and
 * 0.20/0.40 ms at 200 Mbit/s; one pinned round per run stalled (p99 964 and 967 ms, 77 % delivered),
 * shared rounds at worst 16 and 2.2 ms. Pinning does not help: netab does not pin
 * (docs/userspace-engine.md).
 */
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { Testbed, TB } from '../dist/impairment/userspace/testbed.js';
import { run } from '../dist/exec/index.js';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : dflt;
};
const ROUNDS = arg('--rounds', 5);
const SECONDS = arg('--seconds', 4);
const NCPU = cpus().length;
const BUSY = arg('--busy', NCPU);
const json = args.includes('--json');
const PATHS = [
  { label: '50 Mbit/s, 40 ms RTT', rateMbit: 50, delayMs: 20 },
  { label: '200 Mbit/s, 2 ms RTT', rateMbit: 200, delayMs: 1 },
];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function iperf(tb, seconds, prefix) {
  await run([...prefix, 'iperf3', '-s', '-1', '-D', '-B', TB.b.overlay], { netns: tb.nsB });
  await sleep(200);
  const c = await run([...prefix, 'iperf3', '-c', TB.b.overlay, '-t', String(seconds), '-O', '1', '-J'], {
    netns: tb.nsA,
    reject: false,
    timeoutMs: (seconds + 20) * 1000,
  });
  const j = JSON.parse(c.stdout);
  if (j.error) throw new Error(`iperf3: ${j.error}`);
  return { bps: j.end.sum_received.bits_per_second, mss: j.start.tcp_mss_default || 1448 };
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('bench/affinity.mjs needs root (namespaces)');
  if (NCPU < 2) {
    console.log(`affinity bench: ${NCPU} core; nothing to place`);
    return;
  }
  const relayCore = String(NCPU - 1);
  const otherCores = NCPU > 2 ? `0-${NCPU - 2}` : '0';
  const allCores = `0-${NCPU - 1}`;
  const busy = Array.from({ length: BUSY }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
  const tb = await Testbed.create({ forward: { delayMs: 1 }, reverse: { delayMs: 1 }, seed: 1 });
  const rows = [];
  try {
    const relayPid = tb.relay.pid;
    const place = async (pinned) => {
      await run(['taskset', '-a', '-p', '-c', pinned ? relayCore : allCores, String(relayPid)]);
      await run(['taskset', '-p', '-c', pinned ? otherCores : allCores, String(process.pid)]);
    };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [false, true] : [true, false];
      for (const pinned of order) {
        await place(pinned);
        for (const p of PATHS) {
          const rate = p.rateMbit * 1e6;
          const bdp = (rate * p.delayMs * 2e-3) / 8;
          await tb.relay.set({ delayMs: p.delayMs, rateBps: rate, bufferBytes: Math.round(4 * bdp) }, { delayMs: p.delayMs });
          await tb.relay.stats(true);
          const r = await iperf(tb, SECONDS, pinned ? ['taskset', '-c', otherCores] : []);
          const s = await tb.relay.stats(true);
          const frameShare = r.mss / (r.mss + 66);
          rows.push({
            placement: pinned ? 'pinned' : 'shared',
            path: p.label,
            round,
            latenessP99Ms: Math.max(s.forward.latenessMs.p99, s.reverse.latenessMs.p99),
            delivered: r.bps / frameShare / rate,
          });
        }
      }
    }
  } finally {
    await tb.destroy();
    for (const b of busy) b.kill('SIGKILL');
  }
  const summary = [];
  for (const p of PATHS)
    for (const placement of ['shared', 'pinned']) {
      const rs = rows.filter((r) => r.path === p.label && r.placement === placement);
      summary.push({
        path: p.label,
        placement,
        p99LatenessMedianMs: median(rs.map((r) => r.latenessP99Ms)),
        p99LatenessWorstMs: Math.max(...rs.map((r) => r.latenessP99Ms)),
        deliveredMedian: median(rs.map((r) => r.delivered)),
      });
    }
  if (json) {
    process.stdout.write(JSON.stringify({ cores: NCPU, busyLoops: BUSY, rounds: ROUNDS, rows, summary }, null, 2) + '\n');
    return;
  }
  console.log(`relay lateness with ${BUSY} busy loop(s) on ${NCPU} cores, ${ROUNDS} rounds of ${SECONDS} s per placement and path`);
  console.table(
    summary.map((s) => ({
      path: s.path,
      placement: s.placement,
      'lateness p99 ms (median of rounds)': s.p99LatenessMedianMs.toFixed(3),
      'worst round': s.p99LatenessWorstMs.toFixed(3),
      'delivered (median)': `${(s.deliveredMedian * 100).toFixed(1)} %`,
    })),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
