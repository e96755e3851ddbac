// Report rendering bench: a synthetic run of 10,000 trials (5 scenarios x 1,000 pairs x 2 arms,
// each with a 20-point series), rendered with renderReports. Targets: < 2 s, report.html < 5 MB.
//   npx tsc -p tsconfig.json && node bench/report.mjs [--trials N] [--scenarios S] [--keep]
// (--scenarios 100 checks the other shape of a 10,000-trial run: a wide matrix of short scenarios)
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { renderReports } from '../dist/report/index.js';
import { manyScenarios, writeRun } from '../test/fixtures/report/generate.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const trials = Number(arg('--trials', 10_000));
const nScenarios = Number(arg('--scenarios', 5));
const pairs = Math.ceil(trials / nScenarios / 2);
const keep = process.argv.includes('--keep');

const dir = await mkdtemp(join(tmpdir(), 'netab-report-bench-'));
const runDir = join(dir, 'run');
const gen0 = performance.now();
const { trials: written } = writeRun(runDir, { pairs, warmupPairs: 0, scenarios: manyScenarios(nScenarios), runId: 'bench' });
const genMs = performance.now() - gen0;

const t0 = performance.now();
const paths = await renderReports(runDir, { githubStepSummary: false });
const ms = performance.now() - t0;

const size = (await stat(paths.html)).size;
const jsonl = (await stat(join(runDir, 'results.jsonl'))).size;
const mb = (b) => `${(b / 1e6).toFixed(2)} MB`;
const ok = ms < 2000 && size < 5e6;
console.log(
  `trials:        ${written} (${nScenarios} scenarios x ${pairs} pairs), results.jsonl ${mb(jsonl)}, generated in ${genMs.toFixed(0)} ms`,
);
console.log(`render time:   ${ms.toFixed(0)} ms (target < 2000 ms)`);
console.log(`report.html:   ${mb(size)} (target < 5 MB)`);
console.log(`junit.xml:     ${mb((await stat(paths.junit)).size)}, summary.md ${mb((await stat(paths.markdown)).size)}`);
console.log(ok ? 'OK' : 'OVER TARGET');
if (keep) console.log(`kept: ${runDir}`);
else await rm(dir, { recursive: true, force: true });
process.exitCode = ok ? 0 : 1;
