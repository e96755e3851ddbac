/**
 * Input guards: the statistics functions throw on NaN and ±Infinity instead of returning answers
 * that depend on where a NaN happens to sort. A RangeError here is a bug in the caller (the judge
 * drops non-finite values, naming them, before it calls into src/stats).
 */

/** Throws a RangeError unless every value is a finite number. */
export function assertFinite(fn: string, name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new RangeError(`${fn}: ${name}[${i}] is ${String(v)}; only finite numbers are accepted`);
  }
}

/** Throws a RangeError unless v is a finite number. */
export function assertFiniteNumber(fn: string, name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${fn}: ${name} is ${String(v)}; a finite number is required`);
}

/** Throws a RangeError unless v is a probability in the open interval (0, 1). */
export function assertOpenUnit(fn: string, name: string, v: number): void {
  if (typeof v !== 'number' || !(v > 0 && v < 1)) throw new RangeError(`${fn}: ${name} must be in (0, 1), got ${String(v)}`);
}
