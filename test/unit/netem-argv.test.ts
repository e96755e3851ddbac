import { describe, expect, it } from 'vitest';
import { tcCommands, tbfBurst } from '../../src/impairment/netem.js';

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
});
