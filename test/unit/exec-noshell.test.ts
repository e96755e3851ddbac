/**
 * A polluted Object.prototype cannot turn a shell on: the exec module pins `shell: false` (and the
 * other keys that decide what runs) as own properties of frozen option objects.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { execOptions, run, spawn } from '../../src/exec/index.js';

const proto = Object.prototype as Record<string, unknown>;

describe('exec under a polluted Object.prototype', () => {
  afterEach(() => {
    delete proto.shell;
    delete proto.preferLocal;
  });

  it('run() and spawn() pass every argument verbatim and start no shell', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netab-noshell-'));
    const marker = join(dir, 'x-PWNED');
    const payload = `1; touch ${marker} #`;
    proto.shell = true;
    proto.preferLocal = true;
    try {
      const r = await run(['printf', '%s\\n', payload, '$(id -un)']);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(`${payload}\n$(id -un)\n`);
      const lines: string[] = [];
      const c = spawn(['printf', '%s\\n', `${payload}`], { onLine: (l) => lines.push(l) });
      expect((await c.wait()).exitCode).toBe(0);
      expect(lines).toEqual([payload]);
      // a command name with shell syntax is a (missing) file name, not a command line
      const bad = await run([`true; touch ${marker}`], { reject: false });
      expect(bad.exitCode).not.toBe(0);
      expect(existsSync(marker)).toBe(false);
    } finally {
      delete proto.shell;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('option objects are frozen, with shell: false as an own key that callers cannot override', () => {
    const o = execOptions({ shell: true, reject: false } as Record<string, unknown>) as Record<string, unknown>;
    expect(Object.isFrozen(o)).toBe(true);
    expect(Object.hasOwn(o, 'shell')).toBe(true);
    expect(o.shell).toBe(false);
    expect(o.reject).toBe(false);
  });
});
