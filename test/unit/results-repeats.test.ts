/**
 * The reader's check for a trial recorded twice in the same attempt (src/results/records.ts), which
 * keeps most keys as numbers, against the string keys it used before, kept here as the reference:
 * the same first repeated line (or none) on randomized records whose scenario ids hold the key's
 * separators and whose attempts and replacement rounds are numbers, texts, empty or absent.
 */
import { describe, expect, it } from 'vitest';
import { parseResultsText } from '../../src/results/records.js';
import { mulberry32 } from '../../src/stats/index.js';

/** The first line repeating an earlier line's key, with that earlier line, by the string keys. */
function firstRepeatRef(recs: Array<Record<string, unknown>>): { line: number; prev: number; key: string } | null {
  const seen = new Map<string, number>();
  for (let i = 0; i < recs.length; i++) {
    const r = recs[i]!;
    const key = `${r.scenario}#${r.pair}-${r.arm}`;
    const extra = r.extra as { replacement?: { round?: unknown } } | undefined;
    const rep = extra && typeof extra.replacement === 'object' && extra.replacement !== null ? extra.replacement.round : undefined;
    const akey = `${key}@${String(r.attempt ?? '')}~${String(rep ?? '')}`;
    const prev = seen.get(akey);
    if (prev !== undefined) return { line: i + 1, prev, key };
    seen.set(akey, i + 1);
  }
  return null;
}

const SCENARIOS = ['grid#0', 'a#1-control@', 'a', 'a#1-control@1~', 'x~y', 'b@2'];
const ATTEMPTS: unknown[] = [1, 2, 1, 2, -0, 0, '1', '01', '', null, true, 1.5, 'NaN', undefined, undefined];
const ROUNDS: unknown[] = [undefined, undefined, undefined, undefined, 1, '', null, 'x', 0];

/**
 * The parser refuses the first repeat the reference finds, at its line, naming the earlier line, or
 * reads every record when there is none. True when there was a repeat.
 */
function parsesLikeReference(recs: Array<Record<string, unknown>>): boolean {
  const text = recs.map((r) => JSON.stringify(r)).join('\n');
  const want = firstRepeatRef(recs);
  if (want)
    expect(() => parseResultsText(text, { source: 'r.jsonl' })).toThrow(
      `r.jsonl:${want.line}:1: repeats trial ${want.key} of line ${want.prev} in the same attempt`,
    );
  else expect(parseResultsText(text, { source: 'r.jsonl' }).records).toHaveLength(recs.length);
  return !!want;
}

describe('a trial recorded twice in the same attempt', () => {
  it('is found at the same line as with string keys, whatever the attempts, rounds and scenario ids', () => {
    let repeats = 0;
    for (let seed = 1; seed <= 600; seed++) {
      const u = mulberry32(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(u() * xs.length)]!;
      const plain = seed % 3 !== 0; // only numeric attempts and no rounds: the numeric keys throughout
      const recs: Array<Record<string, unknown>> = [];
      for (let i = 0; i < 20 + Math.floor(u() * 40); i++) {
        const r: Record<string, unknown> = {
          type: 'trial',
          scenario: pick(SCENARIOS),
          pair: Math.floor(u() * 12),
          arm: pick(['control', 'canary']),
          status: 'ok',
        };
        const attempt = plain ? pick([1, 2, undefined]) : pick(ATTEMPTS);
        if (attempt !== undefined) r.attempt = attempt;
        const round = plain ? undefined : pick(ROUNDS);
        if (round !== undefined) r.extra = { replacement: { round } };
        recs.push(r);
      }
      if (parsesLikeReference(recs)) repeats++;
    }
    expect(repeats).toBeGreaterThan(100);
    expect(repeats).toBeLessThan(500);
  });

  it('is found at the same line with pairs dense, sparse and huge (kept in an array or a map)', () => {
    let repeats = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const u = mulberry32(seed);
      const pairOf = (): number => {
        const w = u();
        if (w < 0.5) return Math.floor(u() * 40);
        if (w < 0.8) return Math.floor(u() * 5000);
        if (w < 0.95) return 2 ** 20 + Math.floor(u() * 8);
        return 2 ** 49 + Math.floor(u() * 4);
      };
      const recs: Array<Record<string, unknown>> = [];
      const n = 50 + Math.floor(u() * 3000);
      for (let i = 0; i < n; i++)
        recs.push({
          type: 'trial',
          scenario: u() < 0.8 ? 'a' : 'b',
          pair: pairOf(),
          arm: u() < 0.5 ? 'control' : 'canary',
          status: 'ok',
          attempt: u() < 0.9 ? 1 : 2,
        });
      // mostly without repeats: each key once, in a shuffled order, then maybe one repeated
      const seen = new Set<string>();
      const unique = recs.filter((r) => {
        const k = `${r.scenario}#${r.pair}-${r.arm}@${r.attempt}`;
        return seen.has(k) ? false : (seen.add(k), true);
      });
      if (u() < 0.5) unique.splice(Math.floor(u() * unique.length), 0, { ...unique[Math.floor(u() * unique.length)]! });
      if (parsesLikeReference(unique)) repeats++;
    }
    expect(repeats).toBeGreaterThan(50);
  });
});
