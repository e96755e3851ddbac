/**
 * The short-flow and competition workloads through the whole pipeline: testbed, tunings, trials,
 * judge. Suspect trials are kept (exclude_suspect: false) so a busy CI machine cannot turn these
 * clear-cut cases into a HOLD; the effects asserted are a round trip or more.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeProgress } from '../../src/cli/progress.js';
import { judgeRun } from '../../src/judge/index.js';
import { readRecords } from '../../src/results/store.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { runScenarios } from '../../src/trial/runner.js';
import { netabNamespaces, requirePrereqs } from '../helpers.js';

const ok = requirePrereqs();
const quiet = makeProgress(process.stderr, true);

async function runText(yaml: string, name: string) {
  const dir = mkdtempSync(join(tmpdir(), `netab-wl-${name}-`));
  const scenarios = loadScenarioText(yaml, join(process.cwd(), 'scenarios', `${name}.yaml`));
  await runScenarios(scenarios, { runDir: dir, seed: 21, aa: false, command: ['test'], sourceFile: name, progress: quiet });
  return { dir, verdict: judgeRun(dir), records: readRecords(dir) };
}

describe.runIf(ok)('workloads through the pipeline', () => {
  it('fct: initcwnd 30 completes a 45 KB response a round trip sooner than initcwnd 10, judged IMPROVED', async () => {
    const { verdict, records } = await runText(
      `
topology: dumbbell
links: { bottleneck: { delay: 50ms, rate: 50mbit } }
control: { cc: cubic, route: { initcwnd: 10 } }
canary: { cc: cubic, route: { initcwnd: 30 } }
workload: { type: fct, size: 45KB, transfers: 5 }
trials: { pairs: 6, warmup: 0 }
fidelity: { enabled: false }
judge: { expect_improvement: true, exclude_suspect: false, metrics: { fct_p99: false, ttfb_p50: false } }
`,
      'it-fct',
    );
    const med = (arm: string) => {
      const v = records
        .filter((r) => r.arm === arm)
        .map((r) => r.metrics.fct_p50!)
        .sort((a, b) => a - b);
      return v[Math.floor(v.length / 2)]!;
    };
    // 3 round trips (10 + 20 + 2 segments) vs 2 (30 + 2) after the request, at 100 ms RTT
    expect(med('control')).toBeGreaterThan(280);
    expect(med('canary')).toBeLessThan(250);
    const fct = verdict.scenarios[0]!.metrics.find((m) => m.name === 'fct_p50')!;
    expect(fct.verdict).toBe('IMPROVED');
    expect(verdict.decision).toBe('promote');
    expect(netabNamespaces()).toEqual([]);
  });

  it('compete: bbr vs cubic through a shallow buffer reports Jain index and control harm', async () => {
    const { verdict, records } = await runText(
      `
topology: dumbbell
links: { bottleneck: { delay: 10ms, rate: 20mbit, buffer: 0.5bdp } }
control: { cc: cubic }
canary: { cc: bbr }
workload: { type: compete, duration: 4s, omit: 1s }
trials: { pairs: 5, warmup: 0 }
fidelity: { enabled: false }
judge: { exclude_suspect: false }
`,
      'it-compete',
    );
    for (const r of records) {
      expect(r.status, r.reason ?? '').toBe('ok');
      expect(r.metrics.jain).toBeGreaterThan(0.45);
      expect(r.metrics.jain).toBeLessThanOrEqual(1);
      expect(r.metrics.control_harm).toBeGreaterThan(0);
      expect(r.extra!.competitor).toBe(r.arm === 'canary' ? 'canary arm' : 'control-profile peer');
    }
    const harm = verdict.scenarios[0]!.metrics.find((m) => m.name === 'control_harm')!;
    expect(harm.control.n).toBe(5);
    expect(harm.effect).not.toBeNull();
    expect(netabNamespaces()).toEqual([]);
  });
});
