import { describe, expect, it } from 'vitest';
import type { TrialRecord } from '../../src/results/types.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { suspectReason } from '../../src/trial/execute.js';
import { replacementBudget, replacementState } from '../../src/trial/replacement.js';

const rec = (pair: number, arm: 'control' | 'canary', o: Partial<TrialRecord> = {}): TrialRecord => ({
  type: 'trial',
  runId: 'r',
  scenario: 's',
  trial: `s#${pair}-${arm}`,
  pair,
  position: arm === 'control' ? 0 : 1,
  arm,
  warmup: pair < 1,
  status: 'ok',
  suspect: null,
  reason: null,
  startedAt: '2026-01-01T00:00:00Z',
  durationMs: 1,
  attempt: 1,
  metrics: { goodput: 1 },
  ...o,
});

describe('suspect means measured harm', () => {
  it('CPU load alone never flags a trial; with a deviation it is named as context', () => {
    expect(suspectReason([], 1, 0.99)).toBeNull();
    expect(suspectReason(['relay lk0 forward: send lateness p99 6 ms > 4 ms'], 1, 0.99)).toBe(
      'relay lk0 forward: send lateness p99 6 ms > 4 ms; host CPU 100% busy during the trial',
    );
    expect(suspectReason(['relay lk0 forward: 3 datagrams dropped by the kernel (relay short of CPU)'], 0.5, 0.99)).toBe(
      'relay lk0 forward: 3 datagrams dropped by the kernel (relay short of CPU)',
    );
  });
});

describe('suspect pairs are replaced', () => {
  it('budget: 25 % of the pairs by default, at least one, 0 % turns it off', () => {
    const yaml = (t: string) =>
      `topology: dumbbell\nlinks: { bottleneck: { delay: 10ms, rate: 10mbit } }\ncontrol: { cc: cubic }\ncanary: { cc: bbr }\nworkload: { type: bulk, duration: 2s }\ntrials: ${t}\n`;
    const [a] = loadScenarioText(yaml('{ pairs: 8 }'), 'a.yaml');
    const [b] = loadScenarioText(yaml('{ pairs: 10, replace_budget: 50% }'), 'b.yaml');
    const [c] = loadScenarioText(yaml('{ pairs: 10, replace_budget: 0% }'), 'c.yaml');
    const [d] = loadScenarioText(yaml('{ pairs: 2 }') + 'judge: { min_pairs: 2 }\n', 'd.yaml');
    const [e] = loadScenarioText(yaml('{ pairs: 8 }') + 'judge: { exclude_suspect: false }\n', 'e.yaml');
    expect([a, b, c, d, e].map((s) => replacementBudget(s!))).toEqual([2, 5, 0, 1, 0]);
  });

  it('a pair with a suspect arm is pending until a clean re-run supersedes it; failures are never re-run', () => {
    const records = [
      rec(0, 'control', { suspect: 'x' }), // warm-up: never replaced
      rec(0, 'canary'),
      rec(1, 'control'),
      rec(1, 'canary', { suspect: 'relay lk0 forward: send lateness p99 6 ms > 4 ms' }),
      rec(2, 'control', { suspect: 'lateness' }),
      rec(2, 'canary', { status: 'failed', reason: 'iperf3 died' }),
      rec(3, 'control'),
      rec(3, 'canary'),
      rec(4, 'control', { suspect: 'drops' }),
    ];
    const st = replacementState(records, 1);
    expect(st.pending).toEqual([{ pair: 1, reason: 'canary: relay lk0 forward: send lateness p99 6 ms > 4 ms' }]);
    expect(st.used).toBe(0);
    // pair 1 re-run: clean control, suspect canary again -> still pending, one replacement used
    const r1 = { round: 1, reason: 'canary: lateness' };
    const again = [
      ...records,
      rec(1, 'control', { extra: { replacement: r1 } }),
      rec(1, 'canary', { suspect: 'drops', extra: { replacement: r1 } }),
    ];
    expect(replacementState(again, 1)).toMatchObject({ pending: [{ pair: 1, reason: 'canary: drops' }], used: 1 });
    // second re-run clean: nothing pending, two used, logged in order
    const r2 = { round: 2, reason: 'canary: drops' };
    const clean = [...again, rec(1, 'canary', { extra: { replacement: r2 } }), rec(1, 'control', { extra: { replacement: r2 } })];
    const end = replacementState(clean, 1);
    expect(end.pending).toEqual([]);
    expect(end.used).toBe(2);
    expect(end.log.map((l) => [l.pair, l.round])).toEqual([
      [1, 1],
      [1, 2],
    ]);
  });

  it('a later resume attempt wins over an earlier one', () => {
    const records = [
      rec(1, 'control', { attempt: 2 }),
      rec(1, 'canary', { attempt: 2 }),
      rec(1, 'control', { attempt: 1, suspect: 'x' }),
      rec(1, 'canary', { attempt: 1 }),
    ];
    expect(replacementState(records, 1).pending).toEqual([]);
  });
});
