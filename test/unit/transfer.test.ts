/** The transfer tool's pure parts: framing, size draws, reductions, compete metrics (exact values). */
import { describe, expect, it } from 'vitest';
import { onOffSchedule, paretoSample } from '../../src/workload/cross.js';
import { armSeries, flowGoodputs, jainIndex, reduceCompete, type IperfRun } from '../../src/workload/compete.js';
import { decodeHeader, encodeRequest, HEADER_BYTES, RequestParser, type ClientResult } from '../../src/workload/transfer-protocol.js';
import { reduceFct, reducePageload, reduceRr, retransRatio, sampleSizes, summarise } from '../../src/workload/transfer.js';

describe('request framing', () => {
  it('encodes magic, request length and a 53-bit response length, zero padding after the header', () => {
    const b = encodeRequest(100, 45000);
    expect(b.length).toBe(100);
    expect(b.subarray(0, 16).toString('hex')).toBe('4e544231' + '00000064' + '00000000' + '0000afc8');
    expect(b.subarray(16).every((x) => x === 0)).toBe(true);
    const big = encodeRequest(16, 2 ** 40 + 5);
    expect(big.toString('hex')).toBe('4e544231' + '00000010' + '00000100' + '00000005');
    expect(decodeHeader(big)).toEqual({ requestBytes: 16, responseBytes: 2 ** 40 + 5 });
    expect(decodeHeader(encodeRequest(16, Number.MAX_SAFE_INTEGER)).responseBytes).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('rejects impossible sizes and bad headers', () => {
    expect(() => encodeRequest(15, 1)).toThrow(RangeError);
    expect(() => encodeRequest(100, -1)).toThrow(RangeError);
    expect(() => encodeRequest(100, 1.5)).toThrow(RangeError);
    const bad = encodeRequest(16, 1);
    bad.writeUInt32BE(0xdeadbeef, 0);
    expect(() => decodeHeader(bad)).toThrow('bad magic 0xdeadbeef');
    const short = encodeRequest(16, 1);
    short.writeUInt32BE(8, 4);
    expect(() => decodeHeader(short)).toThrow('bad request length 8');
    expect(() => new RequestParser().push(bad)).toThrow(/bad magic/);
  });

  it('a request completes only when its padding has arrived, however the stream is split', () => {
    const stream = Buffer.concat([encodeRequest(100, 45000), encodeRequest(16, 7), encodeRequest(40, 1)]);
    // byte by byte: each request completes at its last byte
    const p = new RequestParser();
    const at: [number, number][] = [];
    for (let i = 0; i < stream.length; i++) for (const r of p.push(stream.subarray(i, i + 1))) at.push([i, r.responseBytes]);
    expect(at).toEqual([
      [99, 45000],
      [115, 7],
      [155, 1],
    ]);
    expect(p.idle).toBe(true);
    // all at once, and split inside a header
    expect(new RequestParser().push(stream).map((r) => r.requestBytes)).toEqual([100, 16, 40]);
    const q = new RequestParser();
    expect(q.push(stream.subarray(0, 108))).toEqual([{ requestBytes: 100, responseBytes: 45000 }]);
    expect(q.idle).toBe(false);
    expect(q.push(stream.subarray(108))).toEqual([
      { requestBytes: 16, responseBytes: 7 },
      { requestBytes: 40, responseBytes: 1 },
    ]);
    expect(HEADER_BYTES).toBe(16);
  });
});

describe('size distribution (seeded)', () => {
  it('a single size is used for every transfer', () => {
    expect(sampleSizes([{ bytes: 45000, weight: 1 }], 4, 99)).toEqual([45000, 45000, 45000, 45000]);
  });

  it('weighted draws are exact for a seed: first entry whose cumulative weight exceeds u * total', () => {
    // mulberry32(1) * 4 = 2.508 0.011 2.110 3.924 3.874 1.124 2.451 2.883 1.703 3.979;
    // cumulative weights 1, 3, 3 (weight 0: never drawn), 4
    const sizes = [
      { bytes: 1, weight: 1 },
      { bytes: 2, weight: 2 },
      { bytes: 3, weight: 0 },
      { bytes: 4, weight: 1 },
    ];
    expect(sampleSizes(sizes, 10, 1)).toEqual([2, 1, 2, 4, 4, 2, 2, 2, 2, 4]);
    const d = [
      { bytes: 10000, weight: 0.8 },
      { bytes: 1000000, weight: 0.2 },
    ];
    expect(sampleSizes(d, 12, 42)).toEqual([10000, 10000, 1000000, 10000, 10000, 10000, 10000, 10000, 1000000, 10000, 10000, 1000000]);
    // same seed, same sizes (both arms of a pair); 10,000 draws land within 3 sd of 80 %
    expect(sampleSizes(d, 50, 5)).toEqual(sampleSizes(d, 50, 5));
    expect(sampleSizes(d, 10000, 7).filter((x) => x === 10000).length).toBe(8081);
  });

  it('rejects an empty list, zero total weight and bad entries', () => {
    expect(() => sampleSizes([], 1, 1)).toThrow('no sizes');
    expect(() =>
      sampleSizes(
        [
          { bytes: 1, weight: 0 },
          { bytes: 2, weight: 0 },
        ],
        1,
        1,
      ),
    ).toThrow('sum to 0');
    expect(() => sampleSizes([{ bytes: 0, weight: 1 }], 1, 1)).toThrow('bad size entry');
  });
});

describe('reductions', () => {
  it('p50 / p99 are R type-7 quantiles, mean, n', () => {
    expect(summarise([4, 100, 1, 3, 2])).toEqual({ p50: 3, p99: 96.16, mean: 22, n: 5 });
    expect(summarise([7])).toEqual({ p50: 7, p99: 7, mean: 7, n: 1 });
    expect(summarise([])).toEqual({ p50: null, p99: null, mean: null, n: 0 });
    expect(retransRatio({ outSegs: 200, retransSegs: 3 })).toBe(0.015);
    expect(retransRatio({ outSegs: 0, retransSegs: 0 })).toBeNull();
  });

  const fct: ClientResult = {
    mode: 'fct',
    clock: 'hrtime',
    transfers: [1, 2, 3, 4, 100].map((f, i) => ({
      bytes: 1000 * (i + 1),
      connectMs: 10 + i,
      ttfbMs: f / 2,
      fctMs: f,
      totalMs: f + 10 + i,
    })),
  };

  it('fct: fct_p50, fct_p99, ttfb_p50, retrans and per-transfer series', () => {
    const out = reduceFct(fct, { outSegs: 100, retransSegs: 2 });
    expect(out.metrics).toEqual({ fct_p50: 3, fct_p99: 96.16, ttfb_p50: 1.5, retrans: 0.02 });
    expect(out.series).toEqual({
      size: [1000, 2000, 3000, 4000, 5000],
      fct: [1, 2, 3, 4, 100],
      ttfb: [0.5, 1, 1.5, 2, 50],
      connect: [10, 11, 12, 13, 14],
    });
    expect(out.extra).toMatchObject({
      transfers: 5,
      bytes: 15000,
      fctMean: 22,
      connectP50: 12,
      totalP50: 15,
      outSegs: 100,
      retransSegs: 2,
    });
    expect(() => reduceFct({ mode: 'fct', clock: 'hrtime', error: 'ECONNREFUSED connect' })).toThrow('transfer client: ECONNREFUSED');
  });

  it('rr: rr_p50, rr_p99', () => {
    const r: ClientResult = {
      mode: 'rr',
      clock: 'hrtime',
      connectMs: 100,
      exchanges: [101, 102, 100, 150].map((l) => ({ latencyMs: l, ttfbMs: l - 1 })),
    };
    const out = reduceRr(r);
    expect(out.metrics).toEqual({ rr_p50: 101.5, rr_p99: 148.56, retrans: null });
    expect(out.series).toEqual({ rr: [101, 102, 100, 150] });
    expect(out.extra).toMatchObject({ exchanges: 4, connectMs: 100, ttfbP50: 100.5, rrMean: 113.25 });
  });

  it("pageload: plt is the mean over the trial's page loads", () => {
    const page = (plt: number) => ({ pltMs: plt, connectMs: [100, 101, 102], objects: [] });
    const out = reducePageload(
      { mode: 'pageload', clock: 'hrtime', pages: [page(200), page(230), page(215.5)] },
      { outSegs: 40, retransSegs: 0 },
    );
    expect(out.metrics).toEqual({ plt: 215.167, retrans: 0 });
    expect(out.series).toEqual({ plt: [200, 230, 215.5] });
    expect(out.extra).toMatchObject({ pages: 3, pltP50: 215.5, connectionsPerPage: 3, connectP50: 101 });
  });
});

describe('compete', () => {
  it('Jain index', () => {
    expect(jainIndex([5, 5, 5, 5])).toBe(1);
    expect(jainIndex([1, 0, 0, 0])).toBe(0.25);
    expect(jainIndex([10, 5])).toBe(0.9);
    expect(jainIndex([3, 16])).toBeCloseTo(361 / 530, 12);
    expect(jainIndex([])).toBeNull();
    expect(jainIndex([0, 0])).toBeNull();
  });

  it('share, Jain and control harm from per-flow goodputs', () => {
    expect(reduceCompete([3, 1], [12, 4], [8, 8])).toEqual({
      share_canary: 0.8,
      jain: 0.5882, // 20² / (4 · (9 + 1 + 144 + 16)) = 400 / 680
      control_harm: 0.75,
      goodput_control: 4,
      goodput_canary: 16,
      goodput_control_alone: 16,
    });
    expect(reduceCompete([10], [10], null)).toMatchObject({ share_canary: 0.5, jain: 1, control_harm: null, goodput_control_alone: null });
    // control doing better with the canary present is negative harm
    expect(reduceCompete([11], [9], [10]).control_harm).toBe(-0.1);
  });

  const run: IperfRun = {
    server_output_json: {
      intervals: [
        {
          streams: [
            { socket: 5, start: 0, end: 0.5, bytes: 1000 },
            { socket: 7, start: 0, end: 0.5, bytes: 0 },
          ],
        },
        {
          streams: [
            { socket: 5, start: 0.5, end: 1, bytes: 2000 },
            { socket: 7, start: 0.5, end: 1, bytes: 0 },
          ],
        },
        {
          streams: [
            { socket: 5, start: 1, end: 1.5, bytes: 3000 },
            { socket: 7, start: 1, end: 1.5, bytes: 1000 },
          ],
        },
      ],
    },
    end: { streams: [{ receiver: { bytes: 6000, bits_per_second: 32000 } }, { receiver: { bytes: 1000, bits_per_second: 5333 } }] },
  };

  it('per-flow goodput counts receiver intervals in proportion to their overlap with the window', () => {
    // window [0.25, 1.25]: socket 5 gets 500 + 2000 + 1500 bytes, socket 7 gets 500, over 1 s
    expect(flowGoodputs(run, 0.25, 1.25)).toEqual([0.032, 0.004]);
    expect(flowGoodputs(run, 0, 1.5)).toEqual([0.032, (1000 * 8) / 1.5 / 1e6]);
    // no server intervals: the receiver summary
    expect(flowGoodputs({ end: run.end }, 0, 1)).toEqual([0.032, 0.005333]);
    expect(armSeries(run, 2)).toEqual({ t: [2.5, 3, 3.5], mbit: [0.016, 0.032, 0.064] });
  });
});

describe('cross traffic schedule', () => {
  it('Pareto on periods: inverse CDF with scale m(α-1)/α', () => {
    expect(paretoSample(0, 500, 1.5)).toBeCloseTo(500 / 3, 12);
    expect(paretoSample(0.5, 500, 1.5)).toBeCloseTo((500 / 3) * 2 ** (2 / 3), 12);
    expect(paretoSample(0.75, 300, 2)).toBeCloseTo(300, 12); // xm 150, (1/4)^(1/2) = 1/2
  });

  it('seeded on/off periods per source, cut at the end of the schedule', () => {
    const c = { sources: 2, meanOnMs: 500, shape: 1.5, meanOffMs: 1000 };
    const s = onOffSchedule(c, 5000, 3);
    expect(s[0]).toEqual([
      { atMs: 1273.776, durMs: 171.106 },
      { atMs: 2054.041, durMs: 175.549 },
      { atMs: 3669.308, durMs: 258.13 },
      { atMs: 4594.39, durMs: 187.478 },
    ]);
    // the second source's last period is cut at 5 s
    expect(s[1]!.at(-1)).toEqual({ atMs: 3832.337, durMs: 1167.663 });
    expect(onOffSchedule(c, 5000, 3)).toEqual(s);
    for (const src of s) for (const p of src) expect(p.atMs + p.durMs).toBeLessThanOrEqual(5000.001);
    // long run: the mean on period is the configured mean (α = 2.5 has a finite variance)
    const long = onOffSchedule({ sources: 1, meanOnMs: 500, shape: 2.5, meanOffMs: 10 }, 1e7, 9)[0]!;
    expect(long.length).toBe(19585);
    expect(long.reduce((a, p) => a + p.durMs, 0) / long.length).toBeCloseTo(500.53, 1);
    expect(() => onOffSchedule({ ...c, shape: 1 }, 1000, 1)).toThrow('shape must be > 1');
  });
});
