import { describe, expect, it } from 'vitest';
import type { LinkImpairment } from '../../src/impairment/types.js';
import { type AppliedChange, ModelSchedule } from '../../src/impairment/userspace/model-schedule.js';
import { LinkModel, newEmission } from '../../src/impairment/userspace/model.js';

const MS = 1e6;
// 8 Mbit/s = 1000 ns per byte; at 2 s... scaled down: at 10 ms the rate halves (2000 ns per byte)
const imp: LinkImpairment = {
  delayMs: 1,
  rateBps: 8e6,
  bufferBytes: 1e6,
  schedule: {
    steps: [
      { atMs: 10, set: { rateBps: 4e6 } },
      { atMs: 20, outageMs: 5, set: {} },
      { atMs: 30, set: { delayMs: 5 } },
    ],
    repeatMs: 40,
  },
};

function feed(m: LinkModel, tNs: number, bytes: number): { depart: number; release: number } | null {
  const out = [newEmission(), newEmission()];
  const n = m.process(tNs, bytes, out);
  return n === 0 ? null : { depart: out[0]!.departNs / MS, release: out[0]!.releaseNs / MS };
}

describe('schedule in the userspace model (pure)', () => {
  it('a rate change mid-packet: served at the old rate up to the change, the new one after', () => {
    const log: AppliedChange[] = [];
    const m = new LinkModel(imp, 1);
    m.timeline = new ModelSchedule(imp, 0, log);
    // before the change: 1000 B at 1000 ns/B = 1 ms
    expect(feed(m, 2 * MS, 1000)).toEqual({ depart: 3, release: 4 });
    // starts at 9.5 ms: 500 B by 10 ms, the other 500 B at 2000 ns/B -> 11 ms
    expect(feed(m, 9.5 * MS, 1000)).toEqual({ depart: 11, release: 12 });
    // queued behind it: starts at 11 ms, 2 ms of service
    expect(feed(m, 10.5 * MS, 1000)).toEqual({ depart: 13, release: 14 });
    // the outage [20, 25) ms: service pauses (250 B done by 20 ms at 2000 ns/B, 750 B from 25 ms) ...
    expect(feed(m, 19.5 * MS, 1000)).toEqual({ depart: 26.5, release: 27.5 });
    // ... and every arrival is dropped; from 25 ms packets pass again (behind the held one)
    expect(feed(m, 20 * MS, 100)).toBeNull();
    expect(feed(m, 24.999 * MS, 100)).toBeNull();
    expect(feed(m, 25 * MS, 1000)).toEqual({ depart: 28.5, release: 29.5 });
    expect(m.counters.dropsOutage).toBe(2);
    // the delay grows at 30 ms for packets arriving from then on
    expect(feed(m, 30 * MS, 1000)).toEqual({ depart: 32, release: 37 });
    // repeat: at 40 ms the link's own values return (8 Mbit/s, 1 ms), at 50 ms the rate halves again
    expect(feed(m, 41 * MS, 1000)).toEqual({ depart: 42, release: 43 });
    expect(feed(m, 49.5 * MS, 1000)).toEqual({ depart: 51, release: 52 });
    expect(log).toEqual([
      { tMs: 10, field: 'rateBps', value: 4e6 },
      { tMs: 20, field: 'outage', value: 1 },
      { tMs: 25, field: 'outage', value: 0 },
      { tMs: 30, field: 'delayMs', value: 5 },
      { tMs: 40, field: 'delayMs', value: 1 },
      { tMs: 40, field: 'rateBps', value: 8e6 },
    ]);
    // logged once applied: the 50 ms change is in effect for departures but no packet has arrived after it yet
    feed(m, 55 * MS, 100);
    expect(log.slice(-1)).toEqual([{ tMs: 50, field: 'rateBps', value: 4e6 }]);
  });

  it('a rate change while the link is idle, and a backlog served across a ramp', () => {
    const r: LinkImpairment = { rateBps: 8e6, bufferBytes: 1e6, schedule: { steps: [{ atMs: 10, overMs: 20, set: { rateBps: 4e6 } }] } };
    const m = new LinkModel(r, 1);
    m.timeline = new ModelSchedule(r, 100 * MS); // armed at t0 = 100 ms
    // the ramp from 110 ms over 20 ms in 10 ms steps: 6 Mbit/s at 120 ms, 4 Mbit/s at 130 ms
    expect(feed(m, 115 * MS, 1000)!.depart).toBeCloseTo(116, 9);
    // 3000 B from 119 ms: 1000 B by 120 ms at 8 Mbit/s, the other 2000 B at 6 Mbit/s (1333.3 ns/B) -> 122.6667 ms
    expect(feed(m, 119 * MS, 3000)!.depart).toBeCloseTo(122.666667, 5);
    // idle until 135 ms: 4 Mbit/s = 2000 ns/B
    expect(feed(m, 135 * MS, 500)!.depart).toBeCloseTo(136, 9);
    // disarmed: the configured rate again
    m.restoreBase();
    expect(feed(m, 140 * MS, 500)!.depart).toBeCloseTo(140.5, 9);
  });
});

describe('the relay protocol checks schedules and traces', () => {
  it('accepts the loader output, refuses malformed steps and traces with the field named', async () => {
    const { validateImpairment } = await import('../../src/impairment/userspace/protocol.js');
    expect(validateImpairment(imp, 'forward')).toBe(imp);
    expect(() => validateImpairment({ schedule: { steps: [{ atMs: 1, set: { rateBps: 0 } }] } }, 'forward')).toThrow(
      'forward.schedule.steps.0.set.rateBps must be positive',
    );
    expect(() => validateImpairment({ schedule: { steps: [{ atMs: 1, set: { mtu: 9000 } }] } }, 'forward')).toThrow(
      'forward.schedule.steps.0.set.mtu: unknown field',
    );
    expect(() => validateImpairment({ schedule: { steps: [{ atMs: -1, set: {} }] } }, 'forward')).toThrow(
      'forward.schedule.steps.0.atMs must be a non-negative number',
    );
    expect(() => validateImpairment({ trace: { times: [0, 3, 2], periodMs: 2 } }, 'reverse')).toThrow(
      'reverse.trace.times must be non-decreasing whole ms',
    );
    expect(() => validateImpairment({ trace: { times: [0, 1, 2], periodMs: 5 } }, 'reverse')).toThrow(
      'reverse.trace.periodMs must be the last timestamp (> 0)',
    );
  });
});
