import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TraceService } from '../../src/impairment/userspace/model-schedule.js';
import { InputError } from '../../src/scenario/errors.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { loadTrace, parseTrace, traceStats } from '../../src/scenario/trace.js';

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e.problems.map((p) => `${p.file}:${p.line} ${p.message}`).join('\n');
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('traces (mahimahi format)', () => {
  it('parses timestamps; malformed lines are located errors', () => {
    expect(parseTrace('0\n1\n1\n\n5\n', 't')).toEqual([0, 1, 1, 5]);
    expect(problem(() => parseTrace('0\n1\n1.5\n', 't'))).toBe(
      't:3 expected a whole number of milliseconds (one delivery opportunity per line), got "1.5"',
    );
    expect(problem(() => parseTrace('0\n7\n3\n', 't'))).toBe('t:3 timestamps must not decrease (3 after 7)');
    expect(problem(() => parseTrace('\n', 't'))).toBe('t:1 the trace is empty: one millisecond timestamp per delivery opportunity');
    expect(problem(() => parseTrace('0\n0\n', 't'))).toMatch(/the last timestamp .* must be above 0/);
  });

  it('the shipped traces match their manifest (mean, 1 s percentiles)', () => {
    const m = JSON.parse(readFileSync('traces/manifest.json', 'utf8')) as Record<string, Record<string, number>>;
    expect(Object.keys(m).sort()).toEqual(['handover-10s.down', 'lte-markov.down', 'lte-markov.up']);
    for (const [name, want] of Object.entries(m)) {
      const { info } = loadTrace(`traces/${name}`);
      for (const k of ['periodMs', 'opportunities', 'meanBps', 'p10Bps', 'p50Bps', 'p90Bps'])
        expect(info[k as 'meanBps'], `${name} ${k}`).toBe(want[k]);
    }
    // 1 opportunity per ms = 12 Mbit/s
    const one = Array.from({ length: 2001 }, (_, i) => i);
    expect(traceStats(one)).toEqual({ periodMs: 2000, opportunities: 2001, meanBps: 12006000, p10Bps: 12e6, p50Bps: 12e6, p90Bps: 12e6 });
  });

  it('a link trace resolves into the direction (rate = mean)', () => {
    const head = [
      'topology: dumbbell',
      'control: { cc: cubic }',
      'canary: { cc: cubic }',
      'workload: { type: bulk, duration: 5s }',
      'trials: { pairs: 6 }',
    ];
    const [s] = loadScenarioText(
      [...head, 'links: { bottleneck: { delay: 20ms, trace: { forward: traces/handover-10s.down } } }'].join('\n'),
      'x.yaml',
    );
    const f = s!.links.bottleneck!.forward;
    expect(f.rateBps).toBe(19_600_400);
    expect(f.trace).toMatchObject({ file: expect.stringMatching(/traces\/handover-10s.down$/), periodMs: 30000, meanBps: 19_600_400 });
    expect(s!.links.bottleneck!.reverse.trace).toBeUndefined();
  });
});

describe('trace replay in the model (pure)', () => {
  it('one 1500-byte opportunity per line; a packet spills into the next; idle capacity is lost; the trace repeats', () => {
    // opportunities at 0, 0, 2, 5 ms; period 5 ms; t0 = 1000 ns
    const t = new TraceService([0, 0, 2, 5], 5, 1000);
    const ms = (x: number) => 1000 + x * 1e6;
    expect(t.serve(1000, 1000)).toBe(ms(0)); // first opportunity, 500 B left in it
    expect(t.serve(1000, 1000)).toBe(ms(0)); // 500 B left + 500 B of the second one at 0 ms
    expect(t.serve(ms(0), 1500)).toBe(ms(2)); // 1000 B left at 0 ms, 500 B at 2 ms
    // idle from 2 ms to 6 ms: the opportunity at 5 ms is lost; the next cycle starts at 5 ms (0, 0, 2, 5 -> 5, 5, 7, 10)
    expect(t.serve(ms(6), 100)).toBe(ms(7));
    // 1400 B at 7, 1500 B at 10 (cycle 1's last), 100 B at 10 again (cycle 2's first: 0 + 2 x 5)
    expect(t.serve(ms(7), 3000)).toBe(ms(10));
  });
});
