/** Multiple-testing adjustments. */

/**
 * Holm's step-down adjusted p-values (R: p.adjust(p, "holm")): sort ascending, multiply the i-th
 * smallest by (m - i + 1), take the running maximum, cap at 1, return in input order. `null`
 * entries are not part of the family and stay null.
 */
export function holm(p: ReadonlyArray<number | null>): Array<number | null> {
  const idx: number[] = [];
  p.forEach((v, i) => {
    if (v !== null && !Number.isNaN(v)) idx.push(i);
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
