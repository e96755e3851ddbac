/** The programmatic API: the package's own name resolves to it, and it loads, checks and judges without the CLI. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { EXIT, InputError, plan, schema, validate } from '../../src/api.js';

describe('netab API', () => {
  it("import('netab') resolves through package.json exports to the built API (after npx tsc)", () => {
    const r = spawnSync(process.execPath, ['-e', "import('netab').then((m) => console.log(Object.keys(m).join(' ')))"], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const names = r.stdout.trim().split(' ');
    for (const n of [
      'run',
      'resume',
      'validate',
      'plan',
      'judge',
      'report',
      'merge',
      'gc',
      'doctor',
      'gate',
      'exportRun',
      'rolloutPlan',
      'InputError',
      'EXIT',
    ])
      expect(names, n).toContain(n);
  });

  it('validate returns the expanded scenarios; invalid input throws InputError (exit 2)', async () => {
    const ss = await validate(['scenarios/quickstart.yaml'], { kernel: false });
    expect(ss.map((s) => s.id)).toEqual(['quickstart']);
    const bad = await validate(['test/fixtures/scenarios/three-mistakes.yaml'], { kernel: false }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InputError);
    expect((bad as InputError).exitCode).toBe(EXIT.usage);
    expect((bad as InputError).problems).toHaveLength(3);
  });

  it('plan estimates without running; schema is the JSON Schema', () => {
    const p = plan(['scenarios/quickstart.yaml'], { trials: 4, shards: 2 });
    expect(p.scenarios).toHaveLength(1);
    expect(p.total.trials).toBe(2 * (4 + p.scenarios[0]!.warmup));
    expect(p.shards).toHaveLength(2);
    expect(typeof schema()).toBe('object');
  });
});
