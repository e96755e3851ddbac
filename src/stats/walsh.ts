/**
 * Order statistics of the Walsh averages (x_i + x_j)/2, i ≤ j, and of the pairwise differences
 * x_i - y_j without materialising them: the Hodges-Lehmann estimates and their interval limits for
 * tens of thousands of pairs in O(n log n) time and O(n) memory (n(n+1)/2 Walsh averages of 50,000
 * pairs would be 10 GB).
 *
 * Both sets are "sorted matrices": with a = sorted x (and b = y sorted descending) the value
 * v(i, j) = (a_i + a_j)/2 (j ≥ i) or a_i - b_j is non-decreasing along every row and every column,
 * also in floating point (rounding is monotone), and the values are bit for bit the ones the
 * brute-force listing computes (addition is commutative). Selection of the k-th smallest follows
 * Johnson & Mitchell (1978) / Monahan (1984): keep an active column range per row, pick pivots
 * among the active elements at random, count the elements below a pivot with one monotone sweep
 * over the rows (O(n)), and shrink the ranges. Pivots are two order statistics of a random sample
 * of the active elements that bracket the wanted rank (Floyd & Rivest), so a few sweeps suffice;
 * the last few thousand active elements are sorted. Expected O(n log n) in all.
 *
 * Ties and signed zeros: an order statistic is a value, so ties need no care, except for the sign
 * of a zero (a sorted Float64Array puts -0 before +0). Elements equal to -0 can only arise from -0
 * or subnormal inputs; for those inputs the matrix is materialised (up to MATERIALISE_LIMIT) so the
 * answer is the brute force's bit for bit.
 *
 * The rank statistics in O(n) and the normal-approximation interval limits found by selection over
 * these order statistics are in walsh-limits.ts.
 */
import { mulberry32 } from './random.js';
import { nth, sortedCopy } from './select.js';

/** Inputs with -0 or values this close to 0 can produce -0 elements (see above). */
const TINY = 2 ** -1000;
/** Largest matrix materialised for inputs with -0 / subnormal values. */
const MATERIALISE_LIMIT = 1 << 24;
/** Active sets this small are gathered and sorted. */
const GATHER_MIN = 4096;
/** Random sample per selection round. */
const SAMPLE = 2048;

/** The order statistics the Hodges-Lehmann procedures need. Ranks are 1-based. */
export interface OrderStatistics {
  /** Number of elements, n(n+1)/2 or nx·ny. */
  readonly size: number;
  /** k-th smallest element, 1 ≤ k ≤ size (the sorted listing's element k - 1). */
  select(k: number): number;
  /** Number of elements < v. */
  countLt(v: number): number;
  /** Number of elements ≤ v. */
  countLe(v: number): number;
  /** Smallest element > v (+Infinity if none). */
  nextAbove(v: number): number;
  /** Largest element < v (-Infinity if none). */
  prevBelow(v: number): number;
  /** Smallest and largest element. */
  min(): number;
  max(): number;
  /** Median: the middle element, or the mean of the two middle ones (as medianSorted). */
  median(): number;
}

function hazard(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Object.is(v, -0) || (v !== 0 && Math.abs(v) < TINY)) return true;
  }
  return false;
}

/** Shared median logic: the (h)-th and, for an even size, the next element, averaged as medianSorted does. */
function medianOf(os: OrderStatistics): number {
  const M = os.size;
  if (M === 0) return NaN;
  const h = Math.floor(M / 2);
  if (M % 2 === 1) return os.select(h + 1);
  const a = os.select(h);
  const b = os.countLe(a) >= h + 1 ? a : os.nextAbove(a);
  return (a + b) / 2;
}

/** The listing itself (small or hazardous inputs): queries by binary search. */
class Materialised implements OrderStatistics {
  readonly size: number;
  constructor(private readonly s: Float64Array) {
    this.size = s.length;
  }
  private lowerBound(v: number): number {
    let lo = 0;
    let hi = this.s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.s[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  private upperBound(v: number): number {
    let lo = 0;
    let hi = this.s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.s[mid]! <= v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  select(k: number): number {
    return this.s[k - 1]!;
  }
  countLt(v: number): number {
    return this.lowerBound(v);
  }
  countLe(v: number): number {
    return this.upperBound(v);
  }
  nextAbove(v: number): number {
    const i = this.upperBound(v);
    return i < this.size ? this.s[i]! : Infinity;
  }
  prevBelow(v: number): number {
    const i = this.lowerBound(v);
    return i > 0 ? this.s[i - 1]! : -Infinity;
  }
  min(): number {
    return this.s[0]!;
  }
  max(): number {
    return this.s[this.size - 1]!;
  }
  median(): number {
    return medianOf(this);
  }
}

/**
 * Implicit sorted matrix. walsh: v(i, j) = (a_i + a_j)/2 for 0 ≤ i ≤ j < n; otherwise
 * v(i, j) = a_i - b_j for all i, j (a ascending, b descending).
 */
class SortedMatrix implements OrderStatistics {
  readonly size: number;
  private readonly rows: number;
  private readonly cols: number;
  /** Scratch: per-row boundaries of the last sweep and the active ranges. */
  private readonly p: Int32Array;
  private readonly q: Int32Array;
  private readonly lo: Int32Array;
  private readonly hi: Int32Array;

  constructor(
    private readonly a: Float64Array,
    private readonly b: Float64Array,
    private readonly walsh: boolean,
  ) {
    this.rows = a.length;
    this.cols = b.length;
    this.size = walsh ? (this.rows * (this.rows + 1)) / 2 : this.rows * this.cols;
    this.p = new Int32Array(this.rows);
    this.q = new Int32Array(this.rows);
    this.lo = new Int32Array(this.rows);
    this.hi = new Int32Array(this.rows);
  }

  private v(i: number, j: number): number {
    return this.walsh ? (this.a[i]! + this.a[j]!) / 2 : this.a[i]! - this.b[j]!;
  }

  private start(i: number): number {
    return this.walsh ? i : 0;
  }

  /**
   * For every row, the first column whose value is > t (strict = false) or ≥ t (strict = true),
   * into this.p; returns the total number of elements before those columns. One sweep: the
   * boundary moves left as the row index grows (columns are non-decreasing too).
   */
  private sweep(t: number, strict: boolean): number {
    const { rows, cols, p, a, b } = this;
    let c = cols;
    let total = 0;
    // the two matrices and the two comparisons in their own loops (the hot path of every query)
    if (this.walsh) {
      for (let i = 0; i < rows; i++) {
        if (c < i) c = i;
        const ai = a[i]!;
        if (strict) while (c > i && (ai + a[c - 1]!) / 2 >= t) c--;
        else while (c > i && (ai + a[c - 1]!) / 2 > t) c--;
        p[i] = c;
        total += c - i;
      }
    } else {
      for (let i = 0; i < rows; i++) {
        const ai = a[i]!;
        if (strict) while (c > 0 && ai - b[c - 1]! >= t) c--;
        else while (c > 0 && ai - b[c - 1]! > t) c--;
        p[i] = c;
        total += c;
      }
    }
    return total;
  }

  countLe(t: number): number {
    return this.sweep(t, false);
  }

  countLt(t: number): number {
    return this.sweep(t, true);
  }

  nextAbove(t: number): number {
    this.sweep(t, false);
    let best = Infinity;
    for (let i = 0; i < this.rows; i++) if (this.p[i]! < this.cols) best = Math.min(best, this.v(i, this.p[i]!));
    return best;
  }

  prevBelow(t: number): number {
    this.sweep(t, true);
    let best = -Infinity;
    for (let i = 0; i < this.rows; i++) if (this.p[i]! > this.start(i)) best = Math.max(best, this.v(i, this.p[i]! - 1));
    return best;
  }

  min(): number {
    return this.v(0, this.start(0));
  }

  max(): number {
    return this.v(this.rows - 1, this.cols - 1);
  }

  median(): number {
    return medianOf(this);
  }

  select(k: number): number {
    if (!(k >= 1 && k <= this.size)) throw new RangeError(`select: rank ${k} outside 1 … ${this.size}`);
    if (k === 1) return this.min();
    if (k === this.size) return this.max();
    const { rows, lo, hi, p, q } = this;
    for (let i = 0; i < rows; i++) {
      lo[i] = this.start(i);
      hi[i] = this.cols;
    }
    // Deterministic pseudo-random pivots: the answer never depends on them, only the time does.
    const rnd = mulberry32(0x9e3779b9 ^ k ^ this.size);
    let below = 0; // active elements are those of rank below+1 … below+active
    let active = this.size;
    const ranks = new Float64Array(SAMPLE);
    const sample = new Float64Array(SAMPLE);
    const gatherAt = Math.max(GATHER_MIN, 2 * rows);
    for (;;) {
      if (active <= gatherAt) {
        const buf = new Float64Array(active);
        let m = 0;
        for (let i = 0; i < rows; i++) for (let j = lo[i]!; j < hi[i]!; j++) buf[m++] = this.v(i, j);
        return nth(buf, k - below - 1);
      }
      // a random sample of the active elements (with replacement): sorted ranks among them, found
      // in one walk over the rows' active counts
      // (uniforms in ascending order as normalised sums of exponential spacings: no sort)
      let sum = 0;
      for (let s = 0; s < SAMPLE; s++) ranks[s] = sum -= Math.log(1 - rnd());
      const total = sum - Math.log(1 - rnd());
      for (let s = 0; s < SAMPLE; s++) ranks[s] = Math.min(active - 1, Math.floor((ranks[s]! / total) * active));
      let row = 0;
      let before = 0; // active elements in the rows before `row`
      for (let s = 0; s < SAMPLE; s++) {
        const r = ranks[s]!;
        for (let c = hi[row]! - lo[row]!; before + c <= r; c = hi[row]! - lo[row]!) {
          before += c;
          row++;
        }
        sample[s] = this.v(row, lo[row]! + (r - before));
      }
      // pivots bracketing rank k: its expected position in the sample ± 3 standard deviations (the
      // sample's order statistics by selection: nth only reorders it)
      const pos = ((k - below) / active) * SAMPLE;
      const spread = 3 * Math.sqrt(SAMPLE * (pos / SAMPLE) * (1 - pos / SAMPLE)) + 2;
      const t1 = nth(sample, Math.max(0, Math.min(SAMPLE - 1, Math.floor(pos - spread))));
      const t2 = nth(sample, Math.max(0, Math.min(SAMPLE - 1, Math.ceil(pos + spread))));
      const lt1 = this.countLtActive(t1);
      if (k <= lt1) {
        // the answer is < t1: keep the active elements before the boundaries (t1 leaves: progress)
        hi.set(p);
      } else {
        q.set(p); // the boundaries below t1
        const le2 = this.countLeActive(t2);
        if (k > le2) {
          // the answer is > t2 (t2 leaves: progress)
          lo.set(p);
        } else if (t1 === t2) {
          return t1;
        } else {
          // the answer is in [t1, t2]
          lo.set(q);
          hi.set(p);
          if (this.activeCount() === active) {
            // no progress (t1 and t2 are the extremes of the active set): split at t1 alone
            if (k <= this.countLeActive(t1)) return t1;
            lo.set(p);
          }
        }
      }
      // the active count and the count below them, in one pass
      active = 0;
      below = 0;
      for (let i = 0; i < rows; i++) {
        active += hi[i]! - lo[i]!;
        below += lo[i]! - this.start(i);
      }
    }
  }

  private activeCount(): number {
    let n = 0;
    for (let i = 0; i < this.rows; i++) n += this.hi[i]! - this.lo[i]!;
    return n;
  }

  /** Rank count (< t) clamped to the active ranges, boundaries into this.p; includes `below`. */
  private countLtActive(t: number): number {
    this.sweep(t, true);
    return this.clampCount();
  }

  private countLeActive(t: number): number {
    this.sweep(t, false);
    return this.clampCount();
  }

  /** Clamp this.p into [lo, hi] row by row; returns the number of elements before the boundaries. */
  private clampCount(): number {
    const { rows, lo, hi, p } = this;
    let total = 0;
    for (let i = 0; i < rows; i++) {
      const c = Math.min(hi[i]!, Math.max(lo[i]!, p[i]!));
      p[i] = c;
      total += c - this.start(i);
    }
    return total;
  }
}

/** Order statistics of the n(n+1)/2 Walsh averages (x_i + x_j)/2, i ≤ j. */
export function walshOrderStatistics(x: readonly number[]): OrderStatistics {
  return walshOfSorted(sortedCopy(x));
}

/** walshOrderStatistics of x given as sortedCopy(x) (kept, not copied). */
export function walshOfSorted(a: Float64Array): OrderStatistics {
  const M = (a.length * (a.length + 1)) / 2;
  if (M > 0 && hazard(a) && M <= MATERIALISE_LIMIT) {
    const out = new Float64Array(M);
    let k = 0;
    for (let i = 0; i < a.length; i++) for (let j = i; j < a.length; j++) out[k++] = (a[i]! + a[j]!) / 2;
    return new Materialised(out.sort());
  }
  return new SortedMatrix(a, a, true);
}

/** Order statistics of the nx·ny differences x_i - y_j. */
export function differenceOrderStatistics(x: readonly number[], y: readonly number[]): OrderStatistics {
  const a = sortedCopy(x);
  const b = sortedCopy(y, true);
  const M = a.length * b.length;
  if (M > 0 && (hazard(a) || hazard(b)) && M <= MATERIALISE_LIMIT) {
    const out = new Float64Array(M);
    let k = 0;
    for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) out[k++] = a[i]! - b[j]!;
    return new Materialised(out.sort());
  }
  return new SortedMatrix(a, b, false);
}
