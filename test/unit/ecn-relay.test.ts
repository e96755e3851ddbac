/** The relay's ECN pieces: CE marking of inner IPv4/IPv6 packets, RED's average and selection, the model's marks. */
import { describe, expect, it } from 'vitest';
import { ecnCodepoint, markCe } from '../../src/impairment/userspace/ecn.js';
import { LinkModel, newEmission } from '../../src/impairment/userspace/model.js';
import { Xoshiro128 } from '../../src/impairment/userspace/prng.js';
import { validateImpairment } from '../../src/impairment/userspace/protocol.js';
import { RedQueue } from '../../src/impairment/userspace/red-queue.js';
import type { Aqm } from '../../src/scenario/links.js';

/** the IPv4 header checksum computed from scratch (RFC 791) */
function fullChecksum(h: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 20; i += 2) if (i !== 10) sum += (h[i]! << 8) | h[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An Ethernet frame with an IPv4/TCP header (TOS given), checksum filled in; `vlan` adds an 802.1Q tag. */
function v4Frame(tos: number, vlan = false): Uint8Array {
  const eth = vlan ? [...new Array(12).fill(2), 0x81, 0x00, 0x00, 0x05, 0x08, 0x00] : [...new Array(12).fill(2), 0x08, 0x00];
  const ip = [0x45, tos, 0x05, 0xdc, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0, 0, 10, 0, 0, 1, 10, 0, 1, 2];
  const f = new Uint8Array([...eth, ...ip, ...new Array(40).fill(0)]);
  const o = eth.length;
  const c = fullChecksum(f.subarray(o, o + 20));
  f[o + 10] = c >> 8;
  f[o + 11] = c & 0xff;
  return f;
}

describe('CE marking of the inner packet', () => {
  it('IPv4 ECT(0) and ECT(1) become CE with the checksum patched as a full recomputation gives it', () => {
    for (const tos of [0x02, 0x01, 0xba, 0x29, 0xfe]) {
      for (const vlan of [false, true]) {
        const f = v4Frame(tos, vlan);
        const o = vlan ? 18 : 14;
        expect(ecnCodepoint(f, 0)).toBe(tos & 3);
        expect(markCe(f, 0)).toBe(true);
        expect(f[o + 1]).toBe(tos | 3);
        expect(ecnCodepoint(f, 0)).toBe(3);
        expect(((f[o + 10]! << 8) | f[o + 11]!).toString(16)).toBe(fullChecksum(f.subarray(o, o + 20)).toString(16));
      }
    }
  });
  it('Not-ECT is left alone (false), CE stays CE (true), non-IP is -1', () => {
    const f = v4Frame(0xb8);
    const copy = f.slice();
    expect(markCe(f, 0)).toBe(false);
    expect(f).toEqual(copy);
    const ce = v4Frame(0x03);
    expect(markCe(ce, 0)).toBe(true);
    expect(ce).toEqual(v4Frame(0x03));
    const arp = new Uint8Array(60);
    arp[12] = 0x08;
    arp[13] = 0x06;
    expect(ecnCodepoint(arp, 0)).toBe(-1);
    expect(markCe(arp, 0)).toBe(false);
    // truncated: the IPv4 header does not fit before `end`
    expect(ecnCodepoint(v4Frame(0x02), 0, 30)).toBe(-1);
  });
  it('IPv6: the ECN bits of the traffic class (byte 1, bits 4-5)', () => {
    const f = new Uint8Array(14 + 40 + 8);
    f[12] = 0x86;
    f[13] = 0xdd;
    f[14] = 0x6b; // version 6, traffic class 0xb_
    f[15] = 0xa7; // traffic class _a: ECN 10 = ECT(0); flow label 7...
    expect(ecnCodepoint(f, 0)).toBe(2);
    expect(markCe(f, 0)).toBe(true);
    expect([f[14], f[15]]).toEqual([0x6b, 0xb7]);
    f[15] = 0x07; // Not-ECT
    expect(markCe(f, 0)).toBe(false);
  });
});

const aqm: Aqm = { kind: 'red', ecn: true, minBytes: 16667, maxBytes: 50000, maxP: 0.1 };
const NS_PER_BYTE = 8e9 / 20e6;

describe('RED (red-queue.ts)', () => {
  it('the average is the EWMA with W = 1/16 (wlog 4 for these thresholds) and decays over idle time', () => {
    const r = new RedQueue(aqm, NS_PER_BYTE);
    const prng = Xoshiro128.fromSeed(1);
    r.select(0, 16000, null, prng);
    expect(r.average).toBe(1000);
    r.select(1, 32000, null, prng);
    expect(r.average).toBe(1000 + 31000 / 16);
    // idle for 10 average packets at 20 Mbit/s (400 ns/byte * 1000 bytes each): avg * (15/16)^10
    const before = r.average;
    r.select(1e6 + 4e6, 0, 1e6, prng);
    expect(r.average).toBeCloseTo(before * (15 / 16) ** 10, 9);
  });
  it('below min nothing is selected, at or above max everything is', () => {
    const r = new RedQueue(aqm, NS_PER_BYTE);
    const prng = Xoshiro128.fromSeed(1);
    let sel = 0;
    for (let i = 0; i < 1000; i++) sel += r.select(i, 16000, null, prng) ? 1 : 0;
    expect(sel).toBe(0);
    for (let i = 0; i < 1000; i++) r.select(i, 60000, null, prng);
    expect(r.average).toBeGreaterThan(50000);
    for (let i = 0; i < 100; i++) sel += r.select(i, 60000, null, prng) ? 1 : 0;
    expect(sel).toBe(100);
  });
  it('between the thresholds: one selection per ceil(R / p_b) packets, mean (1/p_b + 1)/2', () => {
    // a steady average at min + (max - min)/2: p_b = 0.05, gaps ceil(20 R) with R uniform: mean 10.5,
    // variance (20^2 - 1)/12 = 33.25; selections in n = 1e5 packets: n/10.5 = 9524, sd sqrt(n var / mean^3) = 54
    const r = new RedQueue(aqm, NS_PER_BYTE);
    const prng = Xoshiro128.fromSeed(3);
    const mid = (aqm.minBytes + aqm.maxBytes) / 2;
    for (let i = 0; i < 2000; i++) r.select(i, mid, null, prng);
    expect(Math.abs(r.average - mid)).toBeLessThan(1e-6);
    let sel = 0;
    for (let i = 0; i < 100000; i++) sel += r.select(i, mid, null, prng) ? 1 : 0;
    expect(Math.abs(sel - 100000 / 10.5)).toBeLessThan(5 * 54);
  });
});

describe('the link model with aqm', () => {
  // 20 Mbit/s, 100 KB buffer, 1514-byte frames arriving at twice the rate for 0.5 s
  const run = (a: Aqm, ect: boolean, seed = 5) => {
    const m = new LinkModel({ rateBps: 20e6, bufferBytes: 100000, aqm: a }, seed);
    const out = [newEmission(), newEmission()];
    let ceOut = 0;
    const dropped: number[] = [];
    const gap = (1514 * NS_PER_BYTE) / 2;
    for (let t = 0, i = 0; t < 0.5e9; t += gap, i++) {
      const n = m.process(t, 1514, out, ect);
      if (n === 1 && out[0]!.ce) ceOut++;
      if (n === 0) dropped.push(i);
    }
    return { ...m.counters, ceOut, dropped };
  };
  it('ECN-capable packets are marked, never dropped by RED; the marks are on the emissions', () => {
    const c = run(aqm, true);
    expect(c.ceMarks).toBeGreaterThan(0);
    expect(c.dropsAqm).toBe(0);
    expect(c.ceOut).toBe(c.ceMarks);
  });
  it('Not-ECT packets, or ecn: false, are dropped instead', () => {
    const n = run(aqm, false);
    expect(n.ceMarks).toBe(0);
    expect(n.dropsAqm).toBeGreaterThan(0);
    const d = run({ ...aqm, ecn: false }, true);
    expect(d.ceMarks).toBe(0);
    expect(d.dropsAqm).toBe(n.dropsAqm);
  });
  it('the same seed gives the same decisions, another seed other ones', () => {
    expect(run(aqm, false, 9)).toEqual(run(aqm, false, 9));
    // the first (probabilistic) RED drops fall elsewhere under another seed
    expect(run(aqm, false, 9).dropped.slice(0, 5)).not.toEqual(run(aqm, false, 10).dropped.slice(0, 5));
  });
});

describe('relay config: aqm', () => {
  it('a resolved aqm passes; a malformed one names its field', () => {
    expect(validateImpairment({ rateBps: 1e7, aqm }, 'forward')).toEqual({ rateBps: 1e7, aqm });
    expect(() => validateImpairment({ aqm: { ...aqm, kind: 'codel' } }, 'forward')).toThrow(/^forward\.aqm must be \{kind: "red"/);
    expect(() => validateImpairment({ aqm: { ...aqm, ecn: 'yes' } }, 'forward')).toThrow('forward.aqm.ecn must be a boolean');
    expect(() => validateImpairment({ aqm: { ...aqm, minBytes: 60000 } }, 'reverse')).toThrow(
      'reverse.aqm: minBytes must be below maxBytes',
    );
    expect(() => validateImpairment({ aqm: { ...aqm, maxP: 0 } }, 'forward')).toThrow('forward.aqm.maxP must be a number in (0, 1]');
  });
});
