/**
 * Flags whose values the judge uses: checked when the command line is read (exit 2 with the accepted
 * range), never turned into NaN or a margin that makes every canary pass.
 */
import { InputError } from '../errors.js';

/** --alpha: a finite number in (0, 0.5). */
export function parseAlphaFlag(v: string): number {
  const x = /^\s*(\d+(\.\d*)?|\.\d+)(e-?\d+)?\s*$/i.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(x) || x <= 0 || x >= 0.5)
    throw new InputError(`--alpha must be a number above 0 and below 0.5, e.g. 0.05 (got "${v}")`);
  return x;
}

/** --margin: "2%" (relative, in (0 %, 100 %)) or a finite number above 0 (absolute, in the metric's unit). */
export function parseMarginFlag(v: string): { kind: 'relative' | 'absolute'; value: number } {
  const t = v.trim();
  const rel = /^(\d+(\.\d*)?|\.\d+)\s*%$/.exec(t);
  if (rel) {
    const x = Number(rel[1]) / 100;
    if (!(Number.isFinite(x) && x > 0 && x < 1))
      throw new InputError(`--margin: a relative margin must be above 0% and below 100%, e.g. 2% (got "${v}")`);
    return { kind: 'relative', value: x };
  }
  const x = /^(\d+(\.\d*)?|\.\d+)(e-?\d+)?$/i.test(t) ? Number(t) : NaN;
  if (!(Number.isFinite(x) && x > 0))
    throw new InputError(`--margin must be a share like "2%" (relative) or a number above 0 like 0.005 (absolute) (got "${v}")`);
  return { kind: 'absolute', value: x };
}
