/**
 * Fisher's exact test on a 2×2 table, one-sided, as scipy.stats.fisher_exact(table, alternative)
 * and R's fisher.test(alternative = ...): conditional on the margins, the top-left count X is
 * hypergeometric. Used by the judge to compare the failure counts of the two arms.
 *
 *              event   no event
 *   row 1        a        b
 *   row 2        c        d
 *
 * 'greater': P(X ≥ a) (row 1 has the event more often), 'less': P(X ≤ a). The pmf terms are
 * accumulated in log space from the ratio t(x+1)/t(x) = (K-x)(n-x)/((x+1)(N-K-n+x+1)), so tails far
 * below 1e-300 stay exact relative to each other and no factorial is ever formed.
 */

function assertCount(name: string, v: number): void {
  if (!(Number.isInteger(v) && v >= 0)) throw new RangeError(`fisherExact: ${name} must be a non-negative integer, got ${String(v)}`);
}

export interface FisherResult {
  /** One-sided p-value. */
  p: number;
  /** Smallest p-value attainable with these margins (the most extreme table in the tested direction). */
  pMin: number;
}

function logSumExp(v: readonly number[]): number {
  let m = -Infinity;
  for (const x of v) if (x > m) m = x;
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (const x of v) s += Math.exp(x - m);
  return m + Math.log(s);
}

/** One-sided Fisher exact test of the 2×2 table [[a, b], [c, d]]. */
export function fisherExact(a: number, b: number, c: number, d: number, alternative: 'greater' | 'less' = 'greater'): FisherResult {
  assertCount('a', a);
  assertCount('b', b);
  assertCount('c', c);
  assertCount('d', d);
  const n = a + b; // row 1 total
  const K = a + c; // column 1 total (events)
  const N = a + b + c + d;
  const lo = Math.max(0, n - (N - K));
  const hi = Math.min(K, n);
  if (lo === hi) return { p: 1, pMin: 1 };
  // unnormalised log pmf over lo … hi
  const logT = new Array<number>(hi - lo + 1);
  logT[0] = 0;
  for (let x = lo; x < hi; x++) logT[x - lo + 1] = logT[x - lo]! + Math.log(((K - x) * (n - x)) / ((x + 1) * (N - K - n + x + 1)));
  const total = logSumExp(logT);
  const tail = alternative === 'greater' ? logT.slice(a - lo) : logT.slice(0, a - lo + 1);
  const extreme = alternative === 'greater' ? logT[hi - lo]! : logT[0]!;
  return { p: Math.min(1, Math.exp(logSumExp(tail) - total)), pMin: Math.min(1, Math.exp(extreme - total)) };
}
