/**
 * A tiny 2x2 matrix run on the netns backend: sweep.csv and the pivots come out of a real run, and
 * `netab report` / `netab judge` rewrite sweep.csv byte for byte. Structural only (no bounds on the
 * measured values): 2 pairs per scenario are too few to judge, the files' shape is what is checked.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { netabCli, netabNamespaces, requirePrereqs } from '../helpers.js';

const ok = requirePrereqs();
const tmp = mkdtempSync(join(tmpdir(), 'netab-sweep-it-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const GRID = `
name: sweep
topology: dumbbell
links: { bottleneck: { delay: 5ms, rate: 10mbit } }
control: { cc: cubic }
canary: { cc: bbr }
workload: { type: bulk, duration: 1s }
trials: { pairs: 5, warmup: 0 }
fidelity: { enabled: false }
judge:
  exclude_suspect: false
  metrics: { rtt_p50: false, rtt_p99: false }
matrix:
  links.bottleneck.delay: [5ms, 20ms]
  links.bottleneck.rate: [10mbit, 20mbit]
`;

describe.skipIf(!ok)('sweep of a matrix run (netns)', () => {
  it('writes sweep.csv and the pivots; report and judge rewrite sweep.csv identically', async () => {
    const file = join(tmp, 'sweep.yaml');
    writeFileSync(file, GRID);
    const out = join(tmp, 'run');
    const r = await netabCli(['run', file, '--out', out, '--trials', '2', '--seed', '5', '-q'], { timeoutMs: 240_000 });
    // too few pairs to settle anything: HOLD (4); never an input or environment error
    expect([0, 1, 4]).toContain(r.status);
    const csv = readFileSync(join(out, 'sweep.csv'), 'utf8');
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe(
      'scenario,links.bottleneck.delay,links.bottleneck.rate,metric,unit,direction,control_median,canary_median,effect_pct,ci_low_pct,ci_high_pct,verdict,expected_pct',
    );
    // 4 scenarios x 2 metrics (goodput, retrans), then the final CRLF
    expect(lines).toHaveLength(1 + 4 * 2 + 1);
    // the id has a comma, so it is quoted: scenario id, then the dimensions as written, then the metric
    const row = (l: string) => /^"sweep\[delay=[^"]*\]",([^,]*),([^,]*),([^,]*),/.exec(l)?.slice(1).join(' ');
    expect(lines.slice(1, -1).map(row)).toEqual([
      '5ms 10mbit goodput',
      '5ms 10mbit retrans',
      '5ms 20mbit goodput',
      '5ms 20mbit retrans',
      '20ms 10mbit goodput',
      '20ms 10mbit retrans',
      '20ms 20mbit goodput',
      '20ms 20mbit retrans',
    ]);
    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(md).toContain('### Sweep: goodput ↑ (Mbit/s)');
    expect(md).toContain('| delay | rate=10mbit | rate=20mbit |');
    expect(md).toMatch(/^\| 5ms \| .+ \| .+ \|$/m);
    expect(md).toMatch(/^\| 20ms \| .+ \| .+ \|$/m);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('data-testid="pivot"');
    expect(html).toContain('rate&#x3D;20mbit');

    rmSync(join(out, 'sweep.csv'));
    expect((await netabCli(['report', out])).status).toBe(0);
    expect(readFileSync(join(out, 'sweep.csv'), 'utf8')).toBe(csv);
    writeFileSync(join(out, 'sweep.csv'), 'stale');
    expect([0, 1, 4]).toContain((await netabCli(['judge', out])).status);
    expect(readFileSync(join(out, 'sweep.csv'), 'utf8')).toBe(csv);
    expect(netabNamespaces()).toEqual([]);
  }, 300_000);
});
