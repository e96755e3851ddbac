import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderMarkdown, renderReports } from '../../src/report/index.js';
import { csvField, renderSweepCsv } from '../../src/report/sweep-csv.js';
import { MAX_PIVOT_CELLS, sweepPivots } from '../../src/report/sweep.js';
import type { MetricResult, RunManifest, Verdict } from '../../src/results/types.js';
import { fixtureScenarios, writeRun } from '../fixtures/report/generate.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'netab-sweep-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const DELAY = 'links.bottleneck.delay';
const LOSS = 'links.bottleneck.forward.loss';

type Arm = { median: number | null };
/** A metric result with hand-picked numbers (the fields the sweep reads; the rest neutral). */
function metric(
  name: 'goodput' | 'retrans_ratio',
  ctl: Arm['median'],
  can: Arm['median'],
  effect: number | null,
  ci: [number, number] | null,
  pct: { effectPct: number | null; ciPct: [number, number] | null },
  verdict: MetricResult['verdict'],
): MetricResult {
  const log = name === 'goodput';
  return {
    name,
    direction: log ? 'higher' : 'lower',
    unit: log ? 'Mbit/s' : 'ratio',
    margin: log ? { kind: 'relative', value: 0.02 } : { kind: 'absolute', value: 0.002 },
    critical: log,
    control: { n: 10, median: ctl, dropped: 0, droppedWhy: [] },
    canary: { n: 10, median: can, dropped: 0, droppedWhy: [] },
    effect,
    effectPct: pct.effectPct,
    ci,
    ciPct: pct.ciPct,
    method: 'paired',
    p: null,
    pAdjusted: null,
    scale: log ? 'log' : 'linear',
    cliffsDelta: null,
    verdict,
  };
}

/**
 * The 2x2 fixture: delay {10ms, 50ms} x loss {0%, 1%}. goodput is log scale (the judge's percent
 * fields are used as they are); retrans_ratio is linear with no percent fields, so the sweep
 * computes them as 100 * effect / |control median| (none when the control median is 0).
 */
const GRID: { delay: string; loss: string; metrics: MetricResult[]; verdict: Verdict['scenarios'][number]['verdict'] }[] = [
  {
    delay: '10ms',
    loss: '0%',
    verdict: 'IMPROVED',
    metrics: [
      metric('goodput', 90, 99, Math.log(1.1), [Math.log(1.05), Math.log(1.15)], { effectPct: 10, ciPct: [5, 15] }, 'IMPROVED'),
      // lower is better: canary 0.001 vs control 0.002 is +0.001, i.e. +50 % of the control median
      metric('retrans_ratio', 0.002, 0.001, 0.001, [0.0005, 0.0015], { effectPct: null, ciPct: null }, 'PASS'),
    ],
  },
  {
    delay: '10ms',
    loss: '1%',
    verdict: 'REGRESSED',
    metrics: [
      metric('goodput', 50, 45, Math.log(0.9), [Math.log(0.875), Math.log(0.925)], { effectPct: -10, ciPct: [-12.5, -7.5] }, 'REGRESSED'),
      metric('retrans_ratio', 0.01, 0.02, -0.01, [-0.015, -0.005], { effectPct: null, ciPct: null }, 'REGRESSED'),
    ],
  },
  {
    delay: '50ms',
    loss: '0%',
    verdict: 'INCONCLUSIVE',
    metrics: [
      metric('goodput', 80, 81.6, Math.log(1.02), [Math.log(0.99), Math.log(1.05)], { effectPct: 2, ciPct: [-1, 5] }, 'INCONCLUSIVE'),
      metric('retrans_ratio', 0, 0, 0, [0, 0], { effectPct: null, ciPct: null }, 'PASS'),
    ],
  },
  {
    delay: '50ms',
    loss: '1%',
    verdict: 'INCONCLUSIVE',
    metrics: [
      metric('goodput', null, null, null, null, { effectPct: null, ciPct: null }, 'NODATA'),
      metric('retrans_ratio', 0.0125, 0.0125, 0, [-0.0025, 0.0025], { effectPct: null, ciPct: null }, 'PASS'),
    ],
  },
];

/** A run directory of the 2x2 matrix: trials from the report fixture generator, the verdict replaced by GRID. */
function gridRun(name: string): string {
  const dir = join(tmp, name);
  const base = fixtureScenarios()[0]!;
  writeRun(dir, {
    pairs: 4,
    seriesPoints: 0,
    telemetry: false,
    scenarios: GRID.map((g) => ({
      ...structuredClone(base),
      id: `grid[delay=${g.delay},loss=${g.loss}]`,
      params: { [DELAY]: g.delay, [LOSS]: g.loss },
    })),
  });
  const verdict = JSON.parse(readFileSync(join(dir, 'verdict.json'), 'utf8')) as Verdict;
  verdict.scenarios.forEach((s, i) => {
    s.metrics = GRID[i]!.metrics;
    s.verdict = GRID[i]!.verdict;
  });
  writeFileSync(join(dir, 'verdict.json'), JSON.stringify(verdict));
  return dir;
}

// expected_pct: both arms of the fixture have the same profile, so theory expects no change (0)
const GRID_CSV = [
  'scenario,links.bottleneck.delay,links.bottleneck.forward.loss,metric,unit,direction,control_median,canary_median,effect_pct,ci_low_pct,ci_high_pct,verdict,expected_pct',
  '"grid[delay=10ms,loss=0%]",10ms,0%,goodput,Mbit/s,higher,90,99,10,5,15,IMPROVED,0',
  '"grid[delay=10ms,loss=0%]",10ms,0%,retrans_ratio,ratio,lower,0.002,0.001,50,25,75,PASS,',
  '"grid[delay=10ms,loss=1%]",10ms,1%,goodput,Mbit/s,higher,50,45,-10,-12.5,-7.5,REGRESSED,0',
  '"grid[delay=10ms,loss=1%]",10ms,1%,retrans_ratio,ratio,lower,0.01,0.02,-100,-150,-50,REGRESSED,',
  '"grid[delay=50ms,loss=0%]",50ms,0%,goodput,Mbit/s,higher,80,81.6,2,-1,5,INCONCLUSIVE,0',
  '"grid[delay=50ms,loss=0%]",50ms,0%,retrans_ratio,ratio,lower,0,0,,,,PASS,',
  '"grid[delay=50ms,loss=1%]",50ms,1%,goodput,Mbit/s,higher,,,,,,NODATA,0',
  '"grid[delay=50ms,loss=1%]",50ms,1%,retrans_ratio,ratio,lower,0.0125,0.0125,0,-20,20,PASS,',
  '',
].join('\r\n');

describe('sweep.csv of a 2x2 matrix run', () => {
  const dir = gridRun('grid');

  it('renderReports writes it: one row per scenario x metric, dimensions as written, CRLF lines', async () => {
    const paths = await renderReports(dir, { githubStepSummary: false });
    expect(paths.sweep).toBe(join(dir, 'sweep.csv'));
    expect(readFileSync(join(dir, 'sweep.csv'), 'utf8')).toBe(GRID_CSV);
  });

  it('summary.md has the pivot of the primary metric: delay rows, loss columns', async () => {
    await renderReports(dir, { githubStepSummary: false });
    const md = readFileSync(join(dir, 'summary.md'), 'utf8');
    const at = md.indexOf('### Sweep: goodput ↑ (Mbit/s)');
    expect(at).toBeGreaterThan(0);
    expect(md.slice(at).split('\n').slice(0, 7)).toEqual([
      '### Sweep: goodput ↑ (Mbit/s)',
      '',
      '| delay | loss=0% | loss=1% |',
      '| --- | :---: | :---: |',
      '| 10ms | 🟢 +10.0 % <sub>\\[+5.0, +15.0\\]</sub> <sub>theory 0.0 %</sub> | 🔴 -10.0 % <sub>\\[-12.5, -7.5\\]</sub> <sub>theory 0.0 %</sub> |',
      '| 50ms | 🟡 +2.0 % <sub>\\[-1.0, +5.0\\]</sub> <sub>theory 0.0 %</sub> | ⚪ NODATA <sub>theory 0.0 %</sub> |',
      '',
    ]);
    expect(md).toContain('rows: delay (`links.bottleneck.delay`); columns: loss (`links.bottleneck.forward.loss`)');
  });

  it('report.html has the pivot with dimension labels, verdict colours and the CI in small text; still no script', async () => {
    await renderReports(dir, { githubStepSummary: false });
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    const pivot = /<table class="matrix pivot" data-testid="pivot">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
    // Handlebars escapes = as &#x3D;
    const head = [...pivot.matchAll(/<th[^>]*>([^<]*)<\/th>/g)].map((m) => m[1]!.replace(/&#x3D;/g, '='));
    expect(head).toEqual(['delay', 'loss=0%', 'loss=1%', '10ms', '50ms']);
    const cells = [...pivot.matchAll(/<td class="cell ([\w-]+)"[^>]*>(.*?)<\/td>/g)].map((m) => [m[1], m[2]!.replace(/<[^>]+>/g, '|')]);
    expect(cells).toEqual([
      ['v-improved', '|▲ +10.0 %||[+5.0, +15.0]||theory 0.0 %|'],
      ['v-regressed', '|✗ −10.0 %||[−12.5, −7.5]||theory 0.0 %|'],
      ['v-inconclusive', '|? +2.0 %||[−1.0, +5.0]||theory 0.0 %|'],
      ['v-nodata', '|∅ NODATA||||theory 0.0 %|'],
    ]);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain("script-src 'none'");
  });

  it('netab report and netab judge re-render it the same way (a stale file is replaced)', async () => {
    writeFileSync(join(dir, 'sweep.csv'), 'stale\r\n');
    await renderReports(dir, { githubStepSummary: false });
    expect(readFileSync(join(dir, 'sweep.csv'), 'utf8')).toBe(GRID_CSV);
  });

  it('the theory hook: expected_pct in the CSV and "theory" next to the effect in the pivot', async () => {
    const verdict = JSON.parse(readFileSync(join(dir, 'verdict.json'), 'utf8')) as Verdict;
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as RunManifest;
    const expected = (id: string, m: string) => (m === 'goodput' && id.includes('delay=10ms') ? 12.5 : null);
    const csv = renderSweepCsv(verdict, manifest, expected)!.split('\r\n');
    expect(csv[1]).toBe('"grid[delay=10ms,loss=0%]",10ms,0%,goodput,Mbit/s,higher,90,99,10,5,15,IMPROVED,12.5');
    expect(csv[2]!.endsWith(',PASS,')).toBe(true);
    const [p] = sweepPivots(verdict, manifest, { expected });
    expect(p!.rows.map((r) => r.cells.map((c) => c.expected))).toEqual([
      ['theory +12.5 %', 'theory +12.5 %'],
      [null, null],
    ]);
    // wired end to end through renderReports' options
    const out = join(tmp, 'hook-out');
    mkdirSync(out);
    await renderReports(dir, { githubStepSummary: false, outDir: out, expected });
    expect(readFileSync(join(out, 'sweep.csv'), 'utf8').split('\r\n')[1]!.endsWith(',IMPROVED,12.5')).toBe(true);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain(
      '| 10ms | 🟢 +10.0 % <sub>\\[+5.0, +15.0\\]</sub> <sub>theory +12.5 %</sub> | 🔴 -10.0 % <sub>\\[-12.5, -7.5\\]</sub> <sub>theory +12.5 %</sub> |',
    );
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<span class="ci">theory +12.5 %</span>');
  });

  it('a run without matrix coordinates writes no sweep.csv and no pivot', async () => {
    const plain = join(tmp, 'plain');
    writeRun(plain, { pairs: 3, seriesPoints: 0, telemetry: false, scenarios: [{ ...fixtureScenarios()[0]!, id: 'plain', params: {} }] });
    const paths = await renderReports(plain, { githubStepSummary: false });
    expect(paths.sweep).toBeNull();
    expect(() => readFileSync(join(plain, 'sweep.csv'))).toThrow(/ENOENT/);
    expect(readFileSync(join(plain, 'summary.md'), 'utf8')).not.toContain('### Sweep');
  });
});

/** In-memory verdict + manifest of a matrix (no run directory needed for the pivot layout). */
function matrixRun(dims: Record<string, string[]>, report?: NonNullable<RunManifest['scenarios'][number]['report']>) {
  const keys = Object.keys(dims);
  let points: Record<string, string>[] = [{}];
  for (const k of keys) points = points.flatMap((p) => dims[k]!.map((v) => ({ ...p, [k]: v })));
  const effect = (i: number) => i - 2; // -2, -1, 0, +1, ...
  const scen = points.map((params, i) => ({ id: `m${i}`, name: 'm', params, i }));
  const verdict = {
    format: 'netab-verdict/1',
    runId: 'r',
    decision: 'hold',
    reasons: [],
    alpha: 0.05,
    judgedAt: '',
    netabVersion: '',
    scenarios: scen.map((s) => ({
      id: s.id,
      name: s.name,
      params: s.params,
      verdict: 'PASS',
      pairs: 10,
      reasons: [],
      metrics: [metric('goodput', 10, 10, 0, [0, 0], { effectPct: effect(s.i), ciPct: [effect(s.i) - 1, effect(s.i) + 1] }, 'PASS')],
    })),
  } as unknown as Verdict;
  const manifest = {
    scenarios: scen.map((s) => ({
      id: s.id,
      name: s.name,
      params: s.params,
      judge: { primary: 'goodput' },
      ...(report ? { report } : {}),
    })),
  } as unknown as RunManifest;
  return { verdict, manifest };
}

describe('sweep pivots with three dimensions', () => {
  const dims = {
    'links.bottleneck.delay': ['10ms', '50ms'],
    'links.bottleneck.rate': ['5mbit', '50mbit'],
    'workload.size': ['45KB', '1MB'],
  };

  it('by default the last dimension is the columns and the others are row headers', () => {
    const { verdict, manifest } = matrixRun(dims);
    const ps = sweepPivots(verdict, manifest);
    expect(ps).toHaveLength(1);
    expect(ps[0]!.rowDims.map((d) => d.label)).toEqual(['delay', 'rate']);
    expect(ps[0]!.cols).toEqual(['size=45KB', 'size=1MB']);
    expect(ps[0]!.fixed).toBe('');
    expect(ps[0]!.rows.map((r) => [...r.heads, ...r.cells.map((c) => c.text)])).toEqual([
      ['10ms', '5mbit', '-2.0 %', '-1.0 %'],
      ['10ms', '50mbit', '0.0 %', '+1.0 %'],
      ['50ms', '5mbit', '+2.0 %', '+3.0 %'],
      ['50ms', '50mbit', '+4.0 %', '+5.0 %'],
    ]);
    // sweep.csv has all three dimensions as columns
    expect(renderSweepCsv(verdict, manifest)!.split('\r\n')[1]).toBe('m0,10ms,5mbit,45KB,goodput,Mbit/s,higher,10,10,-2,-3,-1,PASS,');
  });

  it('report.pivot rows + cols leaving a dimension out: one pivot per value of it', () => {
    const { verdict, manifest } = matrixRun(dims, { pivot: { rows: ['workload.size'], cols: ['links.bottleneck.rate'] } });
    const ps = sweepPivots(verdict, manifest);
    expect(ps.map((p) => p.fixed)).toEqual(['delay=10ms', 'delay=50ms']);
    expect(ps[1]!.rowDims.map((d) => d.label)).toEqual(['size']);
    expect(ps[1]!.cols).toEqual(['rate=5mbit', 'rate=50mbit']);
    expect(ps[1]!.rows.map((r) => [...r.heads, ...r.cells.map((c) => c.text)])).toEqual([
      ['45KB', '+2.0 %', '+4.0 %'],
      ['1MB', '+3.0 %', '+5.0 %'],
    ]);
  });

  it('report.pivot with only cols: the other dimensions are the rows', () => {
    const { verdict, manifest } = matrixRun(dims, { pivot: { cols: ['links.bottleneck.delay'] } });
    const [p, more] = sweepPivots(verdict, manifest);
    expect(more).toBeUndefined();
    expect(p!.rowDims.map((d) => d.label)).toEqual(['rate', 'size']);
    expect(p!.cols).toEqual(['delay=10ms', 'delay=50ms']);
    expect(p!.rows[0]!.cells.map((c) => c.text)).toEqual(['-2.0 %', '+2.0 %']);
  });

  it('suite files sharing dimensions form one sweep; scenarios at the same coordinates get a scenario row dimension', () => {
    const a = matrixRun({ 'links.bottleneck.delay': ['10ms', '50ms'] });
    const b = matrixRun({ 'links.bottleneck.delay': ['10ms', '50ms'] });
    const bScen = b.verdict.scenarios.map((s) => ({ ...s, id: `other-${s.id}`, name: 'other' }));
    const verdict = { ...a.verdict, scenarios: [...a.verdict.scenarios, ...bScen] } as Verdict;
    const manifest = {
      scenarios: [...a.manifest.scenarios, ...b.manifest.scenarios.map((s) => ({ ...s, id: `other-${s.id}`, name: 'other' }))],
    } as RunManifest;
    const ps = sweepPivots(verdict, manifest);
    expect(ps).toHaveLength(1);
    expect(ps[0]!.rowDims.map((d) => d.label)).toEqual(['scenario']);
    expect(ps[0]!.cols).toEqual(['delay=10ms', 'delay=50ms']);
    expect(ps[0]!.rows.map((r) => r.heads)).toEqual([['m'], ['other']]);
  });
});

describe('pivot size', () => {
  it('a pivot over MAX_PIVOT_CELLS cells is named, not drawn (sweep.csv still has every row)', () => {
    const vals = (n: number, u: string) => Array.from({ length: n }, (_, i) => `${i + 1}${u}`);
    const { verdict, manifest } = matrixRun({ a: vals(51, 'ms'), b: vals(50, 'mbit') });
    const [p] = sweepPivots(verdict, manifest);
    expect(MAX_PIVOT_CELLS).toBe(2500);
    expect(p!.tooBig).toBe(51 * 50);
    expect(p!.rows).toEqual([]);
    expect(renderMarkdown(verdict, manifest)).toContain('2550 cells: too many to show here; every row is in sweep.csv.');
    expect(renderSweepCsv(verdict, manifest)!.split('\r\n')).toHaveLength(1 + 2550 + 1);
    // 50 x 50 = 2500 cells are drawn
    const small = matrixRun({ a: vals(50, 'ms'), b: vals(50, 'mbit') });
    expect(sweepPivots(small.verdict, small.manifest)[0]!.rows).toHaveLength(50);
  });
});

describe('CSV escaping (scenario names and matrix values are user input)', () => {
  it('quotes per RFC 4180 and defuses spreadsheet formulas in text cells', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\tcmd')).toBe("'\tcmd");
    // numbers netab computed stay numbers, negative ones included
    expect(csvField(-3.5)).toBe('-3.5');
    expect(csvField(-0)).toBe('0');
    expect(csvField(null)).toBe('');
    expect(csvField(Number.NaN)).toBe('');
  });

  it('a hostile scenario id and matrix value reach sweep.csv defused', () => {
    const { verdict, manifest } = matrixRun({ label: ['=1+2', '@x,"y"'] });
    verdict.scenarios[0]!.id = '=cmd|/c calc!A1';
    manifest.scenarios[0]!.id = '=cmd|/c calc!A1';
    const lines = renderSweepCsv(verdict, manifest)!.split('\r\n');
    expect(lines[0]).toBe(
      'scenario,label,metric,unit,direction,control_median,canary_median,effect_pct,ci_low_pct,ci_high_pct,verdict,expected_pct',
    );
    expect(lines[1]).toBe("'=cmd|/c calc!A1,'=1+2,goodput,Mbit/s,higher,10,10,-2,-3,-1,PASS,");
    expect(lines[2]).toBe(`m1,"'@x,""y""",goodput,Mbit/s,higher,10,10,-1,-2,0,PASS,`);
  });
});
