import { describe, expect, it } from 'vitest';
import { changeLines, scheduledTcCommands } from '../../src/impairment/netem-schedule.js';
import type { LinkImpairment } from '../../src/impairment/types.js';

describe('schedules on the netem engine: tc lines (pure)', () => {
  const rateOnly: LinkImpairment = { rateBps: 50e6, bufferBytes: 250000, schedule: { steps: [{ atMs: 2000, set: { rateBps: 5e6 } }] } };
  const withOutage: LinkImpairment = { rateBps: 50e6, bufferBytes: 250000, schedule: { steps: [{ atMs: 2000, outageMs: 200, set: {} }] } };

  it('a rate-only schedule keeps tbf as the root and changes it in place', () => {
    expect(scheduledTcCommands('eth1', rateOnly)).toEqual([
      ['tc', 'qdisc', 'add', 'dev', 'eth1', 'root', 'handle', '1:', 'tbf', 'rate', '50000000bit', 'burst', '6250', 'limit', '250000'],
    ]);
    expect(changeLines('eth1', rateOnly, { ...rateOnly, rateBps: 5e6 }, false, false, true)).toEqual([
      'qdisc change dev eth1 root handle 1: tbf rate 5000000bit burst 3028 limit 250000',
    ]);
  });

  it('an outage adds an empty netem root; the window is loss 100% and a held tbf', () => {
    expect(scheduledTcCommands('eth1', withOutage)).toEqual([
      ['tc', 'qdisc', 'add', 'dev', 'eth1', 'root', 'handle', '1:', 'netem', 'limit', '100000'],
      [
        'tc',
        'qdisc',
        'add',
        'dev',
        'eth1',
        'parent',
        '1:1',
        'handle',
        '10:',
        'tbf',
        'rate',
        '50000000bit',
        'burst',
        '6250',
        'limit',
        '250000',
      ],
    ]);
    expect(changeLines('eth1', withOutage, withOutage, true, true, true)).toEqual([
      'qdisc change dev eth1 root handle 1: netem limit 100000 loss random 100%',
      'qdisc change dev eth1 parent 1:1 handle 10: tbf rate 1000bit burst 3028 limit 250000',
    ]);
    expect(changeLines('eth1', withOutage, withOutage, false, true, true)).toEqual([
      'qdisc change dev eth1 root handle 1: netem limit 100000',
      'qdisc change dev eth1 parent 1:1 handle 10: tbf rate 50000000bit burst 6250 limit 250000',
    ]);
  });
});
