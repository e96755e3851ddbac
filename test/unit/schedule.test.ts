import { problems } from '../helpers.js';
import { describe, expect, it } from 'vitest';
import { loadScenarioText } from '../../src/scenario/load.js';
import { scheduleEvents, scheduleWarnings, workloadMs } from '../../src/scenario/schedule.js';

const head = [
  'topology: dumbbell',
  'control: { cc: cubic }',
  'canary: { cc: cubic }',
  'workload: { type: bulk, duration: 5s }',
  'trials: { pairs: 6 }',
];
const load = (links: string[]) =>
  loadScenarioText([...head, 'links:', '  bottleneck:', ...links.map((l) => `    ${l}`)].join('\n'), 'x.yaml');

describe('schedule: parsing and validation', () => {
  it('normalises the issue example; top level applies to both directions, forward overrides', () => {
    const [s] = load([
      'delay: 20ms',
      'rate: 50mbit',
      'schedule: [ { at: 2s, rate: 5mbit }, { at: 4s, over: 1s, rate: 50mbit }, { at: 6s, outage: 200ms } ]',
      'repeat: 10s',
      'reverse: { schedule: [ { at: 1s, delay: 40ms } ] }',
    ]);
    const f = s!.links.bottleneck!.forward;
    expect(f.schedule).toEqual({
      steps: [
        { atMs: 2000, set: { rateBps: 5e6 } },
        { atMs: 4000, overMs: 1000, set: { rateBps: 50e6 } },
        { atMs: 6000, outageMs: 200, set: {} },
      ],
      repeatMs: 10000,
    });
    // the override replaces the steps; repeat still comes from the top level
    expect(s!.links.bottleneck!.reverse.schedule).toEqual({ steps: [{ atMs: 1000, set: { delayMs: 40 } }], repeatMs: 10000 });
    expect(scheduleWarnings(s!.links, workloadMs(s!))).toEqual([
      "links.bottleneck forward: 1 schedule step(s) at or after 5000 ms, the workload's duration: they are never applied",
    ]);
  });

  it('bad units, ranges, order and outage <= 0 are located errors', () => {
    expect(
      problems(() =>
        load(['rate: 50mbit', 'schedule:', '  - { at: 2s, rate: 5mbits }', '  - { at: 3s, outage: 0ms }', '  - { at: -1s, loss: 120% }']),
      ),
    ).toEqual([
      '10:25 links.bottleneck.schedule.0.rate: unknown rate unit "mbits" in "5mbits"; use one of bit, kbit, mbit, gbit, tbit, bps, kbps, mbps, gbps',
      '11:27 links.bottleneck.schedule.1.outage: a duration must be more than 0ms and at most 3600s (got "0ms")',
      '12:15 links.bottleneck.schedule.2.at: cannot read time "-1s": expected a number and a unit, e.g. "20ms"',
      '12:26 links.bottleneck.schedule.2.loss: share "120%" is above 100%',
    ]);
    expect(
      problems(() => load(['rate: 50mbit', 'forward:', '  schedule: [ { at: 4s, over: 1s, rate: 5mbit }, { at: 4500ms, rate: 1mbit } ]'])),
    ).toEqual([
      '10:60 links.bottleneck.forward.schedule.1.at: steps out of order: 4500ms is before the end of the previous step (5000 ms); give the steps in time order without overlaps',
    ]);
    expect(problems(() => load(['delay: 5ms', 'schedule: [ { at: 1s, rate: 5mbit } ]']))[0]).toContain(
      'links.bottleneck.schedule.0.rate: a schedule changes rate or buffer only on a link that has a rate',
    );
    expect(problems(() => load(['rate: 5mbit', 'schedule: [ { at: 1s, outage: 1s } ]', 'repeat: 1500ms']))[0]).toMatch(
      /links.bottleneck.repeat: repeat 1500ms is shorter than the schedule \(its last step ends at 2000 ms\)/,
    );
    expect(problems(() => load(['rate: 5mbit', 'schedule: [ { at: 1s } ]']))[0]).toMatch(/schedule.0.at: a step changes something/);
    expect(problems(() => load(['rate: 5mbit', 'schedule: [ { at: 1s, outage: 1s, rate: 1mbit } ]']))[0]).toMatch(
      /schedule.0.outage: an outage step/,
    );
    expect(problems(() => load(['rate: 5mbit', 'schedule: [ { at: 1s, jitter: 1ms } ]']))[0]).toMatch(
      /schedule.0.jitter: jitter and reorder need a delay/,
    );
    expect(problems(() => load(['rate: 5mbit', 'repeat: 1s']))[0]).toMatch(/links.bottleneck.repeat: repeat needs a schedule/);
  });

  it('buffers in steps resolve against the step rate and the base RTT', () => {
    const [s] = load(['delay: 20ms', 'rate: 50mbit', 'schedule: [ { at: 1s, rate: 10mbit, buffer: 1bdp }, { at: 2s, buffer: 20p } ]']);
    expect(s!.links.bottleneck!.forward.schedule!.steps.map((x) => x.set)).toEqual([
      { rateBps: 10e6, bufferBytes: 50000 },
      { bufferBytes: 20 * 1514 },
    ]);
  });
});

describe('schedule: events', () => {
  it('steps, a ramp in 10 ms increments, an outage and the repeat reset', () => {
    const ev = scheduleEvents(
      { rateBps: 50e6, delayMs: 20 },
      {
        steps: [
          { atMs: 2000, set: { rateBps: 5e6 } },
          { atMs: 4000, overMs: 50, set: { rateBps: 10e6, delayMs: 30 } },
          { atMs: 6000, outageMs: 200, set: {} },
        ],
        repeatMs: 10000,
      },
    );
    expect(ev).toEqual([
      { tMs: 2000, field: 'rateBps', value: 5e6 },
      { tMs: 4010, field: 'delayMs', value: 22 },
      { tMs: 4010, field: 'rateBps', value: 6e6 },
      { tMs: 4020, field: 'delayMs', value: 24 },
      { tMs: 4020, field: 'rateBps', value: 7e6 },
      { tMs: 4030, field: 'delayMs', value: 26 },
      { tMs: 4030, field: 'rateBps', value: 8e6 },
      { tMs: 4040, field: 'delayMs', value: 28 },
      { tMs: 4040, field: 'rateBps', value: 9e6 },
      { tMs: 4050, field: 'delayMs', value: 30 },
      { tMs: 4050, field: 'rateBps', value: 10e6 },
      { tMs: 6000, field: 'outage', value: 1 },
      { tMs: 6200, field: 'outage', value: 0 },
      { tMs: 10000, field: 'delayMs', value: 20 },
      { tMs: 10000, field: 'rateBps', value: 50e6 },
    ]);
  });
});
