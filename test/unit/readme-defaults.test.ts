/**
 * The README states defaults; the code has them in scenario/metrics.ts and scenario/defaults.ts.
 * This test reads the README's statements and fails when the two drift apart.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JUDGE_DEFAULTS, LINK_DEFAULTS, PROFILE_DEFAULTS, TRIAL_DEFAULTS } from '../../src/scenario/defaults.js';
import { METRIC_DEFAULTS } from '../../src/scenario/metrics.js';

const README = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');

describe('README defaults match the code', () => {
  it('the default-judging table lists every metric with the code’s direction, margin and critical flag', () => {
    const rows = [...README.matchAll(/^\| `([a-z_0-9]+)` \| (higher|lower) \| ([0-9.]+) ?(%|\(absolute\)) \| (yes|no) \|$/gm)];
    const table = Object.fromEntries(
      rows.map((m) => [
        m[1]!,
        {
          direction: m[2],
          margin: m[4] === '%' ? { kind: 'relative', value: Number(m[3]) / 100 } : { kind: 'absolute', value: Number(m[3]) },
          critical: m[5] === 'yes',
        },
      ]),
    );
    const code = Object.fromEntries(
      Object.entries(METRIC_DEFAULTS).map(([name, d]) => [name, { direction: d.direction, margin: d.margin, critical: d.critical }]),
    );
    expect(Object.keys(table).sort()).toEqual(Object.keys(code).sort());
    for (const name of Object.keys(code)) {
      const t = table[name]!;
      expect({ ...t, margin: { ...t.margin, value: Number(t.margin.value.toPrecision(6)) } }, name).toEqual(code[name]);
    }
  });

  it('the scenario reference’s defaults are the code’s', () => {
    expect(README).toMatch(new RegExp(`apply_to: ${PROFILE_DEFAULTS.applyTo} +# ${PROFILE_DEFAULTS.applyTo} \\(default\\)`));
    expect(README).toMatch(new RegExp(`default \`${LINK_DEFAULTS.buffer}\``));
    expect(README).toContain(`  alpha: ${JUDGE_DEFAULTS.alpha}\n  min_pairs: ${JUDGE_DEFAULTS.minPairs}\n`);
    expect(README).toContain(
      `trials: { pairs: ${TRIAL_DEFAULTS.pairs}, warmup: ${TRIAL_DEFAULTS.warmup}, timeout: 35s, replace_budget: ${TRIAL_DEFAULTS.replaceBudget * 100}% }`,
    );
  });
});
