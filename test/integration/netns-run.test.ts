import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeProgress } from '../../src/cli/progress.js';
import { readRecords } from '../../src/results/store.js';
import type { RunManifest } from '../../src/results/types.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { runScenarios } from '../../src/trial/runner.js';
import { netabNamespaces, requirePrereqs } from '../helpers.js';

const run = requirePrereqs();

const SCENARIO = `
name: it-bulk
topology: dumbbell
links:
  bottleneck:
    delay: 5ms
    rate: 20mbit
control: { cc: cubic }
canary:
  cc: bbr
  route: { initcwnd: 30, rto_min: 50ms }
  sysctls: { net.ipv4.tcp_slow_start_after_idle: 0 }
workload: { type: bulk, duration: 2s }
trials: { pairs: 2, warmup: 1 }
judge: { min_pairs: 2 }
fidelity: { samples: 200 }
`;

const quiet = makeProgress(process.stderr, true);

describe.runIf(run)('netns backend, real namespaces and iperf3', () => {
  it('runs pairs, records every trial, reads tunings back, leaves nothing behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netab-it-'));
    const scenarios = loadScenarioText(SCENARIO, join(process.cwd(), 'scenarios', 'it-bulk.yaml'));
    await runScenarios(scenarios, { runDir: dir, seed: 11, aa: false, command: ['test'], sourceFile: 'it', progress: quiet });
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as RunManifest;
    const s = m.scenarios[0]!;
    expect(s.status).toBe('done');
    expect(['netem', 'userspace']).toContain(s.engine!.name);
    const rb = s.readback as Record<string, Record<string, { sysctls: Record<string, string>; route: Record<string, unknown> }>>;
    expect(rb.control!.sender!.sysctls['net.ipv4.tcp_congestion_control']).toBe('cubic');
    expect(rb.canary!.sender!.sysctls['net.ipv4.tcp_congestion_control']).toBe('bbr');
    expect(rb.canary!.sender!.sysctls['net.ipv4.tcp_slow_start_after_idle']).toBe('0');
    expect(rb.canary!.sender!.route).toEqual({ initcwnd: 30, rtoMinMs: 50 });
    // the profile applies to the sender only by default
    expect(rb.canary!.receiver!.sysctls['net.ipv4.tcp_congestion_control']).toBeUndefined();
    const fid = s.fidelity as { checks: { metric: string; ok: boolean | null; measured: number }[] };
    expect(fid.checks.map((c) => c.metric)).toEqual(['rtt_p50', 'loss_round_trip', 'rate']);
    expect(fid.checks.find((c) => c.metric === 'rtt_p50')!.measured).toBeGreaterThan(9.5);

    const recs = readRecords(dir);
    expect(recs).toHaveLength(6);
    expect(recs.filter((r) => r.warmup)).toHaveLength(2);
    for (const pair of [0, 1, 2]) expect(recs.filter((r) => r.pair === pair).map((r) => r.arm).sort()).toEqual(['canary', 'control']);
    for (const r of recs) {
      expect(r.status, r.reason ?? '').toBe('ok');
      expect(r.metrics.goodput).toBeGreaterThan(5);
      expect(r.metrics.goodput).toBeLessThan(20.5);
      expect(r.metrics.rtt_p50).toBeGreaterThan(9);
      expect(r.extra!.senderCongestion).toBe(r.arm === 'control' ? 'cubic' : 'bbr');
    }
    expect(netabNamespaces()).toEqual([]);
  });

  it('a tuning that does not take fails the run and still tears everything down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netab-it-'));
    const bad = SCENARIO.replace('net.ipv4.tcp_slow_start_after_idle: 0', 'net.ipv4.tcp_no_such_knob: 1');
    const scenarios = loadScenarioText(bad, join(process.cwd(), 'scenarios', 'it-bad.yaml'));
    await expect(
      runScenarios(scenarios, { runDir: dir, seed: 1, aa: false, command: ['test'], sourceFile: 'it', progress: quiet }),
    ).rejects.toThrow(/tcp_no_such_knob/);
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as RunManifest;
    expect(m.scenarios[0]!.status).toBe('failed');
    expect(netabNamespaces()).toEqual([]);
  });
});
