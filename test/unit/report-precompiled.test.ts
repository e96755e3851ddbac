/**
 * report.html's precompiled templates (src/report/precompile.ts, written by `npm run build`) render
 * byte for byte what the templates compiled at run time render; a stale, foreign or missing copy is
 * not used.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRunDir, type RunData } from '../../src/report/index.js';
import { buildView } from '../../src/report/model.js';
import { loadPrecompiled, templateFrom } from '../../src/report/html.js';
import { precompiledModule } from '../../src/report/precompile.js';
import { css } from '../../src/report/templates/styles.js';

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = ['../fixtures/report/run', '../fixtures/report/sched-aa'].map((f) => join(here, f));

describe('precompiled report templates', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'netab-precompiled-'));
    writeFileSync(join(dir, 'compiled.cjs'), precompiledModule());
  });

  it('render the same page as the templates compiled at run time', async () => {
    const pre = loadPrecompiled(join(dir, 'compiled.cjs'));
    expect(pre).not.toBeNull();
    const fast = templateFrom(pre);
    const slow = templateFrom(null);
    for (const f of FIXTURES) {
      const data: RunData = await loadRunDir(f);
      const view = { ...buildView(data, { generatedAt: new Date('2025-01-01T00:00:00.000Z') }), css };
      const page = slow(view);
      expect(page.length).toBeGreaterThan(10_000);
      expect(fast(view)).toBe(page);
    }
  });

  it('are not used when built from other sources, damaged or missing', () => {
    const good = precompiledModule();
    const stale = join(dir, 'stale.cjs');
    writeFileSync(stale, good.replace(/digest: "[0-9a-f]{64}"/, `digest: "${'0'.repeat(64)}"`));
    expect(loadPrecompiled(stale)).toBeNull();
    const broken = join(dir, 'broken.cjs');
    writeFileSync(broken, good.slice(0, good.length / 2));
    expect(loadPrecompiled(broken)).toBeNull();
    expect(loadPrecompiled(join(dir, 'missing.cjs'))).toBeNull();
  });
});
