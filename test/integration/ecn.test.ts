/**
 * ECN end to end on the userspace relay (netns backend): a RED bottleneck that marks, control
 * without ECN (tcp_ecn 0), canary with it (tcp_ecn 1; the receivers' default 2 accepts it).
 *
 * 20 Mbit/s, 20 ms RTT, buffer 4 bdp (200 KB) so RED (defaults: min 33 KB, max 100 KB, 10 %) acts
 * well before the queue's hard limit: a CUBIC flow's slow-start overshoot after its first
 * congestion signal (at most a doubling of a ~90 KB window) stays under 200 KB, so tail drops
 * should not occur and every RED selection of the canary's ECT data is a CE mark. Expected:
 *   - control: RED drops its (Not-ECT) packets; every congestion event costs at least one
 *     retransmitted segment, and a 6 s flow has at least the slow-start exit: >= 1 per trial
 *   - canary: CE marks reach its receiver (> 0 per trial); its retransmits come only from
 *     elsewhere (a tail-loss probe, a spurious RTO on a loaded host): bound: the canary's total is
 *     below the control's and at most 3 per trial (a margin for TLP/RTO on a 2-core shared host)
 *   - control's receiver sees no CE at all (its packets are not ECN-capable)
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeProgress } from '../../src/cli/progress.js';
import type { RelayStats } from '../../src/impairment/userspace/protocol.js';
import { readRecords } from '../../src/results/store.js';
import type { RunManifest } from '../../src/results/types.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { runScenarios } from '../../src/trial/runner.js';
import type { EcnCounters } from '../../src/workload/telemetry.js';
import { netabNamespaces, requirePrereqs } from '../helpers.js';

const run = requirePrereqs();

const SCENARIO = `
name: it-ecn
topology: dumbbell
engine: userspace
links:
  bottleneck:
    delay: 10ms
    rate: 20mbit
    buffer: 4bdp
    aqm: { type: red, ecn: true }
control: { cc: cubic, sysctls: { net.ipv4.tcp_ecn: 0 } }
canary: { cc: cubic, sysctls: { net.ipv4.tcp_ecn: 1 } }
workload: { type: bulk, duration: 6s }
trials: { pairs: 3, warmup: 0, replace_budget: 0% }
judge: { min_pairs: 2 }
fidelity: { enabled: false }
`;

describe.runIf(run)('ECN: a marking RED bottleneck on the relay', () => {
  it('counts CE marks for the ECN arm and its retransmits fall against the non-ECN arm', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netab-it-ecn-'));
    const scenarios = loadScenarioText(SCENARIO, join(process.cwd(), 'scenarios', 'it-ecn.yaml'));
    await runScenarios(scenarios, {
      runDir: dir,
      seed: 5,
      aa: false,
      command: ['test'],
      sourceFile: 'it',
      progress: makeProgress(process.stderr, true),
    });
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as RunManifest;
    const s = m.scenarios[0]!;
    expect(s.status).toBe('done');
    expect(s.engine).toMatchObject({ name: 'userspace', randomness: 'seeded (the relay draws from the scenario seed)' });
    const recs = readRecords(dir);
    expect(recs).toHaveLength(6);
    const telemetry = Object.fromEntries(
      readdirSync(join(dir, 'telemetry')).map((f) => [f, JSON.parse(readFileSync(join(dir, 'telemetry', f), 'utf8'))]),
    ) as Record<string, { link: string; stats: RelayStats }[]>;
    const retrans = { control: 0, canary: 0 };
    for (const r of recs) {
      expect(r.status, r.reason ?? '').toBe('ok');
      const ecn = r.extra!.ecn as EcnCounters;
      const segs = r.extra!.retransSegs as number;
      retrans[r.arm] += segs;
      const t = Object.entries(telemetry).find(([f]) => f.includes(`${r.pair}-${r.arm}`));
      expect(t, `telemetry of ${r.trial}`).toBeDefined();
      const fwd = t![1].find((l) => l.link === 'bottleneck')!.stats.forward;
      const summary = `${r.trial}: retrans ${segs}, CE at the receiver ${ecn.ceReceived}, relay marks ${fwd.ceMarks}, RED drops ${fwd.drops.aqm}, tail drops ${fwd.drops.queue}`;
      process.stderr.write(`${summary}\n`);
      if (r.arm === 'canary') {
        expect(ecn.ceReceived, summary).toBeGreaterThan(0);
        expect(ecn.ceReceived, summary).toBeLessThanOrEqual(fwd.ceMarks);
        expect(ecn.deliveredCe, summary).toBeGreaterThan(0);
        expect(fwd.drops.aqm, summary).toBe(0);
        expect(segs, summary).toBeLessThanOrEqual(3);
      } else {
        expect(ecn.ceReceived, summary).toBe(0);
        expect(fwd.ceMarks, summary).toBe(0);
        expect(fwd.drops.aqm, summary).toBeGreaterThan(0);
        expect(segs, summary).toBeGreaterThanOrEqual(1);
      }
    }
    expect(retrans.canary).toBeLessThan(retrans.control);
    expect(netabNamespaces()).toEqual([]);
  }, 300_000);
});
