#!/usr/bin/env node
/**
 * Sequential mode measured (issue 18, item 7): how many pairs sequential judging uses before it
 * stops, on a quickstart-like effect and on a clear regression, against the fixed plan's pairs.
 *
 *   npx tsc -p tsconfig.json && node bench/sequential.mjs [--runs N] [--seed S] [--json]
 *
 * Each simulated run is one synthetic comparison (src/judge/simulate.ts syntheticRun, lognormal
 * trial values) judged look by look with sequentialLook, exactly as `netab run` does with
 * `judge.sequential: true`; the run stops at the first look that decides. Cases:
 *   quickstart   bbr vs cubic at 1 % loss: canary goodput about +500 % (ratio 6), CV 4 %,
 *                expect_improvement: true; plan of scenarios/quickstart.yaml (8 pairs, 4 looks);
 *   regression   a clear regression: canary -30 %, CV 5 %, same plan;
 * and the same two on the default-sized plan (20 pairs, 4 looks). Printed: median and p90 pairs
 * used, the fixed plan's pairs, the share of pairs saved, and the decision rates.
 */
import { sequentialLook, syntheticRun } from '../dist/judge/index.js';
import { mulberry32, normalSource } from '../dist/stats/index.js';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : def;
};
const runs = opt('--runs', 400);
const seed = opt('--seed', 1);
const json = args.includes('--json');

const cases = [
  { label: 'quickstart-like: canary +500 %, CV 4 %, expect improvement', ratio: 6, cv: 0.04, expectImprovement: true },
  { label: 'clear regression: canary -30 %, CV 5 %', ratio: 0.7, cv: 0.05, expectImprovement: false },
];
const plans = [
  { label: 'quickstart plan', pairs: 8, looks: 4 },
  { label: '20-pair plan', pairs: 20, looks: 4 },
];

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
const rows = [];
const t0 = Date.now();
for (const plan of plans) {
  const pairsPerLook = Math.ceil(plan.pairs / plan.looks); // as src/scenario/resolve.ts
  for (const [ci, c] of cases.entries()) {
    const rand = mulberry32(seed + 1000 * ci + plan.pairs);
    const gauss = normalSource(rand);
    const o = {
      runs,
      pairs: plan.pairs,
      cv: c.cv,
      ratio: c.ratio,
      seed,
      expectImprovement: c.expectImprovement,
      sequential: { looks: plan.looks, pairsPerLook },
    };
    const decisions = { promote: 0, hold: 0, rollback: 0 };
    const used = [];
    for (let i = 0; i < runs; i++) {
      const { manifest, records } = syntheticRun(o, plan.looks * pairsPerLook, rand, gauss);
      const settings = manifest.scenarios[0].judge;
      let decision = 'hold';
      let pairs = 0;
      for (let k = 1; k <= plan.looks; k++) {
        pairs = k * pairsPerLook;
        const r = sequentialLook(
          records.filter((t) => t.pair < pairs),
          settings,
          { index: k, planned: plan.looks, scenarios: 1 },
          'sim',
        );
        decision = r.decisionSoFar;
        if (r.stop) break;
      }
      decisions[decision]++;
      used.push(pairs);
    }
    used.sort((a, b) => a - b);
    const fixed = plan.looks * pairsPerLook;
    const mean = used.reduce((a, b) => a + b, 0) / runs;
    rows.push({
      case: c.label,
      plan: `${plan.label}: ${fixed} pairs, ${plan.looks} looks of ${pairsPerLook}`,
      runs,
      fixedPairs: fixed,
      medianPairs: quantile(used, 0.5),
      p90Pairs: quantile(used, 0.9),
      meanPairs: mean,
      saved: 1 - mean / fixed,
      rates: { promote: decisions.promote / runs, hold: decisions.hold / runs, rollback: decisions.rollback / runs },
    });
  }
}
const seconds = (Date.now() - t0) / 1000;
if (json) process.stdout.write(JSON.stringify({ runs, seed, seconds, rows }, null, 2) + '\n');
else {
  const pct = (x) => `${(100 * x).toFixed(1)} %`;
  console.log(`netab sequential judging: pairs used vs the fixed plan (${runs} simulated runs per case, ${seconds.toFixed(1)} s)`);
  for (const r of rows) {
    console.log(`${r.case}\n  ${r.plan}`);
    console.log(
      `  pairs used: median ${r.medianPairs}, p90 ${r.p90Pairs}, mean ${r.meanPairs.toFixed(2)} vs fixed ${r.fixedPairs} (${pct(r.saved)} saved)` +
        `  decisions: promote ${pct(r.rates.promote)}, hold ${pct(r.rates.hold)}, rollback ${pct(r.rates.rollback)}`,
    );
  }
}
