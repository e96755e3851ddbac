import { describe, expect, it } from 'vitest';
import { HIST_EDGES_MS, Histogram, bucketOf, summarise, HIST_BUCKETS } from '../../src/impairment/userspace/histogram.js';
import { parseProcNetUdp, procAddress } from '../../src/impairment/userspace/procnet.js';
import { parseRelayConfig, validateImpairment } from '../../src/impairment/userspace/protocol.js';

describe('histogram', () => {
  it('R20 log buckets from 1 us to 100 s with round edges', () => {
    expect(HIST_EDGES_MS[0]).toBe(0.001);
    expect(HIST_EDGES_MS[HIST_EDGES_MS.length - 1]).toBe(1e5);
    expect(HIST_EDGES_MS.length).toBe(161);
    for (const edge of [0.5, 1, 2, 10, 100]) expect(Array.from(HIST_EDGES_MS)).toContain(edge);
    for (let i = 1; i < HIST_EDGES_MS.length; i++) {
      const ratio = HIST_EDGES_MS[i]! / HIST_EDGES_MS[i - 1]!;
      expect(ratio).toBeGreaterThan(1.09);
      expect(ratio).toBeLessThan(1.15);
    }
  });

  it('values land in (previous edge, edge]', () => {
    expect(bucketOf(-3)).toBe(0);
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(0.001)).toBe(0);
    expect(bucketOf(0.0011)).toBe(1);
    const i = HIST_EDGES_MS.indexOf(0.5);
    expect(bucketOf(0.5)).toBe(i);
    expect(bucketOf(0.5000001)).toBe(i + 1);
    expect(bucketOf(0.4500001)).toBe(i);
    expect(bucketOf(1e9)).toBe(HIST_BUCKETS - 1);
  });

  it('quantiles are the upper edge of their bucket, capped at the exact max', () => {
    const h = new Histogram();
    for (let k = 0; k < 98; k++) h.record(0.1);
    h.record(0.47);
    h.record(3.3);
    const s = h.summary();
    expect(s.count).toBe(100);
    expect(s.p50).toBe(0.1);
    expect(s.p99).toBe(0.5); // 0.47 is in (0.45, 0.5]
    expect(s.p999).toBe(3.3); // bucket (3.15, 3.55] capped at max
    expect(s.max).toBe(3.3);
    expect(s.mean).toBeCloseTo((98 * 0.1 + 0.47 + 3.3) / 100, 12);
    expect(s.buckets).toEqual([
      [0.1, 98],
      [0.5, 1],
      [3.55, 1],
    ]);
    const empty = summarise(new Float64Array(HIST_BUCKETS), 0, 0, -Infinity);
    expect(empty).toMatchObject({ count: 0, p50: 0, p99: 0, max: 0, buckets: [] });
  });
});

describe('/proc/net/udp', () => {
  it('spells addresses like the kernel and reads rx_queue and drops', () => {
    expect(procAddress('198.19.0.2', 4789)).toBe('020013C6:12B5');
    const text = [
      '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
      ' 1021: 020013C6:12B5 00000000:0000 07 00000000:0004A380 00:00000000 00000000     0        0 52133 2 0000000000000000 17',
      ' 1022: 060013C6:12B5 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 52134 2 0000000000000000 0',
      ' 3000: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 100 2 0000000000000000 3',
    ].join('\n');
    const m = parseProcNetUdp(text, ['020013C6:12B5', '060013C6:12B5']);
    expect(m.get('020013C6:12B5')).toEqual({ txQueue: 0, rxQueue: 0x4a380, drops: 17 });
    expect(m.get('060013C6:12B5')).toEqual({ txQueue: 0, rxQueue: 0, drops: 0 });
    expect(m.size).toBe(2);
  });
});

describe('relay config', () => {
  const base = { a: { listen: '198.19.0.2', peer: '198.19.0.1' }, b: { listen: '198.19.0.6', peer: '198.19.0.5', port: 4790 } };

  it('fills defaults', () => {
    const c = parseRelayConfig(JSON.stringify(base));
    expect(c.a.port).toBe(4789);
    expect(c.b.port).toBe(4790);
    expect(c.forward).toEqual({});
    expect(c.seed).toBe(1);
    expect(c.maxPackets).toBe(32768);
    expect(c.realtime).toBe(10);
    expect(c.nice).toBe(-10);
    expect(parseRelayConfig(JSON.stringify({ ...base, realtime: null, nice: null })).realtime).toBeNull();
  });

  it('rejects bad documents with the field named', () => {
    expect(() => parseRelayConfig('{')).toThrow(/not JSON/);
    expect(() => parseRelayConfig(JSON.stringify({ ...base, a: { listen: 'x', peer: '1.2.3.4' } }))).toThrow(/a\.listen/);
    expect(() => parseRelayConfig(JSON.stringify({ ...base, forward: { loss: 2 } }))).toThrow(/forward\.loss/);
    expect(() => parseRelayConfig(JSON.stringify({ ...base, reverse: { delayMS: 2 } }))).toThrow(/reverse\.delayMS: unknown/);
    expect(() => parseRelayConfig(JSON.stringify({ ...base, seed: 1.5 }))).toThrow(/seed/);
    expect(() => validateImpairment({ loss: 0.1, gemodel: { p: 0.1, r: 0.2, lossBad: 1, lossGood: 0 } }, 'f')).toThrow(/exclusive/);
    expect(() => validateImpairment({ gemodel: { p: 0.1 } }, 'f')).toThrow(/gemodel\.r/);
    expect(() => validateImpairment({ distribution: 'gamma' }, 'f')).toThrow(/distribution/);
    expect(() => validateImpairment({ rateBps: 0 }, 'f')).toThrow(/rateBps/);
    expect(validateImpairment({ delayMs: 10, jitterMs: 1, distribution: 'pareto', reorderGap: 5, reorder: 0.1 }, 'f')).toMatchObject({
      reorderGap: 5,
    });
  });
});
