import { describe, expect, it } from 'vitest';
import type { InputError } from '../../src/scenario/errors.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { loadPathProfile, pathNames } from '../../src/scenario/path-library.js';

const head = [
  'topology: dumbbell',
  'control: { cc: cubic }',
  'canary: { cc: cubic }',
  'workload: { type: bulk, duration: 5s }',
  'trials: { pairs: 6 }',
];
const load = (link: string) => loadScenarioText([...head, `links: { bottleneck: ${link} }`].join('\n'), 'x.yaml');

describe('path library', () => {
  it('ships four documented profiles, each loads into a scenario', () => {
    expect(pathNames()).toEqual(['handover-every-10s', 'lte-driving', 'satellite-geo', 'wifi-congested']);
    for (const name of pathNames()) {
      const p = loadPathProfile(name);
      expect(p.description, name).toBeTruthy();
      expect(p.source, name).toBeTruthy();
      expect(load(`{ path: ${name} }`)).toHaveLength(1);
    }
  });

  it("profile fields are defaults: the link's own keys win", () => {
    const [s] = load('{ path: handover-every-10s, delay: 5ms }');
    expect(s!.links.bottleneck!.forward).toMatchObject({
      delayMs: 5,
      rateBps: 20e6,
      schedule: { steps: [{ atMs: 5000, outageMs: 200, set: {} }], repeatMs: 10000 },
    });
    const [g] = load('{ path: satellite-geo }');
    expect(g!.path.rttMs).toBe(600);
    expect(g!.links.bottleneck!.reverse.rateBps).toBe(3e6);
  });

  it('an unknown profile is a located error naming the library', () => {
    try {
      load('{ path: lte-walking }');
      throw new Error('expected an InputError');
    } catch (e) {
      expect((e as InputError).problems.map((p) => `${p.line}:${p.col} ${p.path}: ${p.message}`)).toEqual([
        '6:30 links.bottleneck.path: no path profile "lte-walking" (the library has: handover-every-10s, lte-driving, satellite-geo, wifi-congested)',
      ]);
    }
  });
});
