/** Multiple-testing adjustments. */

function assertP(fn: string, p: ReadonlyArray<number | null>): void {
  p.forEach((v, i) => {
    if (v !== null && !(typeof v === 'number' && v >= 0 && v <= 1))
      throw new RangeError(`${fn}: p[${i}] is ${String(v)}; p-values must be in [0, 1] (or null: not tested)`);
  });
}

/**
 * Holm's step-down adjusted p-values (R: p.adjust(p, "holm")): sort ascending, multiply the i-th
 * smallest by (m - i + 1), take the running maximum, cap at 1, return in input order. `null`
 * entries are not part of the family and stay null; NaN or a value outside [0, 1] throws.
 */
export function holm(p: ReadonlyArray<number | null>): Array<number | null> {
  assertP('holm', p);
  const idx: number[] = [];
  p.forEach((v, i) => {
    if (v !== null) idx.push(i);
  });
  const m = idx.length;
  // stable order by p value, as R's order()
  idx.sort((a, b) => (p[a] as number) - (p[b] as number) || a - b);
  const out: Array<number | null> = p.map(() => null);
  let running = 0;
  idx.forEach((i, rank) => {
    running = Math.max(running, (m - rank) * (p[i] as number));
    out[i] = Math.min(1, running);
  });
  return out;
}

/**
 * Adjusted p-values of a sequentially rejective weighted Bonferroni procedure (Bretz, Maurer,
 * Brannath & Posch 2009; Hommel, Bretz & Maurer 2007). `weights(remaining)` gives each hypothesis'
 * share of α while the hypotheses flagged in `remaining` are still open (Σ ≤ 1 over them). Step:
 * reject the open hypothesis with the smallest p/w, its adjusted p is the running maximum of p/w,
 * then recompute the weights without it. When the weights only grow as hypotheses leave
 * (w_i(J) ≥ w_i(J') for J ⊂ J'), this is the shortcut of a closed test with weighted Bonferroni
 * local tests and controls the familywise error rate strongly at α. Equal weights 1/|J| give Holm.
 * `null` entries are not tested and stay null.
 */
export function consecutiveBonferroni(
  p: ReadonlyArray<number | null>,
  weights: (remaining: ReadonlyArray<boolean>) => ArrayLike<number>,
): Array<number | null> {
  assertP('consecutiveBonferroni', p);
  const remaining = p.map((v) => v !== null);
  const out: Array<number | null> = p.map(() => null);
  let running = 0;
  let open = remaining.filter(Boolean).length;
  while (open > 0) {
    const w = weights(remaining);
    let best = -1;
    let bestQ = Infinity;
    for (let i = 0; i < p.length; i++) {
      if (!remaining[i]) continue;
      const wi = w[i] ?? 0;
      if (!(wi >= 0) || wi > 1 + 1e-12) throw new RangeError(`consecutiveBonferroni: weight ${i} is ${String(wi)}`);
      const q = wi > 0 ? (p[i] as number) / wi : Infinity; // no share of α yet: cannot be rejected before the others
      if (best < 0 || q < bestQ) {
        best = i;
        bestQ = q;
      }
    }
    running = Math.max(running, bestQ);
    out[best] = Math.min(1, running);
    remaining[best] = false;
    open--;
  }
  return out;
}
