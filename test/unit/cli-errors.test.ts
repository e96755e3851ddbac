/** The CLI's error reporting: one or two lines, exit 2 for input, 3 for the environment, stacks only with --debug. */
import { describe, expect, it } from 'vitest';
import { reportError } from '../../src/cli/errors.js';
import { parseAlphaFlag, parseMarginFlag } from '../../src/cli/flags.js';
import { EnvError, InputError } from '../../src/errors.js';
import { CommandError } from '../../src/exec/index.js';

function report(e: unknown, debug = false): { code: number; lines: string[] } {
  const lines: string[] = [];
  const code = reportError(e, debug, (s) => lines.push(...s.split('\n')));
  return { code, lines };
}

describe('reportError', () => {
  it('input errors exit 2, environment errors 3, in at most two lines without a stack', () => {
    expect(report(new InputError('--resume takes the run directory only'))).toEqual({
      code: 2,
      lines: ['netab: --resume takes the run directory only'],
    });
    const located = report(new InputError([{ file: 'a.yaml', line: 3, col: 5, path: 'links.x', message: 'no such link' }]));
    expect(located.code).toBe(2);
    expect(located.lines).toEqual(['a.yaml:3:5: links.x: no such link', 'netab: 1 problem in the input; nothing was run']);
    expect(report(new EnvError('iperf3 is missing'))).toEqual({ code: 3, lines: ['netab: iperf3 is missing'] });
    const cmd = new CommandError({
      command: 'ip link add',
      argv: ['ip'],
      exitCode: 2,
      stdout: '',
      stderr: 'RTNETLINK answers: File exists\nmore\nand more',
      timedOut: false,
    });
    const c = report(cmd);
    expect(c.code).toBe(3);
    expect(c.lines).toHaveLength(2);
    expect(c.lines[1]).toMatch(/more line.* with --debug/);
  });

  it('file-system errors on a named path: missing is the input (2), permissions the environment (3)', () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open 'x/manifest.json'"), {
      code: 'ENOENT',
      syscall: 'open',
      path: 'x/manifest.json',
    });
    expect(report(enoent)).toEqual({ code: 2, lines: ['netab: x/manifest.json: no such file or directory (open)'] });
    const eacces = Object.assign(new Error('EACCES'), { code: 'EACCES', syscall: 'open', path: '/root/x' });
    expect(report(eacces).code).toBe(3);
  });

  it('an unexpected error is one line naming itself internal and pointing to --debug; --debug prints the stack', () => {
    const e = new TypeError("Cannot read properties of undefined (reading 'scenarios')\nsecond line");
    const r = report(e);
    expect(r.code).toBe(3);
    expect(r.lines).toEqual([
      "netab: internal error: Cannot read properties of undefined (reading 'scenarios') (run with --debug for the stack)",
    ]);
    const d = report(e, true);
    expect(d.lines.join('\n')).toMatch(/at .*cli-errors\.test/);
    expect(report('a string').lines).toHaveLength(1);
  });

  it('legacy errors with an exitCode field or a known class keep their code', () => {
    class TuningError extends Error {
      readonly exitCode = 3;
    }
    expect(report(new TuningError('sysctl did not take')).code).toBe(3);
    const rie = new Error('manifest.json: not JSON');
    rie.name = 'ReportInputError';
    expect(report(rie).code).toBe(2);
  });
});

describe('judge flags', () => {
  it('alpha must be in (0, 0.5)', () => {
    expect(parseAlphaFlag('0.05')).toBe(0.05);
    expect(parseAlphaFlag('1e-3')).toBe(0.001);
    for (const bad of ['2', '0.5', '0', '-0.1', 'foo', 'NaN', 'Infinity', '', '0x1', '1e400'])
      expect(() => parseAlphaFlag(bad), bad).toThrow(InputError);
  });

  it('margin: relative in (0 %, 100 %), absolute finite above 0', () => {
    expect(parseMarginFlag('2%')).toEqual({ kind: 'relative', value: 0.02 });
    expect(parseMarginFlag(' 99.5 % ')).toEqual({ kind: 'relative', value: 0.995 });
    expect(parseMarginFlag('0.005')).toEqual({ kind: 'absolute', value: 0.005 });
    for (const bad of ['foo', '100%', '150%', '0%', '-2%', '0', '-1', 'NaN', 'Infinity', '1e400', '', '%', '2%%'])
      expect(() => parseMarginFlag(bad), bad).toThrow(InputError);
  });
});
