/**
 * Issue #15 part 2 on real namespaces: a canary whose receiver has the seed's 32 KB receive buffer on
 * a 100 ms path. The theory shows the canary's window cap (2.56 Mbit/s for the whole buffer, the
 * kernel's effective share of it below that), the measurement meets it, and the goodput series
 * comes from the receiver, so it stays near the link rate.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeProgress } from '../../src/cli/progress.js';
import { judgeRun, writeVerdict } from '../../src/judge/run.js';
import { loadRunDir, renderHtml } from '../../src/report/index.js';
import { theoryFor } from '../../src/report/theory.js';
import { readRecords } from '../../src/results/store.js';
import type { RunManifest } from '../../src/results/types.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { runScenarios } from '../../src/trial/runner.js';
import { netabNamespaces, requirePrereqs } from '../helpers.js';

const run = requirePrereqs();

const SCENARIO = `
name: it-rcvbuf-32k
topology: dumbbell
links:
  bottleneck:
    delay: 50ms
    rate: 10mbit
    buffer: 1bdp
control: { cc: cubic }
canary:
  apply_to: receiver
  sysctls: { net.ipv4.tcp_rmem: "4096 32000 32000" }
workload: { type: bulk, duration: 4s, omit: 1s, interval: 100ms }
trials: { pairs: 2, warmup: 0 }
judge: { min_pairs: 2 }
fidelity: { enabled: false }
`;

describe.runIf(run)('theory: the 32 KB receive-buffer canary on a 100 ms path', () => {
  it('shows the window cap the canary meets, and receiver-side goodput near the link rate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netab-it-theory-'));
    const scenarios = loadScenarioText(SCENARIO, join(process.cwd(), 'scenarios', 'it-rcvbuf-32k.yaml'));
    await runScenarios(scenarios, {
      runDir: dir,
      seed: 7,
      aa: false,
      command: ['test'],
      sourceFile: 'it',
      progress: makeProgress(process.stderr, true),
    });
    expect(netabNamespaces()).toEqual([]);
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as RunManifest;
    const t = theoryFor(m.scenarios[0], m.environment.kernel)!;
    const [ctl, can] = t.arms;
    expect(can!.ends.rmem).toEqual({ value: [4096, 32000, 32000], source: 'read back' });
    expect(can!.rawWindowCapMbit).toBeCloseTo(2.56, 9);
    expect(ctl!.hardCapMbit).toBe(10);
    const recs = readRecords(dir).filter((r) => r.status === 'ok' && !r.warmup);
    const gp = (arm: string) => recs.filter((r) => r.arm === arm).map((r) => r.metrics.goodput!);
    // the canary meets its window cap: above half the kernel's low share (a 2x margin for the
    // window's growth during the first seconds and a loaded host), never above the whole buffer
    // / RTT plus the 5 % margin. Measured on this host: 1.49 Mbit/s (6.18: effective 1.6).
    for (const g of gp('canary')) {
      expect(g).toBeGreaterThan(can!.windowCapLowMbit / 2);
      expect(g).toBeLessThan(can!.rawWindowCapMbit * 1.05);
    }
    // control is limited by the rate: 10 Mbit/s · 1448/1514 = 9.56 Mbit/s of payload, plus the 5 %
    // hard-cap margin (measured 9.81: this relay's shaper let 10.26 Mbit/s of frames through)
    for (const g of gp('control')) expect(g).toBeLessThan(10 * 1.05);
    // goodput over time is what arrives at the receiver (rx counters, frames with headers: 1514 B
    // per 1448 B of payload): each 100 ms sample below the link rate plus 15 % (a read the event
    // loop ran late; each sample's own time span is measured, so only the counter's timing errs).
    // Measured: at most 10.73 (saturated: 9.81 payload = 10.26 on the wire). The iperf3 server's
    // in-order reads reached 2.46x the rate, right after a retransmission filled a hole.
    for (const r of recs) {
      const wire = r.series!.wire_rx!;
      expect(wire.length).toBeGreaterThan(30);
      expect(r.series!.wire_t!.length).toBe(wire.length);
      expect(Math.max(...wire)).toBeLessThan(10 * 1.15);
      expect(r.series!.rx_goodput!.length).toBeGreaterThan(30);
    }
    writeVerdict(dir, judgeRun(dir));
    const html = renderHtml(await loadRunDir(dir), { generatedAt: new Date(0) });
    expect(html).toContain('rwnd cap (canary)');
    expect(html).toContain('2.56 Mbit/s for the whole buffer / RTT');
    expect(html).toContain('goodput over time: arrivals at the receiver (rx counters)');
    expect(html).not.toContain('⚠ fidelity alarm');
    const wireMax = Math.max(...recs.flatMap((r) => r.series!.wire_rx!));
    const readMax = Math.max(...recs.flatMap((r) => r.series!.rx_goodput!));
    console.log(
      `wire max ${wireMax}, iperf3 server read max ${readMax} Mbit/s; canary goodput ${gp('canary').join(', ')} Mbit/s (cap ${can!.rawWindowCapMbit} raw, ${can!.windowCapMbit} effective); control ${gp('control').join(', ')}`,
    );
  }, 180_000);
});
