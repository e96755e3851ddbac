/**
 * Schema parts for unit strings (times, rates, percentages, sizes, buffers): each string is checked by
 * the same parser that later normalises it, with the accepted range in the message.
 */
import { z } from 'zod/v4';
import {
  checkBuffer,
  checkRange,
  describeRange,
  parseBuffer,
  parsePercent,
  parseRate,
  parseSize,
  parseTime,
  RANGES,
  type UnitError,
  type UnitRange,
} from './units.js';

function unitString(
  parse: (v: unknown) => number,
  pattern: RegExp,
  description: string,
  example: string,
  range?: { r: UnitRange; what: string },
) {
  return z
    .string()
    .regex(pattern, { message: `expected ${description}, e.g. "${example}"` })
    .check((ctx) => {
      try {
        const x = parse(ctx.value);
        if (range) checkRange(x, range.r, ctx.value, range.what);
      } catch (e) {
        ctx.issues.push({ code: 'custom', message: (e as UnitError).message, input: ctx.value });
      }
    })
    .describe(`${description}, e.g. "${example}"${range ? `; ${describeRange(range.r)}` : ''}`);
}

const N = String.raw`([0-9]+(\.[0-9]+)?|\.[0-9]+)`;
const TIME_RE = new RegExp(`^\\s*${N}\\s*(us|usec|ms|msec|s|sec)\\s*$`, 'i');
export const time = (r: UnitRange, what: string) => unitString(parseTime, TIME_RE, 'a time', '20ms', { r, what });
/** delay and jitter: 0 to 10 s */
export const DelayTime = time(RANGES.delay, 'a delay');
/** durations, intervals, timeouts, periods: more than 0, at most 1 h */
export const DurationTime = time(RANGES.duration, 'a duration');
/** omit, stagger, gap: 0 to 1 h */
export const OffsetTime = time(RANGES.offset, 'a time');
export const RtoMinTime = time(RANGES.rtoMin, 'rto_min');
export const ToleranceTime = time(RANGES.tolerance, 'a tolerance');
export const Rate = unitString(
  parseRate,
  new RegExp(`^\\s*${N}\\s*(bit|kbit|mbit|gbit|tbit|bps|kbps|mbps|gbps)\\s*$`, 'i'),
  'a rate (tc units: mbit = megabits/s, mbps = megabytes/s)',
  '50mbit',
  { r: RANGES.rate, what: 'a rate' },
);
export const Percent = unitString(parsePercent, new RegExp(`^\\s*${N}\\s*%\\s*$`), 'a percentage', '1%');
/** a relative judge margin: more than 0 %, less than 100 % */
export const MarginPercent = unitString(parsePercent, new RegExp(`^\\s*${N}\\s*%\\s*$`), 'a percentage', '2%', {
  r: RANGES.margin,
  what: 'a relative margin',
});
export const Size = unitString(parseSize, new RegExp(`^\\s*${N}\\s*(b|kb|mb|gb|kib|mib|gib)\\s*$`, 'i'), 'a size', '64KB', {
  r: RANGES.size,
  what: 'a size',
});
export const Buffer = z
  .string()
  .check((ctx) => {
    try {
      checkBuffer(parseBuffer(ctx.value), ctx.value);
    } catch (e) {
      ctx.issues.push({ code: 'custom', message: (e as UnitError).message, input: ctx.value });
    }
  })
  .describe('bottleneck queue: bytes ("64KB"), packets ("100p"), bandwidth-delay products ("1bdp", "0.5bdp") or "bdp/sqrt(n)"');
