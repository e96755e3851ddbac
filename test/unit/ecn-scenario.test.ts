import { problems } from '../helpers.js';
/** The `aqm` link key: defaults from the buffer, overrides per direction, located errors. */
import { describe, expect, it } from 'vitest';
import { loadScenarioText } from '../../src/scenario/load.js';

const base = ['topology: dumbbell', 'control: { cc: cubic }', 'canary: { cc: cubic }', 'workload: { type: bulk }'];
const load = (links: string) => loadScenarioText([...base, `links: { bottleneck: ${links} }`].join('\n'), 'x.yaml')[0]!;

describe('aqm (RED) scenario key', () => {
  it('{type: red, ecn: true} takes its thresholds from the buffer: max = buffer/2, min = max/3, 10 %', () => {
    // 20 Mbit/s, 40 ms RTT: 1 bdp = 100000 bytes
    const s = load('{ delay: 20ms, rate: 20mbit, aqm: { type: red, ecn: true } }');
    expect(s.links.bottleneck!.forward).toEqual({
      delayMs: 20,
      rateBps: 20e6,
      bufferBytes: 100000,
      aqm: { kind: 'red', ecn: true, minBytes: 16667, maxBytes: 50000, maxP: 0.1 },
    });
    expect(s.links.bottleneck!.reverse.aqm).toEqual({ kind: 'red', ecn: true, minBytes: 16667, maxBytes: 50000, maxP: 0.1 });
  });

  it('min/max take the buffer forms; ecn defaults to false (RED drops); forward overrides', () => {
    const s = load(
      '{ delay: 20ms, rate: 20mbit, buffer: 200p, aqm: { type: red, min: 10p, max: 0.5bdp, probability: 2% }, forward: { aqm: { type: red, ecn: true } } }',
    );
    expect(s.links.bottleneck!.reverse.aqm).toEqual({ kind: 'red', ecn: false, minBytes: 15140, maxBytes: 50000, maxP: 0.02 });
    expect(s.links.bottleneck!.forward.aqm).toEqual({ kind: 'red', ecn: true, minBytes: 50467, maxBytes: 151400, maxP: 0.1 });
  });

  it('only min given: max = 3 min (capped at the buffer)', () => {
    const s = load('{ rate: 20mbit, buffer: 100KB, aqm: { type: red, min: 20KB } }');
    expect(s.links.bottleneck!.forward.aqm).toEqual({ kind: 'red', ecn: false, minBytes: 20000, maxBytes: 60000, maxP: 0.1 });
  });

  it('errors are located: no rate, max above the buffer, min not below max, unknown type', () => {
    expect(problems(() => load('{ delay: 5ms, aqm: { type: red, ecn: true } }'))).toEqual([
      '5:41 links.bottleneck.aqm: aqm needs a rate (it manages the bottleneck queue)',
    ]);
    expect(problems(() => load('{ rate: 20mbit, buffer: 100KB, aqm: { type: red, max: 200KB } }'))).toEqual([
      '5:76 links.bottleneck.aqm.max: aqm max 200KB is above the queue limit 100KB (the buffer): give a smaller max or a larger buffer',
    ]);
    expect(problems(() => load('{ rate: 20mbit, buffer: 100KB, aqm: { type: red, min: 50KB, max: 40KB } }'))).toEqual([
      '5:76 links.bottleneck.aqm.min: aqm min (50KB) must be at least 1 byte and below max (40KB)',
    ]);
    expect(problems(() => load('{ rate: 20mbit, aqm: { type: codel } }'))[0]).toMatch(/^5:\d+ links\.bottleneck\.aqm\.type: /);
  });
});
