#!/usr/bin/env node
/**
 * Big-run bench: judge + report of 100,000 trial records (issue 18, item 4).
 * Target: judge + report of 100k trials ≤ 2 s wall time and ≤ 300 MB peak RSS.
 *
 *   npx tsc -p tsconfig.json && node bench/bigrun.mjs [--trials N] [--shape one|suite|both] [--keep] [--json]
 *
 * Two shapes of a 100k-trial run, each written by test/fixtures/report/generate.mjs (20-point
 * series per trial, values rounded as netab stores them, so there are ties):
 *   one    1 scenario × 50,000 pairs (the worst case for the Hodges-Lehmann selection);
 *   suite  5 scenarios × 10,000 pairs (the schema's largest pairs per scenario).
 * Every phase runs in a fresh node process so that its peak memory is its own:
 *   judge   readRun + judgeRecords + writeVerdict (what `netab judge` does);
 *   report  renderReports (report.html, junit.xml, summary.md) of the judged run;
 *   both    the two in one process (what `netab run` does at the end).
 * Printed per phase (or why it failed, e.g. out of memory): wall time, CPU time (user + system: the figure to trust on a busy machine),
 * peak RSS (getrusage maxrss) and the V8 heap in use at the end.
 *
 * Figures (2-core shared machine, load about 1.5-2, three runs each; CPU exceeds wall because V8's
 * GC and compiler threads use the second core), "judge + report" row:
 *                           before (122ddd6)                           after (judge-fast)
 *   1 scenario × 50000      4.8-5.2 s, CPU 6.3-6.7 s, RSS 277-314 MB   2.38-2.43 s, CPU 3.24-3.30 s, RSS 195-198 MB
 *   5 scenarios × 10000     3.6-4.5 s, CPU 4.9-6.1 s, RSS 252-258 MB   2.43-2.66 s, CPU 3.54-3.79 s, RSS 191-193 MB
 * Where the 2.4 s go (CPU profile of the combined process, 1 × 50000): reading results.jsonl 0.8 s
 * (JSON.parse of each record without its series, the byte scanner that validates and skips the
 * series, the duplicate check, sha-256 for the report's reuse), judging 0.8 s (Hodges-Lehmann
 * interval limits by selection 0.3 s, per-metric values and trial selection 0.3 s), the report
 * 0.45 s, garbage collection 0.35 s spread over all of it, module loading 0.1 s.
 *
 * Reader (branch reader, after judge-fast at a2d0c11): same machine but much busier (uptime load
 * 4.7-6.0 from other jobs: a VM, test runs), so wall times mean little; five alternating runs of
 * the "both" phase on the same run directories, CPU is the figure to compare:
 *                           before (a2d0c11)                           after (reader)
 *   1 scenario × 50000      3.21-7.47 s, CPU 3.64-4.93 s, RSS 198-206 MB  3.52-5.96 s, CPU 3.51-3.95 s, RSS 194-200 MB
 *   5 scenarios × 10000     4.48-6.96 s, CPU 3.79-4.96 s, RSS 189-194 MB  3.20-6.84 s, CPU 3.58-4.64 s, RSS 179-186 MB
 * Again on a quieter machine (load 0.4-1.6), four alternating runs each, process start included:
 *   1 scenario × 50000      2.54-2.65 s, CPU 3.29-3.40 s, RSS 199-206 MB  2.34-2.78 s, CPU 3.00-3.58 s, RSS 199-203 MB
 *   5 scenarios × 10000     2.51-3.07 s, CPU 3.42-4.08 s, RSS 195-202 MB  2.34-2.73 s, CPU 3.16-3.67 s, RSS 185-189 MB
 * readRunDir(deferSeries) alone, 1 × 50000, five alternating runs each: CPU 1.25-1.36 s -> 0.91-1.19 s
 * (load 2.5-3.7), 1.25-1.54 s -> 1.07-1.22 s (load 3.5-5.2); heap at end 63 -> 53 MB. Left in it
 * (profile): JSON.parse of the records without their series 0.17 s, the series scanner 0.2 s (about
 * twice a bare loop over the bytes), sha-256 0.05 s per pass (two in one process: the handover
 * check must re-read the file), and the scavenges of the 100k records that survive (~0.25 s).
 *
 * After the session-8 changes (drop reasons per pair slot instead of a Map per record, records
 * grouped by scenario once, the handover checked by the file's stamp instead of two sha-256 passes,
 * Walsh selection without per-round allocations and sorts, report templates precompiled at build
 * time), machine otherwise idle (load 0.0-1.4), five runs of the bench in a row, "judge + report":
 *   1 scenario × 50000      1.66-1.82 s (one run 2.12 s), CPU 2.35-2.93 s, RSS 189-190 MB
 *   5 scenarios × 10000     1.70-1.82 s (one run 2.15 s), CPU 2.51-3.20 s, RSS 171-178 MB
 * In-process steps (1 × 50000, min of 3): import 89 ms, read 693 ms, judge 599 ms, report 348 ms.
 * Where it goes now (profile): the read (JSON.parse of the heads, the series scanner, UTF-8
 * decoding) ~0.7 s, garbage collection ~0.25 s spread over all of it, the Hodges-Lehmann intervals
 * ~0.2 s, the report's charts ~0.2 s.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};

const TIME_TARGET_MS = 2000;
const RSS_TARGET_MB = 300;

/** One phase inside a child process: prints one JSON line with its figures. */
async function phase(name, dir) {
  const t0 = performance.now();
  const out = {};
  if (name === 'judge' || name === 'both') {
    const { judgeRun, writeVerdict } = await import('../dist/judge/index.js');
    const j0 = performance.now();
    const v = judgeRun(dir, { now: '2025-01-01T12:30:00.000Z' });
    writeVerdict(dir, v);
    out.judgeMs = performance.now() - j0;
    out.decision = v.decision;
  }
  if (name === 'report' || name === 'both') {
    const { renderReports } = await import('../dist/report/index.js');
    const r0 = performance.now();
    const paths = await renderReports(dir, { githubStepSummary: false });
    out.reportMs = performance.now() - r0;
    out.htmlBytes = (await stat(paths.html)).size;
  }
  out.ms = performance.now() - t0;
  const cpu = process.cpuUsage();
  out.cpuMs = (cpu.user + cpu.system) / 1000;
  out.rssMB = process.resourceUsage().maxRSS / 1024;
  out.heapMB = process.memoryUsage().heapUsed / 1e6;
  process.stdout.write(JSON.stringify(out) + '\n');
}

function runPhase(name, dir) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--phase', name, dir], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) {
    const why = (r.stderr.split('\n').find((l) => /Error|FATAL|heap/i.test(l)) ?? `exit ${r.status}`).trim();
    return { failed: `exit ${r.status ?? r.signal}: ${why.slice(0, 160)}` };
  }
  const last = r.stdout.trim().split('\n').pop();
  return JSON.parse(last);
}

if (args[0] === '--phase') {
  await phase(args[1], args[2]);
} else {
  const { manyScenarios, writeRun } = await import('../test/fixtures/report/generate.mjs');
  const trials = Number(arg('--trials', 100_000));
  const shapeArg = arg('--shape', 'both');
  const json = args.includes('--json');
  const keep = args.includes('--keep');
  const shapes = [
    { key: 'one', label: `1 scenario × ${Math.ceil(trials / 2)} pairs`, scenarios: 1 },
    { key: 'suite', label: `5 scenarios × ${Math.ceil(trials / 10)} pairs`, scenarios: 5 },
  ].filter((s) => shapeArg === 'both' || s.key === shapeArg);
  const base = await mkdtemp(join(tmpdir(), 'netab-bigrun-bench-'));
  const rows = [];
  let ok = true;
  try {
    for (const s of shapes) {
      const dir = join(base, s.key);
      const pairs = Math.ceil(trials / s.scenarios / 2);
      const g0 = performance.now();
      const { trials: written } = writeRun(dir, { pairs, warmupPairs: 0, scenarios: manyScenarios(s.scenarios), runId: `bench-${s.key}` });
      const genMs = performance.now() - g0;
      const jsonl = (await stat(join(dir, 'results.jsonl'))).size;
      const judge = runPhase('judge', dir);
      const report = runPhase('report', dir);
      const both = runPhase('both', dir);
      const pass = !both.failed && both.ms <= TIME_TARGET_MS && both.rssMB <= RSS_TARGET_MB;
      ok &&= pass;
      rows.push({ shape: s.label, trials: written, jsonlMB: jsonl / 1e6, genMs, judge, report, both, pass });
    }
  } finally {
    if (keep) console.log(`kept: ${base}`);
    else await rm(base, { recursive: true, force: true });
  }
  if (json) process.stdout.write(JSON.stringify({ target: { ms: TIME_TARGET_MS, rssMB: RSS_TARGET_MB }, rows }, null, 2) + '\n');
  else {
    const f = (r) =>
      r.failed
        ? `FAILED ${r.failed}`
        : `${(r.ms / 1000).toFixed(2).padStart(6)} s  CPU ${(r.cpuMs / 1000).toFixed(2).padStart(6)} s  peak RSS ${r.rssMB.toFixed(0).padStart(4)} MB  heap at end ${r.heapMB.toFixed(0).padStart(4)} MB`;
    console.log(`netab judge + report of big runs (target: judge + report ≤ ${TIME_TARGET_MS / 1000} s and ≤ ${RSS_TARGET_MB} MB)`);
    for (const r of rows) {
      console.log(
        `${r.shape}: ${r.trials} trials, results.jsonl ${r.jsonlMB.toFixed(1)} MB (generated in ${(r.genMs / 1000).toFixed(1)} s), decision ${r.both.decision}`,
      );
      console.log(`  judge           ${f(r.judge)}`);
      console.log(`  report          ${f(r.report)}${r.report.failed ? '' : `  report.html ${(r.report.htmlBytes / 1e6).toFixed(2)} MB`}`);
      console.log(
        `  judge + report  ${f(r.both)}${r.both.failed ? '' : `  (judge ${(r.both.judgeMs / 1000).toFixed(2)} s + report ${(r.both.reportMs / 1000).toFixed(2)} s)`}  ${r.pass ? 'OK' : 'OVER TARGET'}`,
      );
    }
  }
  process.exitCode = ok ? 0 : 1;
}
