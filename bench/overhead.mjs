#!/usr/bin/env node
/**
 * Per-trial overhead (issue 18, item 3): how much of a trial's wall time is not the workload.
 *
 *   npx tsc -p tsconfig.json && node bench/overhead.mjs [--pairs N] [--json]
 *
 * Real runs on the netns backend (the engine this host picks: netem, else the userspace relay), one
 * scenario per workload type, 50 Mbit/s bottleneck, judged and reported as `netab run` does. From the
 * run's own records (results.jsonl):
 *   trial wall    the record's durationMs plus the gap to the next trial's start (what a trial costs);
 *   own time      what the workload itself needs: bulk and compete their duration; fct and rr the
 *                 transfers' own measured times (connect + completion, request-response latency);
 *   overhead      trial wall - own time, as a share of the trial wall (median and max over trials);
 *   bulk: iperf3  the iperf3 client's wall time minus the test duration (extra.clientMs): iperf3's own
 *                 control exchanges over the emulated path (cookie, parameters, stream set-up, results:
 *                 about 7 round trips), which no runner can remove; netab's part is the rest.
 * Target: bulk trials of >= 4 s spend <= 5 % of their wall time in netab's own work.
 * Root only; takes about 4 minutes.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const pairs = Number(args[args.indexOf('--pairs') + 1] || 5) || 5;
const json = args.includes('--json');
const TARGET = 0.05;

const path = (delay) => `topology: dumbbell
links:
  bottleneck:
    delay: ${delay}
    rate: 50mbit
    buffer: 1bdp
control: { cc: cubic }
canary: { cc: bbr }
trials: { pairs: ${pairs}, warmup: 0 }
`;
const CASES = [
  { name: 'bulk-rtt2ms', rttMs: 2, yaml: `${path('1ms')}workload: { type: bulk, duration: 4s }\n`, own: () => 4000 },
  { name: 'bulk-rtt40ms', rttMs: 40, yaml: `${path('20ms')}workload: { type: bulk, duration: 4s }\n`, own: () => 4000 },
  {
    name: 'compete-rtt40ms',
    rttMs: 40,
    yaml: `${path('20ms')}workload: { type: compete, duration: 4s, baseline: false }\n`,
    own: () => 4000,
  },
  {
    name: 'fct-rtt40ms',
    rttMs: 40,
    yaml: `${path('20ms')}workload: { type: fct, transfers: 20, size: 100KB }\n`,
    own: (r) => sum(r.series?.fct) + sum(r.series?.connect),
  },
  {
    name: 'rr-rtt40ms',
    rttMs: 40,
    yaml: `${path('20ms')}workload: { type: rr, count: 50 }\n`,
    own: (r) => sum(r.series?.rr),
  },
];

const sum = (a) => (Array.isArray(a) ? a.reduce((x, y) => x + (Number.isFinite(y) ? y : 0), 0) : Number.NaN);
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : Number.NaN;
};
const pct = (x) => `${(100 * x).toFixed(1)} %`;

if (process.getuid?.() !== 0) {
  console.log('bench/overhead.mjs needs root (namespaces); skipped');
  process.exit(0);
}
const { run } = await import('../dist/api.js');
const tmp = await mkdtemp(join(tmpdir(), 'netab-bench-overhead-'));
const rows = [];
try {
  for (const c of CASES) {
    const file = join(tmp, `${c.name}.yaml`);
    await writeFile(file, `name: ${c.name}\n${c.yaml}`);
    const out = join(tmp, c.name);
    const t0 = Date.now();
    await run([file], { out, log: () => {}, warn: () => {}, command: ['bench/overhead.mjs'] });
    const totalMs = Date.now() - t0;
    const recs = (await readFile(join(out, 'results.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((r) => r.type === 'trial' && r.status === 'ok');
    const per = recs.map((r, i) => {
      const next = recs[i + 1];
      const gap = next ? Date.parse(next.startedAt) - (Date.parse(r.startedAt) + r.durationMs) : 0;
      const wall = r.durationMs + Math.max(0, gap);
      const own = c.own(r);
      const client = r.extra?.clientMs;
      return {
        wall,
        own,
        over: (wall - own) / wall,
        netab: typeof client === 'number' ? (wall - client) / wall : null,
        iperf: typeof client === 'number' ? client - own : null,
      };
    });
    const trialsMs = per.reduce((a, p) => a + p.wall, 0);
    const row = {
      case: c.name,
      trials: per.length,
      wallMedianMs: Math.round(median(per.map((p) => p.wall))),
      ownMedianMs: Math.round(median(per.map((p) => p.own))),
      overheadMedian: +median(per.map((p) => p.over)).toFixed(4),
      overheadMax: +Math.max(...per.map((p) => p.over)).toFixed(4),
      netabMedian: per[0]?.netab === null ? null : +median(per.map((p) => p.netab)).toFixed(4),
      iperfProtocolMedianMs: per[0]?.iperf === null ? null : Math.round(median(per.map((p) => p.iperf))),
      rttMs: c.rttMs,
      setupAndJudgeMs: totalMs - trialsMs,
    };
    rows.push(row);
    if (!json)
      console.log(
        `${row.case.padEnd(16)} ${String(row.trials).padStart(2)} trials  wall ${row.wallMedianMs} ms  own ${row.ownMedianMs} ms  ` +
          `overhead ${pct(row.overheadMedian)} (max ${pct(row.overheadMax)})` +
          (row.netabMedian === null
            ? ''
            : `  = iperf3 ${row.iperfProtocolMedianMs} ms (its process start and exchanges${row.rttMs >= 10 ? `: ${(row.iperfProtocolMedianMs / row.rttMs).toFixed(1)} RTT` : ''}) + netab ${pct(row.netabMedian)}` +
              `  [target netab <= ${pct(TARGET)}: ${row.netabMedian <= TARGET ? 'met' : 'NOT met'}]`) +
          `  set-up+judge+report ${(row.setupAndJudgeMs / 1000).toFixed(1)} s`,
      );
  }
} finally {
  await rm(tmp, { recursive: true, force: true });
}
if (json) console.log(JSON.stringify(rows, null, 2));
