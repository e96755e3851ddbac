/** Descriptive helpers (thin wrappers so the judge only depends on src/stats). */
import { sampleStandardDeviation } from 'simple-statistics';
import { assertFinite } from './check.js';

/** Sample standard deviation (n - 1 denominator); 0 for fewer than two values. */
export function sampleSd(values: readonly number[]): number {
  assertFinite('sampleSd', 'values', values);
  return values.length < 2 ? 0 : sampleStandardDeviation([...values]);
}
