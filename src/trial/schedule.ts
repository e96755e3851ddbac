/** The schedule of a scenario's trials: pairs in a seeded random order (pure; unit-tested). */
import type { Arm } from '../results/types.js';
import type { Scenario } from '../scenario/model.js';
import { mulberry32 } from '../stats/random.js';

export interface PlannedTrial {
  pair: number;
  position: 0 | 1;
  arm: Arm;
}

/** Every trial of a scenario in run order: pairs in a seeded random order (pure; unit-tested). */
export function trialPlan(s: Scenario, seed: number): PlannedTrial[] {
  const total = s.trials.warmup + s.trials.pairs;
  const orders = pairOrders((seed ^ hashString(s.id)) >>> 0, total);
  return orders.flatMap((o, pair) => o.map((arm, position) => ({ pair, position: position as 0 | 1, arm })));
}

/** Pair order: a seeded fair coin per pair (pure; unit-tested). */
export function pairOrders(seed: number, pairs: number): Arm[][] {
  const rng = mulberry32(seed);
  return Array.from({ length: pairs }, () => (rng() < 0.5 ? ['control', 'canary'] : ['canary', 'control']));
}

export function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
