#!/usr/bin/env node
/**
 * Judge calibration bench: false-rollback rate (A/A), power against a 10 % regression, and
 * sequential mode's mean pairs on clear-cut cases vs the fixed-n plan.
 *
 *   npx tsc -p tsconfig.json && node bench/judge.mjs [--runs N] [--seed S] [--json]
 *
 * The same computation as test/unit/judge-simulation.test.ts (src/judge/simulate.ts).
 */
import { simulate, simulateSequential } from '../dist/judge/index.js';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : def;
};
const runs = opt('--runs', 2000);
const seed = opt('--seed', 1);
const json = args.includes('--json');

const pct = (x) => `${(100 * x).toFixed(2)} %`;
const rows = [];
const t0 = Date.now();
const fixed = (label, o) => {
  const r = simulate({ runs, pairs: 20, cv: 0.05, seed: seed + rows.length, ...o });
  rows.push({ label, mode: `fixed ${o.pairs ?? 20} pairs`, ...r });
};
const seq = (label, o) => {
  const plan = { looks: 4, pairsPerLook: 10 };
  const r = simulateSequential({
    runs: Math.max(100, Math.round(runs / 2)),
    pairs: 40,
    cv: 0.05,
    seed: seed + rows.length,
    sequential: plan,
    ...o,
  });
  rows.push({ label, mode: 'sequential 4×10 (fixed n = 40)', ...r });
};

fixed('A/A lognormal, margin 2 %: false rollback', { ratio: 1 });
fixed('A/A normal, margin 2 %: false rollback', { ratio: 1, distribution: 'normal' });
fixed('canary at the -2 % boundary: false rollback', { ratio: 0.98 });
fixed('A/A, bulk metrics, 6 pairs: false rollback', { ratio: 1, metrics: 'bulk', pairs: 6 });
fixed('A/A, bulk metrics, 30 % failures both arms', { ratio: 1, metrics: 'bulk', failureRate: 0.3 });
fixed('canary fails 40 %: power (rollback)', { ratio: 1, metrics: 'bulk', canaryFailureRate: 0.4 });
fixed('10 % regression, bulk, 6 pairs: power', { ratio: 0.9, metrics: 'bulk', pairs: 6 });
fixed('10 % regression, bulk, 6 pairs, plain Holm', { ratio: 0.9, metrics: 'bulk', pairs: 6, multiplicity: 'holm' });
fixed('10 % regression: power (rollback)', { ratio: 0.9 });
fixed('5 % regression: power (rollback)', { ratio: 0.95 });
fixed('10 % improvement, expectImprovement: promote', { ratio: 1.1, expectImprovement: true });
seq('A/A: false rollback', { ratio: 1 });
seq('10 % regression: rollback', { ratio: 0.9 });
seq('10 % improvement, expectImprovement: promote', { ratio: 1.1, expectImprovement: true });

if (json) {
  process.stdout.write(JSON.stringify({ runs, seed, alpha: 0.05, cv: 0.05, rows, ms: Date.now() - t0 }, null, 2) + '\n');
} else {
  console.log(`netab judge calibration: CV 5 %, alpha 0.05, seed ${seed}`);
  for (const r of rows) {
    console.log(
      `${r.mode.padEnd(32)} ${r.label.padEnd(48)} runs ${String(r.runs).padStart(5)}  ` +
        `rollback ${pct(r.rollbackRate).padStart(8)}  promote ${pct(r.promoteRate).padStart(8)}  hold ${pct(r.holdRate).padStart(8)}  mean pairs ${r.meanPairs.toFixed(1)}`,
    );
  }
  console.log(`(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}
