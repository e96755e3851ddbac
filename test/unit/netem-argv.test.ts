import { describe, expect, it } from 'vitest';
import { parseRedStats, tcCommands, tbfBurst } from '../../src/impairment/netem.js';
import { redBurst, redWlog } from '../../src/impairment/red.js';

const Q = ['tc', 'qdisc', 'add', 'dev', 'l0'];

describe('tc argv builder', () => {
  it('nothing impaired -> no commands', () => {
    expect(tcCommands('l0', {})).toEqual([]);
  });
  it('delay, jitter with correlation and distribution', () => {
    expect(tcCommands('l0', { delayMs: 20, jitterMs: 2.5, jitterCorrelation: 0.25, distribution: 'normal' })).toEqual([
      [...Q, 'root', 'handle', '1:', 'netem', 'limit', '100000', 'delay', '20000us', '2500us', '25%', 'distribution', 'normal'],
    ]);
  });
  it('uniform distribution is netem default and not spelled out', () => {
    expect(tcCommands('l0', { delayMs: 10, jitterMs: 1, distribution: 'uniform' })[0]).toEqual([
      ...Q,
      'root',
      'handle',
      '1:',
      'netem',
      'limit',
      '100000',
      'delay',
      '10000us',
      '1000us',
    ]);
  });
  it('random loss with correlation', () => {
    expect(tcCommands('l0', { loss: 0.01, lossCorrelation: 0.5 })[0]).toEqual([
      ...Q,
      'root',
      'handle',
      '1:',
      'netem',
      'limit',
      '100000',
      'loss',
      'random',
      '1%',
      '50%',
    ]);
  });
  it('Gilbert-Elliott loss', () => {
    expect(tcCommands('l0', { gemodel: { p: 0.01, r: 0.3, lossBad: 1, lossGood: 0 } })[0]).toEqual([
      ...Q,
      'root',
      'handle',
      '1:',
      'netem',
      'limit',
      '100000',
      'loss',
      'gemodel',
      '1%',
      '30%',
      '100%',
      '0%',
    ]);
  });
  it('duplicate, corrupt, reorder with gap', () => {
    expect(
      tcCommands('l0', {
        delayMs: 5,
        duplicate: 0.001,
        duplicateCorrelation: 0.1,
        corrupt: 0.0005,
        reorder: 0.25,
        reorderCorrelation: 0.5,
        reorderGap: 5,
      })[0],
    ).toEqual([
      ...Q,
      'root',
      'handle',
      '1:',
      'netem',
      'limit',
      '100000',
      'delay',
      '5000us',
      'duplicate',
      '0.1%',
      '10%',
      'corrupt',
      '0.05%',
      'reorder',
      '25%',
      '50%',
      'gap',
      '5',
    ]);
  });
  it('reorder gap defaults to 1', () => {
    expect(tcCommands('l0', { delayMs: 5, reorder: 0.1 })[0]!.slice(-4)).toEqual(['reorder', '10%', 'gap', '1']);
  });
  it('rate alone: tbf at the root with the buffer as its byte limit', () => {
    expect(tcCommands('l0', { rateBps: 50e6, bufferBytes: 250000 })).toEqual([
      [...Q, 'root', 'handle', '1:', 'tbf', 'rate', '50000000bit', 'burst', '6250', 'limit', '250000'],
    ]);
  });
  it('netem with rate: tbf child at 1:1', () => {
    expect(tcCommands('l0', { delayMs: 20, loss: 0.01, rateBps: 10e6, bufferBytes: 30000 })).toEqual([
      [...Q, 'root', 'handle', '1:', 'netem', 'limit', '100000', 'delay', '20000us', 'loss', 'random', '1%'],
      [...Q, 'parent', '1:1', 'handle', '10:', 'tbf', 'rate', '10000000bit', 'burst', '3028', 'limit', '30000'],
    ]);
  });
  it('tbf burst: 2 frames minimum, else 1 ms at line rate', () => {
    expect(tbfBurst(1e6)).toBe(3028);
    expect(tbfBurst(1e9)).toBe(125000);
  });

  const aqm = { kind: 'red' as const, ecn: true, minBytes: 16667, maxBytes: 50000, maxP: 0.1 };
  const RED = ['limit', '100000', 'min', '16667', 'max', '50000', 'avpkt', '1000', 'burst', '28', 'probability', '0.1'];
  it("rate + aqm: red replaces tbf's fifo as its child (tbf at the root)", () => {
    expect(tcCommands('l0', { rateBps: 20e6, bufferBytes: 100000, aqm })).toEqual([
      [...Q, 'root', 'handle', '1:', 'tbf', 'rate', '20000000bit', 'burst', '3028', 'limit', '100000'],
      [...Q, 'parent', '1:1', 'handle', '20:', 'red', ...RED, 'bandwidth', '20000000bit', 'ecn'],
    ]);
  });
  it('netem + rate + aqm without ecn: netem -> tbf -> red, red drops', () => {
    expect(tcCommands('l0', { delayMs: 20, rateBps: 20e6, bufferBytes: 100000, aqm: { ...aqm, ecn: false, maxP: 0.02 } })).toEqual([
      [...Q, 'root', 'handle', '1:', 'netem', 'limit', '100000', 'delay', '20000us'],
      [...Q, 'parent', '1:1', 'handle', '10:', 'tbf', 'rate', '20000000bit', 'burst', '3028', 'limit', '100000'],
      [...Q, 'parent', '10:1', 'handle', '20:', 'red', ...RED.slice(0, -1), '0.02', 'bandwidth', '20000000bit'],
    ]);
  });
  it('seed goes last on the netem line, only when given', () => {
    expect(tcCommands('l0', { delayMs: 5, loss: 0.01 }, 4242)[0]).toEqual([
      ...Q,
      'root',
      'handle',
      '1:',
      'netem',
      'limit',
      '100000',
      'delay',
      '5000us',
      'loss',
      'random',
      '1%',
      'seed',
      '4242',
    ]);
    // rate only: no netem qdisc, nothing to seed
    expect(tcCommands('l0', { rateBps: 1e6 }, 7)).toEqual([
      [...Q, 'root', 'handle', '1:', 'tbf', 'rate', '1000000bit', 'burst', '3028', 'limit', '3028'],
    ]);
  });
  it('RED burst and EWMA weight as tc computes them', () => {
    // (2*16667 + 50000) / 3000 = 27.8 -> 28; tc_red_eval_ewma: a = 28 + 1 - 16.667 = 12.33 <= (1 - (15/16)^28) * 16 = 13.4
    expect(redBurst(aqm)).toBe(28);
    expect(redWlog(16667, 28)).toBe(4);
    // burst at least min/avpkt + 1, so tc's a >= 1
    expect(redBurst({ minBytes: 5000, maxBytes: 5001 })).toBe(6);
  });
  it('red counters from tc -s qdisc show', () => {
    const text = [
      'qdisc tbf 1: root refcnt 2 rate 20Mbit burst 3027b lat 38.8ms ',
      ' Sent 1000 bytes 10 pkt (dropped 3, overlimits 9 requeues 0) ',
      'qdisc red 20: parent 1:1 limit 100000b min 16667b max 50000b ecn ',
      ' Sent 900 bytes 9 pkt (dropped 3, overlimits 12 requeues 0) ',
      ' backlog 0b 0p requeues 0',
      '  marked 12 early 2 pdrop 1 other 0',
    ].join('\n');
    expect(parseRedStats(text)).toEqual({ marked: 12, early: 2, pdrop: 1 });
    expect(parseRedStats('qdisc tbf 1: root')).toBeNull();
  });
});
