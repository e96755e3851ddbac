/**
 * The Theil-Sen slope (the judge's drift estimate): the median of pairwise slopes, listed and sorted
 * for small inputs, selected without listing them all for large ones.
 */
import { medianSorted } from './ranks.js';
import { assertFinite } from './check.js';
import { nth } from './select.js';

/**
 * Theil-Sen slope: median of (y_j - y_i)/(x_j - x_i) over pairs with x_j > x_i
 * (as scipy.stats.theilslopes). NaN when fewer than two distinct x.
 *
 * Small inputs list and sort the slopes. Larger ones select the median without listing all
 * n(n-1)/2 slopes (50,000 points would be 1.25e9 slopes, 10 GB): the number of pairs with slope ≤ t
 * is the number of inversions of z = y - t·x in x order (merge sort, O(n log n)); random samples of
 * slopes give thresholds L < H that bracket the wanted ranks, and only the pairs between them are
 * listed (inversions between the z(L) and z(H) orders) and sorted. The answer is bit for bit the
 * listing's: z is rounded, so a pair whose slope lies within a proven error bound of L or H may be
 * put on the wrong side, which is harmless as long as the selected slope is farther than that
 * bound from L and H; this is checked, and the window widened (or the listing used) otherwise.
 * Slopes of exactly 0 (equal y), common with rounded or constant metrics, are counted exactly.
 */
export function theilSenSlope(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new Error('theilSenSlope: x and y must have the same length');
  assertFinite('theilSenSlope', 'x', x);
  assertFinite('theilSenSlope', 'y', y);
  if (x.length <= THEIL_SEN_LIST_MAX || !selectable(x, y)) return theilSenListed(x, y);
  return theilSenSelected(x, y);
}

/** Up to this many points the slopes are listed (≤ 2 M slopes, 16 MB). */
const THEIL_SEN_LIST_MAX = 2048;
/** Pairs listed at the end of the selection (8 bytes each). */
const WINDOW_MAX = 1 << 18;
/** Random pairs drawn per narrowing round, about. */
const DRAWS = 1 << 19;
/** Slopes sampled per narrowing round. */
const SLOPE_SAMPLE = 1 << 14;
const U = 2 ** -53;

/** The brute force: list every slope and sort (the reference the selection must match). */
export function theilSenListed(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  let count = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (x[j]! > x[i]!) count++;
  if (!count) return NaN;
  const slopes = new Float64Array(count);
  let k = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (x[j]! > x[i]!) slopes[k++] = (y[j]! - y[i]!) / (x[j]! - x[i]!);
  slopes.sort();
  return medianSorted(slopes as unknown as number[]);
}

/** Inputs the selection handles exactly: no -0 or tiny y (a slope could underflow to ±0), no huge x. */
function selectable(x: readonly number[], y: readonly number[]): boolean {
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!;
    if (Object.is(v, -0) || (v !== 0 && Math.abs(v) < 2 ** -900) || Math.abs(v) > 2 ** 900) return false;
    if (Math.abs(x[i]!) > 2 ** 100 || Object.is(x[i], -0)) return false;
  }
  return true;
}

/** Selection of the Theil-Sen median for n points (see theilSenSlope). Exported for tests. */
export function theilSenSelected(
  x: readonly number[],
  y: readonly number[],
  { seed = 0x7e115e4, windowMax = WINDOW_MAX, sample = SLOPE_SAMPLE }: { seed?: number; windowMax?: number; sample?: number } = {},
): number {
  const n = x.length;
  // points in x order, equal x by y descending (then pairs inside an x group are always "inversions")
  let ascending = true; // x strictly ascending (the judge's pair indices): the order is the identity
  for (let i = 1; i < n && ascending; i++) ascending = x[i]! > x[i - 1]!;
  const order = Array.from({ length: n }, (_, i) => i);
  if (!ascending) order.sort((a, b) => x[a]! - x[b]! || y[b]! - y[a]!);
  const xs = Float64Array.from(order, (i) => x[i]!);
  const ys = Float64Array.from(order, (i) => y[i]!);
  let sameX = 0; // pairs with equal x (not slopes)
  let dxMin = Infinity;
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && xs[j] === xs[i]) j++;
    const g = j - i;
    sameX += (g * (g - 1)) / 2;
    if (j < n) dxMin = Math.min(dxMin, xs[j]! - xs[i]!);
    i = j;
  }
  const total = (n * (n - 1)) / 2 - sameX;
  if (total === 0) return NaN;
  dxMin *= 1 - 4 * U; // the exact gap is at least this
  let X = 0;
  let Y = 0;
  for (let i = 0; i < n; i++) {
    X = Math.max(X, Math.abs(xs[i]!));
    Y = Math.max(Y, Math.abs(ys[i]!));
  }
  if (!(((2 * Y) / dxMin) * X < 2 ** 1000)) return theilSenListed(x, y); // slopes · x could overflow
  const ctx: Ctx = {
    n,
    xs,
    ys,
    total,
    X,
    Y,
    dxMin,
    z: new Float64Array(n),
    zTmp: new Float64Array(n),
    seed: seed | 0,
    windowMax,
    sample,
  };
  const h = Math.floor(total / 2);
  if (total % 2 === 1) return selectRanks(ctx, h, h)[0];
  const [a, b] = selectRanks(ctx, h - 1, h);
  return (a + b) / 2;
}

interface Ctx {
  n: number;
  xs: Float64Array;
  ys: Float64Array;
  total: number;
  X: number;
  Y: number;
  dxMin: number;
  z: Float64Array;
  zTmp: Float64Array;
  seed: number;
  windowMax: number;
  sample: number;
}

/** Bound on |s - t| below which the z(t) order may misclassify a pair of slope s. */
function zGuard(c: Ctx, t: number): number {
  if (t === 0) return 0; // z = y exactly
  const m = U * (c.Y + 2.01 * Math.abs(t) * c.X) + 1e-300;
  return (4 * m) / c.dxMin;
}

function fillZ(c: Ctx, t: number): void {
  for (let i = 0; i < c.n; i++) c.z[i] = c.ys[i]! - t * c.xs[i]!;
}

/**
 * Pairs (a, b) in x order with z_b ≤ z_a at z = y - t·x, pairs with equal x left out: the number of
 * slopes ≤ t, up to pairs within zGuard(t) of t. t = 0 is exact (z = y).
 */
function countLe(c: Ctx, t: number): number {
  fillZ(c, t);
  const { n } = c;
  // inversions of z counted by a bottom-up merge sort of the values themselves
  let src = c.z;
  let dst = c.zTmp;
  let inv = 0;
  for (let w = 1; w < n; w *= 2) {
    for (let lo = 0; lo < n; lo += 2 * w) {
      const mid = Math.min(lo + w, n);
      const hi = Math.min(lo + 2 * w, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        if (src[i]! < src[j]!) dst[k++] = src[i++]!;
        else {
          inv += mid - i;
          dst[k++] = src[j++]!;
        }
      }
      while (i < mid) dst[k++] = src[i++]!;
      while (j < hi) dst[k++] = src[j++]!;
    }
    const s = src;
    src = dst;
    dst = s;
  }
  // pairs inside an x group (y descending, so z non-increasing) were all counted
  let same = 0;
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && c.xs[j] === c.xs[i]) j++;
    same += ((j - i) * (j - i - 1)) / 2;
    i = j;
  }
  return inv - same;
}

/**
 * Pairs with y_a == y_b and x_a ≠ x_b: the slopes that are exactly 0. Pairs of equal y (runs of a
 * typed sort of y) less the pairs equal in both x and y (adjacent in x order: y is descending in an
 * x group).
 */
function countZero(c: Ctx): number {
  const { n, xs, ys } = c;
  const sy = Float64Array.from(ys).sort();
  let zero = 0;
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && sy[j] === sy[i]) j++;
    zero += ((j - i) * (j - i - 1)) / 2;
    i = j;
  }
  for (let a = 0; a < n; ) {
    let b = a + 1;
    while (b < n && xs[b] === xs[a] && ys[b] === ys[a]) b++;
    zero -= ((b - a) * (b - a - 1)) / 2;
    a = b;
  }
  return zero;
}

/** Up to `want` slopes of random pairs of distinct x with L < slope < H, sorted. */
function sampleSlopes(c: Ctx, L: number, H: number, want: number, maxDraws: number): Float64Array {
  const out = new Float64Array(want);
  let k = 0;
  const { n, xs, ys } = c;
  let st = c.seed; // mulberry32, inlined
  for (let d = 0; d < maxDraws && k < want; d++) {
    st = (st + 0x6d2b79f5) | 0;
    let t = Math.imul(st ^ (st >>> 15), st | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const a = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n) | 0;
    st = (st + 0x6d2b79f5) | 0;
    t = Math.imul(st ^ (st >>> 15), st | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const b = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n) | 0;
    const xa = xs[a]!;
    const xb = xs[b]!;
    if (xa === xb) continue;
    let s: number;
    if (xa < xb) s = (ys[b]! - ys[a]!) / (xb - xa);
    else s = (ys[a]! - ys[b]!) / (xa - xb);
    if (s > L && s < H) out[k++] = s;
  }
  c.seed = st;
  return out.subarray(0, k).sort();
}

/** Margin beyond which a slope is surely on its side of threshold t (z(t) misclassification + slope rounding). */
function slack(c: Ctx, t: number): number {
  const g = zGuard(c, t);
  return g + 4 * U * (Math.abs(t) + g);
}

/** The r1-th and r2-th smallest slopes (0-based, r1 ≤ r2), bit for bit as the sorted listing's. */
function selectRanks(c: Ctx, r1: number, r2: number): [number, number] {
  // exact split at 0: slopes ≤ 0 are pairs with y_b ≤ y_a
  const le0 = countLe(c, 0);
  const lt0 = le0 - countZero(c);
  const side = (r: number): number => (r < lt0 ? -1 : r < le0 ? 0 : 1);
  if (side(r1) !== side(r2)) return [selectRanks(c, r1, r1)[0], selectRanks(c, r2, r2)[0]];
  if (side(r1) === 0) return [0, 0];
  // window (L, H] with cL = #(≤ L) ≤ r1 ≤ r2 < cH = #(≤ H), approximately; 0 is an exact bound
  const neg = side(r1) < 0;
  let L = neg ? -Infinity : 0;
  let H = neg ? 0 : Infinity;
  let cL = neg ? 0 : le0;
  let cH = neg ? lt0 : c.total;
  let cluster: number | null = null;
  for (let round = 0; round < 12 && cH - cL > c.windowMax; round++) {
    const W = cH - cL;
    // rejection sampling costs total / W draws per slope: keep the draws near DRAWS, and draw no
    // more slopes than it takes to bring the window to half of windowMax (k slopes bracket the
    // ranks within about ±2/√k of W, so the next window is about 4W/√k)
    const want = Math.max(256, Math.min(c.sample, Math.floor((DRAWS * W) / c.total), Math.ceil(((8 * W) / c.windowMax) ** 2)));
    const s = sampleSlopes(c, L, H, want, Math.ceil((4 * want * c.total) / W));
    if (s.length < 16) break;
    const q1 = (r1 - cL + 0.5) / W;
    const q2 = (r2 - cL + 0.5) / W;
    const d = 4 * Math.sqrt(0.25 / s.length) + 2 / s.length;
    let lo = s[Math.max(0, Math.floor((q1 - d) * s.length))]!;
    let hi = s[Math.min(s.length - 1, Math.ceil((q2 + d) * s.length))]!;
    cluster = lo === hi ? lo : null;
    // thresholds padded by their margin, so that a cluster of equal slopes lies inside the window
    lo = neg ? lo - 2 * slack(c, lo) : Math.max(0, lo - 2 * slack(c, lo));
    hi = neg ? Math.min(0, hi + 2 * slack(c, hi)) : hi + 2 * slack(c, hi);
    if (q1 - d > 0 && lo > L) {
      const cl = countLe(c, lo);
      if (cl <= r1) {
        L = lo;
        cL = cl;
      }
    }
    if (q2 + d < 1 && hi < H) {
      const ch = countLe(c, hi);
      if (ch > r2) {
        H = hi;
        cH = ch;
      }
    }
    if (cH - cL >= W) break; // no progress: a cluster of equal slopes
  }
  if (cH - cL <= 2 * c.windowMax || cluster === null) {
    const v = windowPick(c, r1, r2, L, H, null);
    if (v !== null) return v;
  } else {
    // a cluster of equal slopes too big to list: count around its value without storing
    const v = windowPick(c, r1, r2, L, H, cluster);
    if (v !== null) return v;
  }
  throw new Error('theilSenSlope: selection failed (please report the input)');
}

/**
 * Lists the slopes of the pairs classified in (L, H] (z(L) order, then inversions under z(H)),
 * picks rank r among them and checks that it lies outside both misclassification bands. With
 * `probe`, nothing is stored: the slopes below / equal to probe are counted, and probe is
 * returned when it is the r-th.
 */
function windowPick(c: Ctx, r1: number, r2: number, L: number, H: number, probe: number | null): [number, number] | null {
  const { n, xs, ys } = c;
  const finiteL = Number.isFinite(L);
  const finiteH = Number.isFinite(H);
  const cL = finiteL ? countLe(c, L) : 0;
  // order by z(L) ascending, ties by x descending (then a before b with x_a < x_b means slope > L)
  const zL = new Float64Array(n);
  // L = -∞: every pair is above L, so x ascending (a before b whenever x_a < x_b)
  for (let i = 0; i < n; i++) zL[i] = finiteL ? ys[i]! - L * xs[i]! : xs[i]!;
  const seq = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => zL[a]! - zL[b]! || xs[b]! - xs[a]!);
  // z(H) of every point; H = +∞ means "every pair": use -x so that every x_a < x_b pair is an inversion
  const zH = new Float64Array(n);
  for (let i = 0; i < n; i++) zH[i] = finiteH ? ys[i]! - H * xs[i]! : -xs[i]!;
  let buf = new Float64Array(probe === null ? 1024 : 0);
  let m = 0;
  let below = 0;
  let equal = 0;
  let src = seq;
  let dst = new Int32Array(n);
  for (let w = 1; w < n; w *= 2) {
    for (let lo = 0; lo < n; lo += 2 * w) {
      const mid = Math.min(lo + w, n);
      const hi = Math.min(lo + 2 * w, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        if (zH[src[i]!]! < zH[src[j]!]!) dst[k++] = src[i++]!;
        else {
          const q = src[j]!;
          const xq = xs[q]!;
          const yq = ys[q]!;
          for (let p = i; p < mid; p++) {
            const a = src[p]!;
            if (xs[a]! < xq) {
              const slope = (yq - ys[a]!) / (xq - xs[a]!);
              if (slope === 0 && H === 0) continue; // the exact zeros lie above a window (L, 0)
              if (probe !== null) {
                if (slope < probe) below++;
                else if (slope === probe) equal++;
                continue;
              }
              if (m === buf.length) {
                if (m >= 4 * c.windowMax) return null;
                const nb = new Float64Array(m * 2);
                nb.set(buf);
                buf = nb;
              }
              buf[m++] = slope;
            }
          }
          dst[k++] = src[j++]!;
        }
      }
      while (i < mid) dst[k++] = src[i++]!;
      while (j < hi) dst[k++] = src[j++]!;
    }
    const s = src;
    src = dst;
    dst = s;
  }
  let v1: number;
  let v2: number;
  if (probe !== null) {
    if (!(cL + below <= r1 && r2 < cL + below + equal)) return null;
    v1 = v2 = probe;
  } else {
    if (r1 - cL < 0 || r2 - cL >= m) return null;
    // the two ranks by partitioning the listed slopes (the same elements as sorting them)
    const cand = buf.subarray(0, m);
    v1 = nth(cand, r1 - cL);
    v2 = r2 === r1 ? v1 : nth(cand, r2 - cL);
  }
  if (finiteL && !(v1 > L + slack(c, L))) return null;
  if (finiteH && !(v2 < H - slack(c, H))) return null;
  return [v1, v2];
}
