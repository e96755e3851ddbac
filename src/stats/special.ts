/**
 * Student t distribution via the regularized incomplete beta function, for the Spearman p-value
 * (drift gate). ln Γ comes from simple-statistics' Lanczos `gammaln` (≈1e-15); the incomplete beta
 * uses the classical continued fraction (modified Lentz), switching to the symmetric form
 * I_x(a,b) = 1 - I_{1-x}(b,a) when x > (a+1)/(a+b+2), with 1 - x passed in exactly by the caller.
 * Verified against scipy.stats.t in test/unit/stats-special.test.ts.
 */
import { gammaln } from 'simple-statistics';

function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return h;
}

/**
 * Regularized incomplete beta I_x(a, b). `xc` = 1 - x computed without cancellation by the
 * caller when x is close to 1 (defaults to 1 - x).
 */
export function regularizedBeta(x: number, a: number, b: number, xc: number = 1 - x): number {
  if (x <= 0) return 0;
  if (x >= 1 || xc <= 0) return 1;
  const lnFront = a * Math.log(x) + b * Math.log(xc) - (gammaln(a) + gammaln(b) - gammaln(a + b));
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(lnFront) * betaContinuedFraction(xc, b, a)) / b;
}

/** P(T > t) for Student's t with `df` degrees of freedom. */
export function studentTSf(t: number, df: number): number {
  if (Number.isNaN(t)) return NaN;
  if (t === Infinity) return 0;
  if (t === -Infinity) return 1;
  const t2 = t * t;
  // P(|T| > |t|) = I_{df/(df+t²)}(df/2, 1/2)
  const x = df / (df + t2);
  const xc = t2 / (df + t2);
  const twoTail = regularizedBeta(x, df / 2, 0.5, xc);
  return t > 0 ? twoTail / 2 : 1 - twoTail / 2;
}
