import { describe, expect, it } from 'vitest';
import { formatRate, parseBuffer, parsePercent, parseRate, parseSize, parseTime } from '../../src/scenario/units.js';

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
