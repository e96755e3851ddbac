import { describe, expect, it } from 'vitest';
import { CorrelatedUniform, Xoshiro128 } from '../../src/impairment/userspace/prng.js';
import { DEVIATE_MAX, DEVIATE_MIN, deviate, normalQuantile } from '../../src/impairment/userspace/distributions.js';
import { LinkModel, applyCorruption, newEmission, type Emission } from '../../src/impairment/userspace/model.js';
import type { LinkImpairment } from '../../src/impairment/types.js';

const MS = 1e6;

/** Feed n packets of `bytes` at `gapNs` spacing; collect every emission. */
function feed(imp: LinkImpairment, n: number, opts: { seed?: number; bytes?: number; gapNs?: number } = {}) {
  const m = new LinkModel(imp, opts.seed ?? 7);
  const out: Emission[] = [newEmission(), newEmission()];
  const per: Emission[][] = [];
  for (let i = 0; i < n; i++) {
    const k = m.process(i * (opts.gapNs ?? 1000), opts.bytes ?? 1000, out);
    per.push(out.slice(0, k).map((e) => ({ ...e })));
  }
  return { m, per };
}

/** Two-sided binomial bounds at z standard deviations. */
function binomBounds(n: number, p: number, z: number): [number, number] {
  const sd = Math.sqrt(n * p * (1 - p));
  return [n * p - z * sd, n * p + z * sd];
}

describe('PRNG', () => {
  it('xoshiro128** matches the reference implementation', () => {
    const r = new Xoshiro128(1, 2, 3, 4);
    // reference C (Blackman & Vigna) output for state {1, 2, 3, 4}
    expect([0, 1, 2, 3, 4, 5].map(() => r.nextU32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('a seed reproduces the same sequence; seeds and streams differ', () => {
    const a = Xoshiro128.fromSeed(42);
    const b = Xoshiro128.fromSeed(42);
    const sa = Array.from({ length: 1000 }, () => a.nextU32());
    const sb = Array.from({ length: 1000 }, () => b.nextU32());
    expect(sa).toEqual(sb);
    const c = Xoshiro128.fromSeed(43);
    const d = Xoshiro128.fromSeed(42, 1);
    expect(Array.from({ length: 8 }, () => c.nextU32())).not.toEqual(sa.slice(0, 8));
    expect(Array.from({ length: 8 }, () => d.nextU32())).not.toEqual(sa.slice(0, 8));
  });

  it('uniform floats are in [0, 1) with mean 1/2 and variance 1/12', () => {
    const r = Xoshiro128.fromSeed(1);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      if (!(u >= 0 && u < 1)) outside++;
      s += u;
      s2 += u * u;
    }
    expect(outside).toBe(0);
    expect(s / n).toBeCloseTo(0.5, 2);
    expect(s2 / n - (s / n) ** 2).toBeCloseTo(1 / 12, 3);
  });

  it("correlated uniform is netem's (1-rho)*U + rho*last", () => {
    const ref = Xoshiro128.fromSeed(9);
    const cu = new CorrelatedUniform(0.25, Xoshiro128.fromSeed(9));
    let last = ref.next(); // the constructor seeds `last` from the stream
    for (let i = 0; i < 100; i++) {
      const expected = 0.75 * ref.next() + 0.25 * last;
      last = expected;
      expect(cu.next()).toBe(expected);
    }
    // rho = 0 is the plain stream
    const p = Xoshiro128.fromSeed(3);
    const c0 = new CorrelatedUniform(0, Xoshiro128.fromSeed(3));
    for (let i = 0; i < 10; i++) expect(c0.next()).toBe(p.next());
  });
});

describe('loss', () => {
  it('random loss: seeded long run inside the 4-sigma binomial band, exactly reproducible', () => {
    const n = 1_000_000;
    const run = () => feed({ loss: 0.01 }, n, { seed: 42 }).m.counters.dropsLoss;
    const drops = run();
    const [lo, hi] = binomBounds(n, 0.01, 4);
    expect(drops).toBeGreaterThan(lo);
    expect(drops).toBeLessThan(hi);
    expect(run()).toBe(drops);
    expect(feed({ loss: 0.05 }, 200_000, { seed: 5 }).m.counters.dropsLoss / 200_000).toBeCloseTo(0.05, 2);
  });

  it('loss 0 and 1 are exact', () => {
    expect(feed({ loss: 0 }, 1000).m.counters.dropsLoss).toBe(0);
    expect(feed({ loss: 1 }, 1000).m.counters.dropsLoss).toBe(1000);
  });

  it('correlated loss clusters losses (and, as in netem, loses less than configured)', () => {
    const n = 400_000;
    const run = (rho: number) => {
      const { per } = feed({ loss: 0.1, lossCorrelation: rho }, n, { seed: 11 });
      let lost = 0;
      let lostAfterLost = 0;
      let prev = false;
      for (const p of per) {
        const l = p.length === 0;
        if (l) lost++;
        if (l && prev) lostAfterLost++;
        prev = l;
      }
      return { rate: lost / n, clustering: lostAfterLost / lost / (lost / n) };
    };
    const plain = run(0);
    const cor = run(0.5);
    expect(plain.rate).toBeCloseTo(0.1, 2);
    expect(plain.clustering).toBeCloseTo(1, 1); // P(loss | loss before) = P(loss)
    expect(cor.clustering).toBeGreaterThan(2);
    // netem's correlated uniform narrows around 0.5: P(v < 0.1) is well below 0.1
    expect(cor.rate).toBeLessThan(0.06);
  });

  it('Gilbert-Elliott: loss rate p/(p+r) and mean burst length 1/r', () => {
    const n = 1_000_000;
    const ge = { p: 0.01, r: 0.25, lossBad: 1, lossGood: 0 };
    const { per, m } = feed({ gemodel: ge }, n, { seed: 2024 });
    let bursts = 0;
    let prev = false;
    for (const p of per) {
      const l = p.length === 0;
      if (l && !prev) bursts++;
      prev = l;
    }
    const lost = m.counters.dropsLoss;
    // stationary loss p/(p+r) = 0.0385; the count of loss runs is ~ n * pi_good * p = 9615
    expect(lost / n).toBeGreaterThan(0.0385 - 0.002);
    expect(lost / n).toBeLessThan(0.0385 + 0.002);
    const meanBurst = lost / bursts;
    // geometric bursts: sd 3.46, standard error 3.46/sqrt(9615) = 0.035
    expect(meanBurst).toBeGreaterThan(4 - 0.15);
    expect(meanBurst).toBeLessThan(4 + 0.15);
  });

  it('Gilbert-Elliott with partial loss in both states', () => {
    const n = 500_000;
    const { m } = feed({ gemodel: { p: 0.05, r: 0.2, lossBad: 0.5, lossGood: 0.01 } }, n, { seed: 3 });
    // pi_bad = 0.05/0.25 = 0.2 -> loss = 0.2*0.5 + 0.8*0.01 = 0.108
    expect(m.counters.dropsLoss / n).toBeCloseTo(0.108, 2);
  });
});

describe('bottleneck queue', () => {
  it('departure times and tail drops for a hand-computed sequence', () => {
    // 8 Mbit/s = 1 byte per us: a 1000-byte packet takes exactly 1 ms
    const m = new LinkModel({ rateBps: 8e6, bufferBytes: 2500 }, 1);
    const out = [newEmission(), newEmission()];
    const step = (t: number, bytes = 1000) => (m.process(t * MS, bytes, out) === 1 ? out[0]!.departNs / MS : 'drop');
    // five back-to-back packets at t = 0: the first goes straight to the wire, two wait (2000 bytes
    // waiting), the fourth would make 3000 > 2500 waiting bytes
    expect([step(0), step(0), step(0), step(0), step(0)]).toEqual([1, 2, 3, 'drop', 'drop']);
    expect(m.backlogAt(0)).toBe(2000);
    expect(m.counters.maxBacklogBytes).toBe(2000);
    // at 1.5 ms packet 2 is on the wire, packet 3 waits (1000): a 1500-byte packet fits (2500)
    expect(step(1.5, 1500)).toBe(4.5);
    expect(m.backlogAt(1.5 * MS)).toBe(2500);
    // and now even a 1-byte packet does not
    expect(step(1.6, 1)).toBe('drop');
    // at 3.2 ms only the 1500-byte packet waits (starts at 3 ms: already on the wire) -> empty
    expect(m.backlogAt(3.2 * MS)).toBe(0);
    expect(step(3.2, 500)).toBe(5);
    // idle link: departure = arrival + serialisation
    expect(step(10, 250)).toBe(10.25);
    expect(m.counters.dropsQueue).toBe(3);
    const q = m.queueDelay.summary();
    expect(q.count).toBe(6);
    expect(q.max).toBeCloseTo(3, 9); // the third packet: 3 ms sojourn
  });

  it('a packet bigger than the buffer is still accepted on an idle link', () => {
    const m = new LinkModel({ rateBps: 8e6, bufferBytes: 0 }, 1);
    const out = [newEmission(), newEmission()];
    expect(m.process(0, 1500, out)).toBe(1);
    expect(m.process(0, 1500, out)).toBe(0); // link busy, no room to wait
    expect(m.counters.dropsQueue).toBe(1);
  });

  it('delay is added after the bottleneck', () => {
    const m = new LinkModel({ rateBps: 8e6, bufferBytes: 10_000, delayMs: 20 }, 1);
    const out = [newEmission(), newEmission()];
    m.process(0, 1000, out);
    expect(out[0]!.releaseNs / MS).toBe(21);
    m.process(0, 1000, out);
    expect(out[0]!.releaseNs / MS).toBe(22);
  });

  it('long-run throughput equals the configured rate', () => {
    // offered 2x the rate: departures are spaced exactly by the serialisation time
    const { per } = feed({ rateBps: 10e6, bufferBytes: 15_000 }, 10_000, { bytes: 1250, gapNs: 500_000 });
    const departs = per.filter((p) => p.length).map((p) => p[0]!.departNs);
    for (let i = 1; i < departs.length; i++) expect(departs[i]! - departs[i - 1]!).toBeCloseTo(1e6, 3);
  });
});

describe('reorder', () => {
  it('gap semantics: with gap g, g-1 packets are delayed, then each goes early with probability P', () => {
    const { per } = feed({ delayMs: 10, reorder: 1, reorderGap: 3 }, 9);
    expect(per.map((p) => (p[0]!.reordered ? 'I' : 'D')).join('')).toBe('DDIDDIDDI');
    expect(per[2]![0]!.releaseNs).toBe(per[2]![0]!.departNs); // immediate
    expect(per[0]![0]!.releaseNs - per[0]![0]!.departNs).toBe(10 * MS);
  });

  it('gap defaults to 1: every packet is early with probability P', () => {
    const n = 100_000;
    const { m } = feed({ delayMs: 10, reorder: 0.25 }, n, { seed: 8 });
    const [lo, hi] = binomBounds(n, 0.25, 4);
    expect(m.counters.reorders).toBeGreaterThan(lo);
    expect(m.counters.reorders).toBeLessThan(hi);
    // an early packet overtakes the delayed ones still in flight
    expect(m.counters.outOfOrder).toBeGreaterThan(0);
  });

  it('gap 5, P 0.5: reordered packets are at least 5 apart', () => {
    const { per } = feed({ delayMs: 10, reorder: 0.5, reorderGap: 5 }, 10_000, { seed: 4 });
    let last = -Infinity;
    let count = 0;
    per.forEach((p, i) => {
      if (p[0]!.reordered) {
        expect(i - last).toBeGreaterThanOrEqual(5);
        last = i;
        count++;
      }
    });
    // expected spacing 4 + 1/0.5 = 6 -> ~1667 of 10 000
    expect(count).toBeGreaterThan(1500);
    expect(count).toBeLessThan(1850);
  });
});

describe('duplicate and corrupt', () => {
  it('duplicate 100 % doubles every packet; the copy is marked', () => {
    const { per, m } = feed({ duplicate: 1 }, 100);
    expect(per.every((p) => p.length === 2)).toBe(true);
    expect(per.every((p) => p.filter((e) => e.duplicate).length === 1)).toBe(true);
    expect(m.counters.duplicates).toBe(100);
  });

  it('duplicate rate within 4 sigma', () => {
    const n = 200_000;
    const { m } = feed({ duplicate: 0.05 }, n, { seed: 12 });
    const [lo, hi] = binomBounds(n, 0.05, 4);
    expect(m.counters.duplicates).toBeGreaterThan(lo);
    expect(m.counters.duplicates).toBeLessThan(hi);
  });

  it('netem: a duplicate that meets a loss leaves exactly one copy', () => {
    const { per, m } = feed({ duplicate: 1, loss: 1 }, 50);
    // count = 1 + 1 (dup) - 1 (loss) = 1: the packet goes through once, nothing is counted
    expect(per.every((p) => p.length === 1 && !p[0]!.duplicate)).toBe(true);
    expect(m.counters.dropsLoss).toBe(0);
    expect(m.counters.duplicates).toBe(0);
  });

  it('netem: the copy makes its own pass and can be lost there', () => {
    const n = 200_000;
    const { per, m } = feed({ duplicate: 0.5, loss: 0.2 }, n, { seed: 21 });
    const copies = per.reduce((a, p) => a + p.filter((e) => e.duplicate).length, 0);
    // P(copy made) = 0.5 * 0.8 = 0.4, P(copy survives its own loss draw) = 0.8 -> 0.32 per packet
    expect(m.counters.duplicates / n).toBeCloseTo(0.4, 2);
    expect(copies / n).toBeCloseTo(0.32, 2);
    // drops: originals with no dup drawn and lost (0.5 * 0.2) + lost copies (0.4 * 0.2) = 0.18
    expect(m.counters.dropsLoss / n).toBeCloseTo(0.18, 2);
  });

  it('corrupt flips exactly one bit of the inner packet', () => {
    const { per, m } = feed({ corrupt: 1 }, 500, { bytes: 200 });
    expect(m.counters.corruptions).toBe(500);
    const bytesHit = new Set<number>();
    for (const [e] of per) {
      const orig = new Uint8Array(8 + 200).map((_, i) => (i * 37) & 0xff);
      const copy = orig.slice();
      applyCorruption(copy, 8, e!);
      let bits = 0;
      for (let i = 0; i < copy.length; i++) {
        let x = copy[i]! ^ orig[i]!;
        if (x && i < 8) throw new Error('VXLAN header touched');
        while (x) {
          bits += x & 1;
          x >>= 1;
        }
      }
      expect(bits).toBe(1);
      bytesHit.add(e!.corruptByte);
    }
    // positions spread over the whole inner packet
    expect(Math.min(...bytesHit)).toBeLessThan(20);
    expect(Math.max(...bytesHit)).toBeGreaterThan(180);
  });

  it('corrupt rate within 4 sigma', () => {
    const n = 100_000;
    const { m } = feed({ corrupt: 0.02 }, n, { seed: 6 });
    const [lo, hi] = binomBounds(n, 0.02, 4);
    expect(m.counters.corruptions).toBeGreaterThan(lo);
    expect(m.counters.corruptions).toBeLessThan(hi);
  });
});

describe('jitter distributions', () => {
  /** mean and sd of the deviate by numerical integration of the quantile function */
  function moments(dist: 'uniform' | 'normal' | 'pareto' | 'paretonormal') {
    const k = 2_000_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < k; i++) {
      const x = deviate(dist, (i + 0.5) / k);
      s += x;
      s2 += x * x;
    }
    return { mean: s / k, sd: Math.sqrt(s2 / k - (s / k) ** 2) };
  }

  it('deviates have the documented shapes', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232, 5);
    expect(deviate('uniform', 0)).toBe(-1);
    expect(deviate('pareto', 0)).toBeCloseTo(-2 / 3, 12); // Pareto minimum 1, minus mean 1.5, * 4/3
    expect(deviate('pareto', 1 - 1e-12)).toBe(DEVIATE_MAX);
    expect(deviate('normal', 1e-12)).toBe(DEVIATE_MIN);
    const m = moments('uniform');
    expect(m.mean).toBeCloseTo(0, 6);
    expect(m.sd).toBeCloseTo(1 / Math.sqrt(3), 4);
    const n = moments('normal');
    expect(n.mean).toBeCloseTo(0, 4);
    expect(n.sd).toBeCloseTo(1, 2);
  });

  it('seeded delays have the configured mean and sd', () => {
    const n = 200_000;
    for (const dist of ['uniform', 'normal', 'pareto', 'paretonormal'] as const) {
      const { per } = feed({ delayMs: 100, jitterMs: 10, distribution: dist }, n, { seed: 77 });
      let s = 0;
      let s2 = 0;
      for (const [e] of per) {
        const d = (e!.releaseNs - e!.departNs) / MS;
        s += d;
        s2 += d * d;
      }
      const mean = s / n;
      const sd = Math.sqrt(s2 / n - mean * mean);
      const ref = moments(dist);
      // mean within 3 standard errors, sd within 1.5 %
      expect(Math.abs(mean - (100 + 10 * ref.mean))).toBeLessThan((3 * 10 * ref.sd) / Math.sqrt(n));
      expect(sd / (10 * ref.sd)).toBeGreaterThan(0.985);
      expect(sd / (10 * ref.sd)).toBeLessThan(1.015);
      if (dist === 'uniform') expect(sd).toBeCloseTo(10 / Math.sqrt(3), 1);
      if (dist === 'normal') expect(sd).toBeCloseTo(10, 1);
    }
  });

  it('jitter correlation makes consecutive delays similar', () => {
    const lag1 = (rho: number) => {
      const { per } = feed({ delayMs: 50, jitterMs: 10, jitterCorrelation: rho }, 50_000, { seed: 1 });
      const d = per.map(([e]) => e!.releaseNs - e!.departNs);
      const mean = d.reduce((a, b) => a + b, 0) / d.length;
      let num = 0;
      let den = 0;
      for (let i = 0; i < d.length; i++) {
        den += (d[i]! - mean) ** 2;
        if (i > 0) num += (d[i]! - mean) * (d[i - 1]! - mean);
      }
      return num / den;
    };
    expect(Math.abs(lag1(0))).toBeLessThan(0.02);
    expect(lag1(0.75)).toBeGreaterThan(0.7);
  });

  it('jitter releases packets out of order (as netem does); delay never goes negative', () => {
    const { per, m } = feed({ delayMs: 1, jitterMs: 5 }, 10_000, { gapNs: 100_000 });
    expect(m.counters.outOfOrder).toBeGreaterThan(1000);
    for (const [e] of per) expect(e!.releaseNs).toBeGreaterThanOrEqual(e!.departNs);
  });

  it('the same seed reproduces the same release times; another seed does not', () => {
    const imp: LinkImpairment = { delayMs: 20, jitterMs: 5, distribution: 'paretonormal', loss: 0.02, duplicate: 0.01, reorder: 0.05 };
    const a = feed(imp, 5000, { seed: 99 }).per.map((p) => p.map((e) => e.releaseNs));
    const b = feed(imp, 5000, { seed: 99 }).per.map((p) => p.map((e) => e.releaseNs));
    const c = feed(imp, 5000, { seed: 100 }).per.map((p) => p.map((e) => e.releaseNs));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
});
