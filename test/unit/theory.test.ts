/**
 * Theory per arm (issue #15 part 2): hard caps (rate, receive window), response functions as
 * references, buffer rule, slow-start round trips. Exact values, worked out in the comments.
 */
import { describe, expect, it } from 'vitest';
import type { ManifestScenario } from '../../src/results/types.js';
import { expectedEffectPct, hardCapAlarm, theoryExpectation, theoryFor } from '../../src/report/theory.js';
import {
  bdpBytes,
  bufferRuleBytes,
  cubicMbit,
  expectedChangePct,
  expectedFctMs,
  expectedRoundTrips,
  kernelVersion,
  mathisMbit,
  receiveWindowShare,
  responseFunction,
  slowStartFlights,
  weightedQuantile,
  windowCapMbit,
} from '../../src/report/theory/physics.js';
import { theoryBlock } from '../../src/report/theory/view.js';

/** A manifest scenario as the pipeline writes it: expanded scenario, path, per-arm read-back. */
function scenario(o: {
  path: ManifestScenario['path'];
  control?: Record<string, unknown>;
  canary?: Record<string, unknown>;
  workload?: Record<string, unknown>;
  readback?: Record<string, unknown>;
}): ManifestScenario {
  const profile = (p: Record<string, unknown> | undefined) => ({ name: 'p', sysctls: {}, route: {}, applyTo: 'sender', ...p });
  return {
    id: 's',
    name: 's',
    params: {},
    hash: 'h',
    judge: {} as ManifestScenario['judge'],
    path: o.path,
    scenario: {
      control: profile(o.control),
      canary: profile(o.canary),
      endpointSysctls: {},
      workload: o.workload ?? { type: 'bulk', durationS: 10, flows: 1, omitS: 2, intervalS: 0.1 },
    },
    readback: o.readback,
  };
}

const rb = (sysctls: Record<string, string>, observed: Record<string, string> = {}, route: Record<string, unknown> = {}) => ({
  sysctls,
  route,
  routeLine: 'default via 10.0.0.1 dev eth0',
  observed,
});
const K618 = { 'kernel.osrelease': '6.18.44-fc-v1045', 'net.ipv4.tcp_adv_win_scale': '1', 'net.ipv4.tcp_rmem': '4096\t131072\t6291456' };

describe('physics: exact values', () => {
  it("the seed's example: a 32KB receive buffer over 100ms caps the throughput at 2.56Mbps", () => {
    // seeds/tcp-optimization-toolbox.txt: "a 100ms link with a 32KB receive buffer, caps the throughput
    // at 2.56Mbps": KB = 1000 B (netab's units too): 32000 B · 8 / 0.1 s = 2 560 000 bit/s
    expect(windowCapMbit(32000, 100)).toBeCloseTo(2.56, 12);
    expect(windowCapMbit(32768, 100)).toBeCloseTo(2.62144, 12); // KiB would not give the seed's number
  });

  it('the kernel share of the buffer: Linux ≥ 6.6 len/truesize, older tcp_adv_win_scale', () => {
    // 6.18: ⌊1448·256/2304⌋ = 160 → 160/256 = 62.5 %; 50 % before the first full segment
    const w = receiveWindowShare('6.18.44-fc-v1045', 1, 1448);
    expect(w.share).toBe(0.625);
    expect(w.lowShare).toBe(0.5);
    expect(w.rule).toMatch(/^Linux ≥ 6\.6: buffer × skb len\/truesize = 160\/256/);
    expect(windowCapMbit(32000 * w.share, 100)).toBeCloseTo(1.6, 12); // 20000 B per 100 ms
    // before 6.6: tcp_adv_win_scale (1 → ½, 2 → ¾, −2 → ¼); unset → the default 1
    expect(receiveWindowShare('6.1.0-28-amd64', 1).share).toBe(0.5);
    expect(receiveWindowShare('5.15.0', 2).share).toBe(0.75);
    expect(receiveWindowShare('5.15.0', -2).share).toBe(0.25);
    expect(receiveWindowShare('6.5.9', null).share).toBe(0.5);
    expect(receiveWindowShare(undefined, null).rule).toBe('kernel unknown: tcp_adv_win_scale 1 (default) → 50 % of the buffer');
    expect(kernelVersion('6.18.44-fc-v1045')).toEqual([6, 18]);
    expect(kernelVersion('garbage')).toBeNull();
  });

  it('Mathis and RFC 9438 CUBIC on the 100 Mbit/s, 100 ms, 0.01 % path', () => {
    // Mathis: 1448·8/0.1 · √(3/(2·10⁻⁴)) = 115 840 · 122.4745 bit/s = 14.1874 Mbit/s
    expect(mathisMbit(1448, 100, 1e-4)).toBeCloseTo(14.187444590200169, 10);
    // CUBIC: (0.4·3.7/(4·0.3))^¼ = 1.053829; 1.053829 · 0.1^¾ / (10⁻⁴)^¾ = 187.400 segments
    // (> Reno's 122.47), · 1448·8/0.1 = 21.7084 Mbit/s
    expect(cubicMbit(1448, 100, 1e-4)).toBeCloseTo(21.70844253156028, 10);
    // at 1 % loss and 80 ms CUBIC is in its Reno-friendly region: the same as Mathis
    expect(cubicMbit(1448, 80, 0.01)).toBeCloseTo(mathisMbit(1448, 80, 0.01)!, 12);
    expect(responseFunction('bbr', 1448, 100, 1e-4)).toBeNull();
    expect(responseFunction('reno', 1448, 100, 1e-4)!.label).toBe('Reno response (Mathis)');
    expect(responseFunction('cubic', 1448, 100, null)).toBeNull();
  });

  it('BDP and C·RTT/√n', () => {
    expect(bdpBytes(100, 100)).toBeCloseTo(1_250_000, 6);
    // 100 Mbit/s · 100 ms / √16 = 1 250 000 / 4
    expect(bufferRuleBytes(100, 100, 16)).toBeCloseTo(312_500, 6);
    expect(bufferRuleBytes(50, 100, 1)).toBeCloseTo(625_000, 6);
    expect(bufferRuleBytes(50, 100, 0)).toBeNull();
  });

  it('slow-start round trips for 45 KB: IW10 needs one more than IW30 (MSS 1448)', () => {
    // ⌈45000/1448⌉ = 32 segments: IW10 → 10 + 20 + 2 (3 flights), IW30 → 30 + 2 (2 flights)
    expect(slowStartFlights(45000, 10, 1448)).toBe(3);
    expect(slowStartFlights(45000, 30, 1448)).toBe(2);
    expect(expectedRoundTrips(45000, 10, 1448)).toBe(4); // + the handshake
    expect(expectedRoundTrips(45000, 30, 1448)).toBe(3);
    expect(expectedRoundTrips(4000, 10, 1448)).toBe(2);
    expect(slowStartFlights(0, 10)).toBe(0);
    // an initial receive window of 8 segments holds IW30 back: 8 + 16 + 32 → 3 flights
    expect(slowStartFlights(45000, 30, 1448, 8)).toBe(3);
    // fct at 180 ms and 50 Mbit/s: flights · RTT + 45000·8/50e6 s (7.2 ms)
    const iw10 = expectedFctMs(45000, { initcwnd: 10, rttMs: 180, rateMbit: 50 });
    const iw30 = expectedFctMs(45000, { initcwnd: 30, rttMs: 180, rateMbit: 50 });
    expect(iw10).toBeCloseTo(547.2, 9);
    expect(iw30).toBeCloseTo(367.2, 9);
    expect(iw10 - iw30).toBeCloseTo(180, 9); // one round trip
    expect(expectedChangePct(iw10, iw30)).toBeCloseTo(-32.89473684210526, 9);
  });

  it('weighted median', () => {
    expect(
      weightedQuantile(
        [
          { value: 1, weight: 40 },
          { value: 3, weight: 40 },
          { value: 5, weight: 20 },
        ],
        0.5,
      ),
    ).toBe(3); // cumulative 40 % at 1, 80 % at 3: fct-initcwnd.yaml's median transfer is the 45 KB one
    expect(
      weightedQuantile(
        [
          { value: 1, weight: 1 },
          { value: 3, weight: 1 },
        ],
        0.5,
      ),
    ).toBe(1);
    expect(weightedQuantile([{ value: 2, weight: 1 }], 0.5)).toBe(2);
    expect(weightedQuantile([], 0.5)).toBeNull();
  });
});

describe('theoryFor: caps and references per arm', () => {
  // the seed's example as a canary: receiver tcp_rmem max 32000 B on a 50 Mbit/s, 100 ms path
  const canary32k = scenario({
    path: { rateMbit: 50, rttMs: 100, mss: 1448, bufferBytes: 625_000 },
    canary: { cc: 'cubic', sysctls: { 'net.ipv4.tcp_rmem': '4096 32000 32000' }, applyTo: 'receiver' },
    readback: {
      control: { sender: rb({}, K618), receiver: rb({}, K618) },
      canary: { sender: rb({}, K618), receiver: rb({ 'net.ipv4.tcp_rmem': '4096\t32000\t32000' }, K618) },
    },
  });

  it("the canary's 32 KB receive buffer: 2.56 Mbit/s raw, 1.6 Mbit/s effective, which 1.49 Mbit/s meets", () => {
    const t = theoryFor(canary32k)!;
    const [ctl, can] = t.arms;
    expect(can!.ends.rmem).toEqual({ value: [4096, 32000, 32000], source: 'read back' });
    expect(can!.ends.kernel).toBe('6.18.44-fc-v1045');
    expect(can!.rawWindowCapMbit).toBeCloseTo(2.56, 12);
    expect(can!.windowCapMbit).toBeCloseTo(1.6, 12);
    expect(can!.windowCapLowMbit).toBeCloseTo(1.28, 12);
    expect(can!.hardCapMbit).toBeCloseTo(2.56, 12);
    expect(can!.hardCapBy).toBe('receive buffer / RTT');
    expect(can!.expectedMbit).toBeCloseTo(1.6, 12);
    // measured here: 1.49 Mbit/s, between the 50 % start and the 62.5 % share, 93 % of the latter
    expect(1.49).toBeGreaterThan(can!.windowCapLowMbit);
    expect(1.49).toBeLessThan(can!.windowCapMbit);
    expect(hardCapAlarm(1.49, can!.hardCapMbit)).toBeNull();
    // the expected goodput effect of the cell: 1.6 / 50 − 1 = −96.8 %
    expect(expectedEffectPct(t, 'goodput')).toBeCloseTo(-96.8, 9);
    expect(expectedEffectPct(t, 'rtt_p50')).toBeNull();
    // control keeps the namespace default (6291456 B): its window is far above the 50 Mbit/s rate
    expect(ctl!.ends.rmem.source).toBe('read back, namespace default');
    expect(ctl!.hardCapMbit).toBe(50);
    expect(ctl!.hardCapBy).toBe('bottleneck rate');
    // chart lines: the rate and the canary's window cap; no loss, so no response function
    expect(t.lines.map((l) => [l.key, l.arm, l.label, +l.mbit.toFixed(6)])).toEqual([
      ['rate', null, 'bottleneck rate', 50],
      ['window', 'canary', 'rwnd cap (canary)', 1.6],
    ]);
  });

  it('no false cap from a sub-BDP bottleneck buffer (was buffer/RTT = 25 Mbit/s on this path)', () => {
    // the compete path: 50 Mbit/s, 100 ms, 0.5 BDP buffer, default receive buffers
    const t = theoryFor(
      scenario({
        path: { rateMbit: 50, rttMs: 100, mss: 1448, bufferBytes: 312_500 },
        workload: { type: 'compete', flowsPerArm: 1 },
      }),
      '6.18.44',
    )!;
    expect(t.bufferBdp).toBeCloseTo(0.5, 12);
    expect(t.lines.map((l) => l.key)).toEqual(['rate']);
    expect(t.arms.map((a) => a.hardCapMbit)).toEqual([50, 50]);
    expect(t.arms.map((a) => a.expectedMbit)).toEqual([50, 50]);
    expect(t.flows).toBe(2);
    expect(t.bufferRuleBytes).toBeCloseTo(625_000 / Math.SQRT2, 6);
  });

  it('references per congestion control, never a ceiling: CUBIC for cubic, none for BBR', () => {
    const t = theoryFor(
      scenario({ path: { rateMbit: 100, rttMs: 100, mss: 1448, loss: 1e-4 }, control: { cc: 'cubic' }, canary: { cc: 'bbr' } }),
      '6.18.44',
    )!;
    expect(t.arms[0]!.response!.mbit).toBeCloseTo(21.70844253156028, 10);
    expect(t.arms[1]!.response).toBeNull();
    expect(t.arms.map((a) => a.hardCapMbit)).toEqual([100, 100]);
    expect(t.lines.map((l) => [l.key, l.label, l.hard])).toEqual([
      ['rate', 'bottleneck rate', true],
      ['response', 'CUBIC ref. (control)', false],
    ]);
    // measured CUBIC 70, BBR 85 Mbit/s: no alarm; 110 on a 100 Mbit/s link is one
    expect(hardCapAlarm(85, 100)).toBeNull();
    expect(hardCapAlarm(105, 100)).toBeNull(); // within the 5 % margin
    expect(hardCapAlarm(110, 100)).toBe('10 % above the hard cap (margin 5 %)');
    const v = theoryBlock(t, [{ arm: 'canary', med: 110, q1: 109, q3: 111, source: 'metric goodput' }], false);
    const row = (k: string) => v.rows.find((r) => r.key === k)?.value;
    expect(row('CUBIC response (RFC 9438) (control)')).toMatch(/^21\.7 Mbit\/s: .*not a ceiling$/);
    expect(row('bbr response (canary)')).toBe('none: BBR models the bottleneck rate, not loss');
    expect(row('⚠ fidelity alarm (canary)')).toBe(
      'measured 110 Mbit/s is 10 % above the hard cap (margin 5 %): 100 Mbit/s (bottleneck rate); the testbed delivered more than the physics allows',
    );
    expect(v.rows.some((r) => /ceiling/.test(r.key))).toBe(false);
  });

  it('profiles and defaults when nothing was read back; older flat read-back maps', () => {
    const t = theoryFor(
      scenario({
        path: { rttMs: 50, mss: 1448 },
        canary: { route: { congctl: 'reno' }, sysctls: { 'net.ipv4.tcp_rmem': '4096 65536 65536' }, applyTo: 'both' },
      }),
      '5.15.0',
    )!;
    expect(t.arms[0]!.ends.cc).toEqual({ value: 'cubic', source: 'Linux default, assumed' });
    expect(t.arms[0]!.ends.rmem.source).toBe('Linux per-namespace default, assumed');
    expect(t.arms[1]!.ends.cc).toEqual({ value: 'reno', source: 'profile route congctl' });
    expect(t.arms[1]!.ends.rmem).toEqual({ value: [4096, 65536, 65536], source: 'profile' });
    // no rate: the window is the hard cap; 65536 B · ½ / 50 ms = 5.24288 Mbit/s
    expect(t.arms[1]!.hardCapMbit).toBeCloseTo(10.48576, 9);
    expect(t.arms[1]!.expectedMbit).toBeCloseTo(5.24288, 9);
    const old = theoryFor(
      { ...scenario({ path: { rttMs: 50, mss: 1448 } }), readback: { canary: { client: { 'net.ipv4.tcp_rmem': '4096 8000 8000' } } } },
      '5.15.0',
    )!;
    expect(old.arms[1]!.ends.rmem).toEqual({ value: [4096, 8000, 8000], source: 'read back' });
  });
});

describe('short transfers: expected round trips beside the measured fct', () => {
  it('initcwnd 30 vs 10 on 45 KB at 180 ms: one round trip less, shown per arm with the measured fct_p50', () => {
    const t = theoryFor(
      scenario({
        path: { rateMbit: 50, rttMs: 180, mss: 1448 },
        canary: { route: { initcwnd: 30 } },
        workload: { type: 'fct', sizes: [{ bytes: 45000, weight: 1 }], transfers: 20, gapMs: 0, requestBytes: 100 },
        readback: { canary: { sender: rb({}, K618, { initcwnd: 30 }), receiver: rb({}, K618) } },
      }),
    )!;
    expect(t.arms.map((a) => [a.ends.initcwnd.value, a.ends.initcwnd.source])).toEqual([
      [10, 'Linux default'],
      [30, 'route, read back'],
    ]);
    // initial receive window: min(65535, 131072 · ½) / 1448 → 45 segments, above IW30
    expect(t.arms[1]!.rwnd0Segments).toBe(45);
    expect(expectedEffectPct(t, 'fct_p50')).toBeCloseTo(-32.89473684210526, 9);
    expect(t.shortFlows!.map((s) => [s.arm, s.p50Flights, s.p50FctMs])).toEqual([
      ['control', 3, 547.2],
      ['canary', 2, 367.2],
    ]);
    const fct = { name: 'fct_p50', control: { median: 552.8 }, canary: { median: 371.9 } } as never;
    const v = theoryBlock(t, [], false, [fct]);
    const row = (k: string) => v.rows.find((r) => r.key === k)?.value;
    expect(row('expected, 45 KB (control, initcwnd 10)')).toBe('4 round trips = 1 handshake + 3 for the response; fct ≈ 547 ms');
    expect(row('expected, 45 KB (canary, initcwnd 30)')).toBe('3 round trips = 1 handshake + 2 for the response; fct ≈ 367 ms');
    expect(row('expected fct_p50 (control)')).toBe('547 ms (3 RTT request → last byte); measured 553 ms');
    expect(row('expected fct_p50 (canary)')).toBe('367 ms (2 RTT request → last byte); measured 372 ms');
    expect(row('fct_p50 change, canary vs control')).toBe('expected −32.9 %; measured −32.7 %');
  });
});

describe('the sweep tables’ theory hook', () => {
  it('orients like the judge: a lower fct is + (control/canary − 1), a higher goodput is + (canary/control − 1)', () => {
    const sc = scenario({
      path: { rateMbit: 50, rttMs: 180, mss: 1448 },
      canary: { route: { initcwnd: 30 } },
      workload: { type: 'fct', sizes: [{ bytes: 45000, weight: 1 }], transfers: 20, gapMs: 0, requestBytes: 100 },
      readback: { canary: { sender: rb({}, K618, { initcwnd: 30 }), receiver: rb({}, K618) } },
    });
    const dir = (m: string) => (m === 'fct_p50' ? 'lower' : 'higher') as 'lower' | 'higher';
    const expected = theoryExpectation([sc], null, dir);
    // theory: fct 547 ms (IW10) → 367 ms (IW30), i.e. −32.9 % as a change, +49.0 % as the judge's effect
    expect(expected(sc.id, 'fct_p50')).toBeCloseTo((1 / (1 - 0.3289473684210526) - 1) * 100, 9);
    expect(expected(sc.id, 'rtt_p50')).toBeNull();
    expect(expected('no such scenario', 'fct_p50')).toBeNull();
  });
});

describe('expected goodput change on a lossy path', () => {
  it('BBR vs CUBIC at 1 % loss, 50 ms, 50 Mbit/s: CUBIC at its response function, BBR at the rate', () => {
    const t = theoryFor(
      scenario({
        path: { rateMbit: 50, rttMs: 50, loss: 0.01, bufferBytes: 312500, mss: 1448 },
        control: { cc: 'cubic' },
        canary: { cc: 'bbr' },
        // a receive buffer far above the BDP: the window is not the limit
        readback: {
          control: { receiver: rb({}, { ...K618, 'net.ipv4.tcp_rmem': '4096\t131072\t33554432' }) },
          canary: { receiver: rb({}, { ...K618, 'net.ipv4.tcp_rmem': '4096\t131072\t33554432' }) },
        },
      }),
    )!;
    const cubic = responseFunction('cubic', 1448, 50, 0.01)!.mbit;
    expect(cubic).toBeLessThan(50);
    expect(responseFunction('bbr', 1448, 50, 0.01)).toBeNull();
    expect(expectedEffectPct(t, 'goodput')).toBeCloseTo((50 / cubic - 1) * 100, 9);
  });
});
