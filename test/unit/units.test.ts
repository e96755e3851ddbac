import { describe, expect, it } from 'vitest';
import {
  checkBuffer,
  checkRange,
  formatRate,
  parseBuffer,
  parsePercent,
  parseRate,
  parseSize,
  parseTime,
  RANGES,
} from '../../src/scenario/units.js';

describe('units', () => {
  it('times in ms', () => {
    expect(parseTime('20ms')).toBe(20);
    expect(parseTime('1.5s')).toBe(1500);
    expect(parseTime('500us')).toBe(0.5);
    expect(parseTime(' 2 ms ')).toBe(2);
    expect(parseTime(0)).toBe(0);
    expect(() => parseTime(20)).toThrow(/needs a unit, e.g. "20ms"/);
    expect(() => parseTime('20 min')).toThrow(/unknown time unit "min"/);
  });
  it('rates follow tc: mbit is megabits, mbps is megabytes', () => {
    expect(parseRate('50mbit')).toBe(50e6);
    expect(parseRate('1gbit')).toBe(1e9);
    expect(parseRate('100kbit')).toBe(100e3);
    expect(parseRate('10mbps')).toBe(80e6);
    expect(parseRate('1.5Mbit')).toBe(1.5e6);
    expect(() => parseRate('50mbits')).toThrow(/unknown rate unit "mbits"/);
  });
  it('sizes: KB = 1000, KiB = 1024', () => {
    expect(parseSize('64KB')).toBe(64000);
    expect(parseSize('64KiB')).toBe(65536);
    expect(parseSize('1MB')).toBe(1e6);
    expect(parseSize('1500b')).toBe(1500);
  });
  it('percentages', () => {
    expect(parsePercent('1%')).toBe(0.01);
    expect(parsePercent('0.5%')).toBe(0.005);
    expect(parsePercent('100%')).toBe(1);
    expect(() => parsePercent('101%')).toThrow(/above 100%/);
    expect(() => parsePercent(0.01)).toThrow(/percent sign/);
  });
  it('buffers', () => {
    expect(parseBuffer('64KB')).toEqual({ kind: 'bytes', bytes: 64000 });
    expect(parseBuffer('100p')).toEqual({ kind: 'packets', packets: 100 });
    expect(parseBuffer('100 packets')).toEqual({ kind: 'packets', packets: 100 });
    expect(parseBuffer('1bdp')).toEqual({ kind: 'bdp', factor: 1 });
    expect(parseBuffer('0.5bdp')).toEqual({ kind: 'bdp', factor: 0.5 });
    expect(parseBuffer('bdp/sqrt(n)')).toEqual({ kind: 'bdp-sqrt-n', factor: 1 });
    expect(() => parseBuffer('lots')).toThrow(/cannot read buffer "lots"/);
  });
  it('formats rates', () => {
    expect(formatRate(50e6)).toBe('50mbit');
    expect(formatRate(1e9)).toBe('1gbit');
    expect(formatRate(1500)).toBe('1.5kbit');
  });
});

describe('units: finite values and ranges', () => {
  it('a 400-digit number is refused, not Infinity', () => {
    expect(() => parseTime(`${'9'.repeat(60)}ms`)).not.toThrow();
    expect(parseTime(`${'9'.repeat(60)}ms`)).toBe(1e60);
    expect(() => parseTime(`${'9'.repeat(400)}ms`)).toThrow(/too long for a number and a unit/);
    expect(() => parseBuffer(`${'9'.repeat(400)}p`)).toThrow(/too long/);
    expect(() => parseTime('20constructor')).toThrow(/unknown time unit "constructor"/);
    expect(() => parseRate('5toString')).toThrow(/unknown rate unit "toString"/);
  });
  it('ranges name the accepted range', () => {
    expect(() => checkRange(parseRate('0mbit'), RANGES.rate, '0mbit', 'a rate')).toThrow(
      'a rate must be at least 1kbit and at most 100gbit (got "0mbit")',
    );
    expect(() => checkRange(parseRate('100gbit'), RANGES.rate, '100gbit', 'a rate')).not.toThrow();
    expect(() => checkRange(parseTime('3601s'), RANGES.duration, '3601s', 'a duration')).toThrow(
      'a duration must be more than 0ms and at most 3600s (got "3601s")',
    );
    expect(() => checkRange(parseTime('0s'), RANGES.duration, '0s', 'a duration')).toThrow(/more than 0ms/);
    expect(() => checkRange(parsePercent('100%'), RANGES.margin, '100%', 'a relative margin')).toThrow(
      'a relative margin must be more than 0% and less than 100% (got "100%")',
    );
    expect(() => checkBuffer(parseBuffer('2GB'), '2GB')).toThrow('a buffer must be at least 1B and at most 1GB (got "2GB")');
    expect(() => checkBuffer(parseBuffer('0p'), '0p')).toThrow(/at least 1p and at most 660501p/);
    expect(() => checkBuffer(parseBuffer('1001bdp'), '1001bdp')).toThrow(/more than 0bdp and at most 1000bdp/);
    expect(() => checkBuffer(parseBuffer('1bdp'), '1bdp')).not.toThrow();
  });
});
