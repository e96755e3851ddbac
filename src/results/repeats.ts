/**
 * The reader's check for a trial recorded twice in the same attempt and replacement round (the
 * results appended twice): the key of each record so far with the line it came from.
 */
import type { TrialRecord } from './types.js';

/** An attempt as a part of a record's key (see RepeatIndex): '', a number, or null (keep the key as a string). */
function attemptPart(at: unknown): number | string | null {
  if (typeof at === 'number') return at;
  const text = String(at ?? '');
  return text === '' ? '' : String(Number(text)) === text ? Number(text) : null;
}

/** Room for this many numbers kept in an array (4 bytes each) beyond the count kept so far. */
const DENSE_SLACK = 1024;

/**
 * Line numbers (≥ 1) by a whole number k ≥ 0: in an array indexed by k while the numbers are dense
 * (pairs are numbered 0, 1, 2, …: the usual case, no hashing), in a Map beyond that. The array stays
 * within four times the count kept plus some slack, so sparse or huge numbers cannot make it grow.
 */
class LineIndex {
  private dense = new Uint32Array(64);
  private sparse: Map<number, number> | null = null;
  private count = 0;

  get(k: number): number | undefined {
    if (k < this.dense.length) {
      const n = this.dense[k]!;
      return n === 0 ? undefined : n;
    }
    return this.sparse?.get(k);
  }

  /** Note line n for k (k not kept yet). */
  set(k: number, n: number): void {
    this.count++;
    if (k >= this.dense.length && k < 4 * this.count + DENSE_SLACK) {
      let size = this.dense.length * 2;
      while (size <= k) size *= 2;
      const grown = new Uint32Array(size);
      grown.set(this.dense);
      this.dense = grown;
      // what the map held below the new size moves to the array (a number is kept in one place only)
      if (this.sparse)
        for (const [j, line] of this.sparse)
          if (j < size) {
            grown[j] = line;
            this.sparse.delete(j);
          }
    }
    if (k < this.dense.length) this.dense[k] = n;
    else (this.sparse ??= new Map()).set(k, n);
  }

  *entries(): Generator<[number, number]> {
    for (let k = 0; k < this.dense.length; k++) if (this.dense[k] !== 0) yield [k, this.dense[k]!];
    if (this.sparse) yield* this.sparse;
  }
}

export class RepeatIndex {
  /** keys of the records so far (see repeated): as strings, and split into numbers */
  private seen = new Map<string, number>();
  private seenParts: Map<string, Map<number | string, LineIndex>> | null = new Map();
  /** the last record's scenario and attempt with their index: most records share them */
  private lastScenario: string | null = null;
  private lastAttempt: number | string | null = null;
  private lastIndex: LineIndex | null = null;

  /**
   * The line of an earlier record with the same key "scenario#pair-arm@attempt~round" (the texts of
   * attempt and round, '' when absent), else undefined and this one is noted as line n. While every
   * record has no round, an attempt whose text is '' or a number's own text, and a pair below 2⁵⁰,
   * the keys are kept as parts, which hold a hundred thousand records in a fraction of the strings'
   * memory: such a key string splits back into its parts from the right (the attempt holds no '@',
   * the arm no '-', the pair no '#' or '-'), so equal strings are equal parts, with the pair and arm
   * as 2·pair + arm and the attempt as that number (or ''). The first other record turns every key
   * kept so far into its string, and strings are kept from then on.
   */
  repeated(r: TrialRecord, rep: unknown, n: number): number | undefined {
    if (this.seenParts) {
      const attempt = String(rep ?? '') === '' && r.pair < 2 ** 50 ? attemptPart(r.attempt) : null;
      if (attempt !== null) {
        let byPair = this.lastIndex;
        if (byPair === null || r.scenario !== this.lastScenario || attempt !== this.lastAttempt) {
          let byAttempt = this.seenParts.get(r.scenario);
          if (!byAttempt) this.seenParts.set(r.scenario, (byAttempt = new Map()));
          byPair = byAttempt.get(attempt) ?? null;
          if (!byPair) byAttempt.set(attempt, (byPair = new LineIndex()));
          this.lastScenario = r.scenario;
          this.lastAttempt = attempt;
          this.lastIndex = byPair;
        }
        const k = 2 * r.pair + (r.arm === 'canary' ? 1 : 0);
        const prev = byPair.get(k);
        if (prev === undefined) byPair.set(k, n);
        return prev;
      }
      for (const [scenario, byAttempt] of this.seenParts)
        for (const [attempt, byPair] of byAttempt)
          for (const [k, line] of byPair.entries())
            this.seen.set(`${scenario}#${Math.floor(k / 2)}-${k % 2 ? 'canary' : 'control'}@${attempt}~`, line);
      this.seenParts = null;
      this.lastIndex = null;
    }
    const akey = `${r.scenario}#${r.pair}-${r.arm}@${String(r.attempt ?? '')}~${String(rep ?? '')}`;
    const prev = this.seen.get(akey);
    if (prev === undefined) this.seen.set(akey, n);
    return prev;
  }
}
