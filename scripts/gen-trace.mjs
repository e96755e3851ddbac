#!/usr/bin/env node
/**
 * Generate link capacity traces in mahimahi's format (one line per 1500-byte delivery opportunity:
 * an integer millisecond timestamp; the trace repeats when it ends) and traces/manifest.json with
 * each trace's model, mean capacity and 1 s window percentiles (traceStats of src/scenario/trace.ts,
 * the loader's own, so the manifest and the run's record agree).
 *
 *   npm run build && node scripts/gen-trace.mjs [outdir]   (default traces/; deterministic: fixed seeds)
 *
 * Models:
 *   markov   Markov-modulated cellular link: a birth-death chain over capacity levels, one step per
 *            `stepMs`: stay with p_stay, else one level up or down (reflecting at the ends); within
 *            a step, opportunities at the level's rate (fractional credit carried over).
 *   handover constant rate with an outage (no opportunities) of `outageMs` every `everyMs`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { traceStats } from '../dist/scenario/trace.js';
import { mulberry32 } from '../dist/stats/random.js';
import { join } from 'node:path';

const OPP_BITS = 1500 * 8;

/** opportunities for a rate function over [0, durationMs): rateAt(ms) in bit/s */
function opportunities(durationMs, rateAt) {
  const out = [];
  let credit = 0;
  for (let ms = 0; ms < durationMs; ms++) {
    credit += rateAt(ms) / 1000 / OPP_BITS;
    while (credit >= 1) {
      out.push(ms);
      credit -= 1;
    }
  }
  // the last line is the period: make sure it is durationMs
  if (out[out.length - 1] !== durationMs) out.push(durationMs);
  return out;
}

function markov({ levelsMbit, stepMs, pStay, durationMs, seed }) {
  const rng = mulberry32(seed);
  let k = Math.floor(levelsMbit.length / 2);
  const perStep = [];
  for (let s = 0; s < Math.ceil(durationMs / stepMs); s++) {
    perStep.push(levelsMbit[k] * 1e6);
    const u = rng();
    if (u >= pStay) k = Math.min(levelsMbit.length - 1, Math.max(0, k + (u < pStay + (1 - pStay) / 2 ? -1 : 1)));
  }
  return opportunities(durationMs, (ms) => perStep[Math.floor(ms / stepMs)]);
}

function handover({ rateMbit, everyMs, outageMs, firstMs, durationMs }) {
  return opportunities(durationMs, (ms) => {
    const into = (ms - firstMs) % everyMs;
    return ms >= firstMs && into >= 0 && into < outageMs ? 0 : rateMbit * 1e6;
  });
}

const TRACES = {
  'lte-markov.down': {
    model: 'markov',
    params: { levelsMbit: [2, 5, 10, 18, 30, 45], stepMs: 200, pStay: 0.8, durationMs: 30000, seed: 16 },
    about: 'Markov-modulated cellular downlink: 6 capacity levels 2-45 Mbit/s, a birth-death step every 200 ms (stay 0.8)',
  },
  'lte-markov.up': {
    model: 'markov',
    params: { levelsMbit: [0.5, 1, 2, 4, 6, 8], stepMs: 200, pStay: 0.8, durationMs: 30000, seed: 61 },
    about: 'its uplink: 6 levels 0.5-8 Mbit/s, same chain, another seed',
  },
  'handover-10s.down': {
    model: 'handover',
    params: { rateMbit: 20, everyMs: 10000, outageMs: 200, firstMs: 5000, durationMs: 30000 },
    about: '20 Mbit/s with a 200 ms handover outage every 10 s (at 5 s, 15 s, 25 s)',
  },
};

const outdir = process.argv[2] ?? 'traces';
mkdirSync(outdir, { recursive: true });
const manifest = {};
for (const [name, t] of Object.entries(TRACES)) {
  const times = t.model === 'markov' ? markov(t.params) : handover(t.params);
  writeFileSync(join(outdir, name), `${times.join('\n')}\n`);
  manifest[name] = { model: t.model, about: t.about, params: t.params, ...traceStats(times) };
  const s = manifest[name];
  console.log(
    `${name}: ${times.length} opportunities over ${s.periodMs} ms, mean ${(s.meanBps / 1e6).toFixed(2)} Mbit/s, p10/p50/p90 ${[s.p10Bps, s.p50Bps, s.p90Bps].map((x) => (x / 1e6).toFixed(2)).join('/')} Mbit/s`,
  );
}
writeFileSync(join(outdir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
