import { cp, mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bdpBytes,
  loadRunDir,
  mathisMbit,
  parseResultsJsonl,
  renderHtml,
  renderJunit,
  renderMarkdown,
  renderReports,
  theoryFor,
  windowCapMbit,
  type RunData,
} from '../../src/report/index.js';
import { distributionChart, runOrderChart } from '../../src/report/charts.js';
import { timeSeriesChart } from '../../src/report/timeseries-chart.js';
import { escMd, escXml, shellQuote } from '../../src/report/format.js';
import { mulberry32, uniformAt } from '../../src/stats/random.js';
import type { RunManifest, Verdict } from '../../src/results/types.js';
import { all, parseXml } from '../fixtures/report/xml.js';

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURE = join(here, '../fixtures/report/run');
const XSS = '<script>alert(1)</script>';
const FIXED_TIME = new Date('2025-01-02T00:00:00Z');

/** Undo HTML entity escaping, to compare rendered text (Handlebars also escapes = ' and `). */
function text(html: string): string {
  return html.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot);/gi, (_, e: string) =>
    e[0] === '#'
      ? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1)))
      : ({ amp: '&', lt: '<', gt: '>', quot: '"' } as Record<string, string>)[e.toLowerCase()]!,
  );
}

let data: RunData;
let tmp: string;

beforeAll(async () => {
  data = await loadRunDir(FIXTURE);
  tmp = await mkdtemp(join(tmpdir(), 'netab-report-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('loadRunDir', () => {
  it('reads manifest, verdict, every trial and a telemetry summary', () => {
    expect(data.manifest.scenarios).toHaveLength(3);
    expect(data.verdict.scenarios).toHaveLength(3);
    expect(data.trials).toHaveLength(3 * 21 * 2);
    expect(data.telemetry).toEqual({ files: 2, bytes: expect.any(Number) });
    expect(data.warnings).toEqual([]);
  });

  it('tolerates a truncated last line, refuses a malformed middle line (the one run-directory policy)', () => {
    const good = JSON.stringify(data.trials[0]);
    const good2 = JSON.stringify(data.trials[1]);
    const warnings: string[] = [];
    const recs = parseResultsJsonl(`${good}\n${good2}\n{"type":"trial","scen`, warnings);
    expect(recs).toHaveLength(2);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/truncated last line/);
    expect(() => parseResultsJsonl(`${good}\nnot json\n${good2}\n`)).toThrow(/^results\.jsonl:2:1: not valid JSON/);
  });

  it('reports a missing verdict clearly', async () => {
    const dir = join(tmp, 'noverdict');
    await cp(FIXTURE, dir, { recursive: true });
    await rm(join(dir, 'verdict.json'));
    await expect(loadRunDir(dir)).rejects.toThrow(/verdict\.json/);
  });
});

describe('renderJunit', () => {
  const xml = () => renderJunit(data.verdict, { manifest: data.manifest, trials: data.trials });

  it('is well-formed XML with one testsuite per scenario and one testcase per metric', () => {
    const root = parseXml(xml());
    expect(root.name).toBe('testsuites');
    const suites = all(root, 'testsuite');
    expect(suites).toHaveLength(3);
    const cases = all(root, 'testcase');
    expect(cases).toHaveLength(9);
    for (const s of suites) expect(all(s, 'testcase')).toHaveLength(Number(s.attrs.tests));
    expect(root.attrs).toMatchObject({ tests: '9', failures: '1', errors: '1', skipped: '3' });
  });

  it('maps verdicts: REGRESSED -> failure with effect and interval, INCONCLUSIVE/NODATA -> skipped, ERROR -> error', () => {
    const root = parseXml(xml());
    const failures = all(root, 'failure');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.attrs.type).toBe('REGRESSED');
    expect(failures[0]!.attrs.message).toMatch(/^goodput REGRESSED, effect -8\.0 % \[-10\.2, -5\.8\], margin ±2\.0 %/);
    const skipped = all(root, 'skipped');
    expect(skipped.map((s) => s.attrs.message)).toEqual([
      expect.stringMatching(/^rtt_p50 INCONCLUSIVE, effect -0\.1 % \[-3\.5, \+3\.5\]/),
      expect.stringMatching(/^retrans_ratio: no data \(iperf3 reported no retransmit counter\)/),
      expect.stringMatching(/^goodput INCONCLUSIVE/),
    ]);
    const errors = all(root, 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.attrs.message).toContain('<img src=x onerror=alert(3)>');
  });

  it('escapes every user string and round-trips it', () => {
    const out = xml();
    expect(out).not.toContain(XSS);
    const suites = all(parseXml(out), 'testsuite');
    expect(suites[2]!.attrs.name).toBe(`${XSS} [label="quoted" & <b>bold</b> | pipe]`);
    const props = Object.fromEntries(all(suites[2]!, 'property').map((p) => [p.attrs.name, p.attrs.value]));
    expect(props['scenario.id']).toBe('xss[name=<script>alert(1)</script>]');
    expect(props['param.label']).toBe('"quoted" & <b>bold</b> | pipe');
  });

  it('gives a scenario ERROR without metric results an error testcase and drops XML-invalid characters', () => {
    const v: Verdict = {
      ...data.verdict,
      scenarios: [
        {
          id: 'bad\u0001',
          name: 'broken \u0007 setup',
          params: {},
          verdict: 'ERROR',
          pairs: 0,
          metrics: [],
          reasons: ['netns setup failed: "ip" exited 2 & <stderr>'],
        },
      ],
    };
    const root = parseXml(renderJunit(v));
    const cases = all(root, 'testcase');
    expect(cases).toHaveLength(1);
    expect(cases[0]!.attrs.name).toBe('(scenario)');
    expect(all(root, 'error')[0]!.attrs.message).toBe('netns setup failed: "ip" exited 2 & <stderr>');
    expect(all(root, 'testsuite')[0]!.attrs.name).toBe('broken  setup');
  });
});

describe('renderMarkdown', () => {
  const md = () => renderMarkdown(data.verdict, data.manifest);

  it('states the decision with the rule that fired', () => {
    const lines = md().split('\n');
    expect(lines[0]).toBe('## ❌ netab: ROLL BACK');
    expect(lines[2]).toMatch(/^\*\*Roll back: .*because scenario grid\\\[delay=40ms,loss=1%\\\]: critical metric goodput REGRESSED\.\*\*$/);
  });

  it('has a GFM matrix: header, separator, one row per scenario, same column count everywhere', () => {
    const rows = md()
      .split('### Sweep')[0]!
      .split('\n')
      .filter((l) => l.startsWith('|'));
    expect(rows).toHaveLength(2 + 3);
    const cols = (l: string) => l.replace(/\\\|/g, '').split('|').length;
    for (const r of rows) expect(cols(r)).toBe(cols(rows[0]!));
    expect(rows[0]).toBe(
      '| Scenario | path.delay | path.loss | label | Verdict | ★ goodput ↑ (Mbit/s) | rtt\\_p50 ↓ (ms) | retrans\\_ratio ↓ (ratio) |',
    );
    expect(rows[1]).toMatch(/^\| --- \| --- \| --- \| --- \| --- \| :---: \| :---: \| :---: \|$/);
    expect(rows[3]).toContain('🔴 -8.0 % \\[-10.2, -5.8\\]');
    expect(rows[3]).toContain('⚪ NODATA');
    expect(rows[4]).toContain('🟣 ERROR');
  });

  it('escapes HTML and table breaks in user text', () => {
    const out = md();
    expect(out).not.toMatch(/<script|<img|<b>/i);
    expect(out).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(out).toContain('\\| pipe');
    expect(escMd('a|b\nc `d` *e* [f](g)')).toBe('a\\|b c \\`d\\` \\*e\\* \\[f\\](g)');
  });
});

describe('renderHtml', () => {
  const html = () => renderHtml(data, { generatedAt: FIXED_TIME });

  it('puts the decision sentence first and a scenario x metric matrix after it', () => {
    const out = html();
    const d = out.indexOf('data-testid="decision"');
    const m = out.indexOf('data-testid="matrix"');
    expect(d).toBeGreaterThan(0);
    expect(m).toBeGreaterThan(d);
    expect(text(out)).toContain(
      'Roll back: the canary tuning made things worse, because scenario grid[delay=40ms,loss=1%]: critical metric goodput REGRESSED.',
    );
    const matrix = out.slice(m, out.indexOf('</table>', m));
    expect(matrix.match(/<tr>/g)).toHaveLength(1 + 3);
    expect(matrix).toContain('class="cell v-regressed"');
    expect(matrix).toContain('class="cell v-improved"');
    expect(matrix).toContain('class="cell v-inconclusive"');
    expect(matrix).toContain('class="cell v-nodata"');
    expect(matrix).toContain('class="cell v-error"');
    expect(matrix).toMatch(/−8\.0 %<\/span><span class="ci">\[−10\.2, −5\.8\]/);
  });

  it('escapes the hostile scenario name, params and reasons; has no script at all', () => {
    const out = html();
    expect(out).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(out).not.toMatch(/<script/i);
    expect(out).not.toMatch(/<img/i);
    expect(out).not.toMatch(/<b>bold/);
    expect(out).not.toMatch(/\son\w+\s*=/i); // no event-handler attributes anywhere
    expect(text(out)).toContain('relay telemetry missing <img src=x onerror=alert(2)>');
    expect(out).toMatch(/Content-Security-Policy" content="default-src 'none'/);
  });

  it('references nothing outside the file', () => {
    const out = html();
    expect(out).not.toMatch(/https?:\/\//i);
    expect(out).not.toMatch(/\b(?:src|xlink:href|action|formaction|poster|srcset|background)\s*=/i);
    for (const [, v] of out.matchAll(/\bhref="([^"]*)"/g)) expect(v).toMatch(/^#[\w-]+$/);
    expect(out).not.toMatch(/@import/i);
    expect(out).not.toMatch(/url\(/i);
    expect(out).not.toMatch(/<(?:link|iframe|object|embed|img|script)\b/i);
  });

  it('draws the charts: forest, distributions, run order, series with theory overlay', () => {
    const out = html();
    const svgs = out.match(/<svg /g) ?? [];
    // 3 scenarios: forest (pct + linear), theory bars, 3 series charts, 2 charts per metric with values
    expect(svgs.length).toBeGreaterThanOrEqual(3 * 2 + 3 + 9 + 2 * 7);
    expect(out).toContain('CUBIC response (RFC 9438) (both arms)'); // a reference, not a ceiling
    expect(out).toContain('1.77 Mbit/s'); // 1448 B, 80 ms, 1 %: CUBIC's Reno-friendly region = Mathis
    expect(out).not.toContain('expected ceiling');
    // no rate limit, a 64 KiB bottleneck buffer: the buffer caps nothing; the receive buffer does
    // (6291456 B / 50 ms = 1007 Mbit/s; kernel 6.1: tcp_adv_win_scale 1, half of it)
    expect(text(out)).toContain('<th>hard cap (both arms)</th><td>1007 Mbit/s (receive buffer / RTT)</td>');
    expect(out).toContain('BDP (rate × RTT)');
    expect(out).toContain('off scale: bottleneck rate 100');
  });

  it('shows environment and reproducibility: versions, engine, fidelity checks, readback diff, seed, hash, command', () => {
    const out = html();
    expect(out).toContain('6.1.0-28-amd64');
    expect(out).toContain('engine</th><td>netem (kernel netem available');
    expect(out).toContain('✗ out of tolerance');
    expect(out).toMatch(
      /<tr class="differs"><td class="mono">client\.net\.ipv4\.tcp_congestion_control<\/td><td class="mono">cubic<\/td><td class="mono">bbr<\/td><\/tr>/,
    );
    expect(out).toMatch(/<th>seed<\/th><td>1234<\/td>/);
    expect(out).toContain('sha256:677269645b64656c61793d31306d732c6c6f73733d30255d0000000000000000');
    expect(text(out)).toContain(`<code>netab run scenarios/grid.yaml --pairs 20 --label 'it'\\''s <ok>'</code>`);
    // fidelity without `checks` is rendered as key/value
    expect(out).toMatch(/<th>note<\/th><td>userspace relay; probe &lt;i&gt;ok&lt;\/i&gt;<\/td>/);
  });

  it('spends a small chart budget on the scenarios that did not pass first', () => {
    const out = renderHtml(data, { generatedAt: FIXED_TIME, chartBudgetBytes: 1 });
    const section = (id: string) =>
      out.slice(out.indexOf(`<section class="scenario" id="${id}">`), out.indexOf('</section>', out.indexOf(`id="${id}"`)));
    // s2 is REGRESSED: drawn first; s1 (IMPROVED) and s3 (ERROR, ranked after REGRESSED) are over budget
    expect(section('s2')).toContain('<svg ');
    expect(section('s1')).not.toContain('<svg ');
    expect(section('s1')).toContain('Charts are left out for this scenario');
    expect(section('s1')).toContain('<th>bottleneck rate</th>'); // the theory table stays
    expect(text(out)).toContain('Charts left out for 2 scenario(s)');
    // the matrix still has every cell
    expect(out.split('id="sweep"')[0]!.match(/class="cell v-/g)).toHaveLength(9);
  });

  it('is deterministic for a given generatedAt', () => {
    expect(html()).toBe(html());
  });

  it('lists manifest scenarios the judge never saw, and survives missing optional fields', () => {
    const manifest: RunManifest = {
      ...data.manifest,
      scenarios: [
        ...data.manifest.scenarios,
        {
          ...data.manifest.scenarios[0]!,
          id: 'late',
          name: 'late one',
          status: 'failed',
          error: 'topology: veth create failed',
          path: undefined,
          fidelity: undefined,
          readback: undefined,
        },
      ],
    };
    const out = renderHtml({ manifest, verdict: data.verdict, trials: [] }, { generatedAt: FIXED_TIME });
    expect(out).toContain('late one');
    expect(out).toContain('topology: veth create failed');
    expect(out.match(/<tr>/g)!.length).toBeGreaterThan(4);
  });
});

describe('failure test, multiplicity and re-runs', () => {
  /** The fixture with what the judge and the runner now write: a failure test, the scheme, replacements. */
  function withExtras(): RunData {
    const verdict: Verdict = structuredClone(data.verdict);
    const manifest: RunManifest = structuredClone(data.manifest);
    verdict.multiplicity = { scheme: 'gatekeeping', criticalShare: 2 / 3, tests: 12, scenarios: 3 };
    verdict.scenarios[0]!.failures = {
      control: { trials: 10, failed: 0, noData: 0 },
      canary: { trials: 10, failed: 0, noData: 0 },
      p: 1,
      pMin: 1,
      pAdjusted: null,
      verdict: 'NOT_SIGNIFICANT',
    };
    verdict.scenarios[1]!.failures = {
      control: { trials: 10, failed: 0, noData: 0 },
      canary: { trials: 10, failed: 2, noData: 1 },
      p: 0.1053,
      pMin: 0.1053,
      pAdjusted: null,
      verdict: 'NOT_SIGNIFICANT',
    };
    verdict.scenarios[2]!.failures = {
      control: { trials: 20, failed: 0, noData: 0 },
      canary: { trials: 20, failed: 8, noData: 0 },
      p: 0.0016,
      pMin: 0.0016,
      pAdjusted: 0.0033,
      verdict: 'REGRESSED',
    };
    manifest.scenarios[1]!.replacements = {
      budget: 4,
      used: 2,
      pairs: [
        { pair: 4, round: 1, reason: 'lateness 31 ms' },
        { pair: 9, round: 2, reason: `stall ${XSS}` },
      ],
      unreplaced: 1,
    };
    // the manifest is data: checks that are not objects, and fields of the wrong type, are skipped
    manifest.scenarios[2]!.fidelity = {
      checks: [
        { metric: 'rtt_p50', configured: 40, measured: 41.077, tolerance: '±0.5 ms', ok: false, unit: 'ms' },
        { metric: 'loss_round_trip', configured: 0.01, measured: 0.01, tolerance: 'binomial 99%: 0-12 of 500', ok: true, unit: 'ratio' },
        { metric: 'rate', configured: 50, measured: null, tolerance: XSS, ok: false, unit: 'Mbit/s' },
        null,
        'ok',
        { metric: { toString: 1 }, configured: '50', ok: false },
      ],
      ok: false,
    };
    return { ...data, verdict, manifest };
  }

  it('report.html: one line per scenario for the failure test and the re-runs, the scheme in the facts', () => {
    const d = withExtras();
    const out = renderHtml(d, { generatedAt: FIXED_TIME });
    const lines = [...out.matchAll(/<p class="failure-test ([^"]*)" data-testid="failure-test">([^<]*)<\/p>/g)].map((m) => [
      m[1],
      text(m[2]!),
    ]);
    // no failures and not significant: nothing to say for the first scenario
    expect(lines).toEqual([
      [
        '',
        'Failures: canary failed 3 of 10 trials (2 failed, 1 moved no data), control 0 of 10 (one-sided Fisher p 0.105, not in the multiplicity family): not significant',
      ],
      ['v-regressed', 'Failures: canary failed 8 of 20 trials, control 0 of 20 (one-sided Fisher p 0.0016, adjusted 0.0033): regressed'],
    ]);
    const reruns = [...out.matchAll(/data-testid="replacements">([^<]*)<\/p>/g)].map((m) => text(m[1]!));
    expect(reruns).toEqual([
      `Re-runs: 2 suspect pairs re-run (budget 4): pair 4 (lateness 31 ms), pair 9 (stall ${XSS}, round 2); 1 suspect pair left as they were (budget spent)`,
    ]);
    expect(out).not.toMatch(/<script/i);
    expect(text(out)).toContain('rollback tests adjusted by gatekeeping: 12 tests in 3 scenarios, critical family first (share 0.667)');
    // in the scenario's own section, after its facts
    const s2 = out.indexOf('id="s2"');
    expect(out.indexOf('data-testid="replacements"')).toBeGreaterThan(s2);
    expect(out.indexOf('data-testid="replacements"')).toBeLessThan(out.indexOf('id="s3"'));
  });

  it('summary.md: the scheme in the facts, a list of failures and re-runs per scenario', () => {
    const d = withExtras();
    const md = renderMarkdown(d.verdict, d.manifest);
    expect(md).toContain('rollback tests adjusted by gatekeeping: 12 tests in 3 scenarios, critical family first (share 0.667)');
    const lines = md.split('\n');
    const at = lines.indexOf('Failures, re-runs and path fidelity:');
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at + 2, at + 4)).toEqual([
      '- **grid**: canary failed 3 of 10 trials (2 failed, 1 moved no data), control 0 of 10 (one-sided Fisher p 0.105, not in the multiplicity family): not significant; 2 suspect pairs re-run (budget 4): pair 4 (lateness 31 ms), pair 9 (stall &lt;script&gt;alert(1)&lt;/script&gt;, round 2); 1 suspect pair left as they were (budget spent); ' +
        'path fidelity out of tolerance before the trials: loss configured 0.01, measured 0.0135 (±20 %)',
      '- **&lt;script&gt;alert(1)&lt;/script&gt;**: canary failed 8 of 20 trials, control 0 of 20 (one-sided Fisher p 0.0016, adjusted 0.0033): regressed; ' +
        'path fidelity out of tolerance before the trials: rtt\\_p50 configured 40 ms, measured 41.1 (±0.5 ms); ' +
        'rate configured 50 Mbit/s, measured none (&lt;script&gt;alert(1)&lt;/script&gt;); ? configured none, measured none',
    ]);
    expect(lines[at + 4]).toBe('');
    expect(md).not.toMatch(/<script/i);
  });

  it('runs without these fields render as before', () => {
    expect(renderHtml(data, { generatedAt: FIXED_TIME })).not.toMatch(/failure-test|data-testid="replacements"|gatekeeping/);
    const md = renderMarkdown(data.verdict, data.manifest);
    expect(md).not.toMatch(/failed \d+ of|suspect pair|gatekeeping/);
    // the fixture's second scenario missed its loss check before the trials: that is said
    const at = md.split('\n').indexOf('Failures, re-runs and path fidelity:');
    expect(md.split('\n').slice(at + 2, at + 4)).toEqual([
      '- **grid**: path fidelity out of tolerance before the trials: loss configured 0.01, measured 0.0135 (±20 %)',
      '',
    ]);
    const xml = renderJunit(data.verdict, { manifest: data.manifest });
    expect(xml.match(/name="fidelity"/g)).toHaveLength(1);
    expect(xml).toContain(
      '<property name="fidelity" value="path fidelity out of tolerance before the trials: loss configured 0.01, measured 0.0135 (±20 %)"/>',
    );
  });
});

describe('prng', () => {
  it('the chart jitter is the first draw of mulberry32 (one generator, in stats)', () => {
    for (const i of [0, 1, 7919, 104729, 2 ** 31 - 1, 2 ** 32 - 1, 123456789]) expect(uniformAt(i)).toBe(mulberry32(i)());
  });
});

describe('charts', () => {
  it('samples big strip plots at quantiles and bins big run-order plots', () => {
    const values = Array.from({ length: 10_000 }, (_, i) => 50 + Math.sin(i) * 10);
    const dist = distributionChart([{ label: 'control', color: '#000', values }], { title: 't', unit: 'u', maxPoints: 200 });
    expect(dist.match(/<circle/g) ?? []).toHaveLength(0); // big arms: one path of dots, no per-point elements
    expect(dist.match(/h0/g)).toHaveLength(200);
    expect(dist).toContain('200 points per arm shown (quantile sample)');
    expect(dist).toContain('n=10000');
    const order = runOrderChart([{ label: 'control', color: '#000', points: values.map((y, x) => ({ x, y })) }], {
      title: 't',
      unit: 'u',
      maxPoints: 300,
    });
    expect(order.match(/<circle/g) ?? []).toHaveLength(0);
    expect(order).toContain('binned: median and 10–90 % band');
    expect(order.length).toBeLessThan(20_000);
  });

  it('escapes labels inside SVG', () => {
    const svg = timeSeriesChart(
      [
        {
          label: XSS,
          color: '#000',
          points: [
            [0, 1],
            [1, 2],
          ],
          legend: true,
        },
      ],
      [{ value: 2, label: '<b>x</b>', color: '#000' }],
      { title: XSS, yLabel: '&' },
    );
    expect(svg).not.toContain('<script');
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('&lt;script&gt;');
  });
});

describe('theory', () => {
  it('computes BDP, the Mathis bound and the window cap', () => {
    expect(bdpBytes(100, 20)).toBeCloseTo(250_000, 6);
    expect(mathisMbit(1448, 80, 0.01)).toBeCloseTo((((1448 * 8) / 0.08) * Math.sqrt(150)) / 1e6, 9);
    expect(mathisMbit(1448, 80, 0.01)).toBeCloseTo(1.7734, 3);
    expect(windowCapMbit(65536, 50)).toBeCloseTo(10.48576, 5);
    const t = theoryFor(data.manifest.scenarios[1])!;
    expect(t.mathisMbit).toBeCloseTo(1.7734, 3);
    expect(t.arms.map((a) => a.hardCapBy)).toEqual(['bottleneck rate', 'bottleneck rate']);
    expect(t.bdpPackets).toBeCloseTo(1_000_000 / 1448, 6);
    expect(theoryFor(data.manifest.scenarios[2])!.arms[0]!.hardCapBy).toBe('receive buffer / RTT');
    expect(theoryFor({ ...data.manifest.scenarios[0]!, path: undefined })).toBeNull();
  });
});

describe('format', () => {
  it('escapes for XML and quotes shell arguments', () => {
    expect(escXml(`<a href="x">'&'</a>\u0000`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(shellQuote(['netab', 'run', 'a b.yaml', "it's"])).toBe(`netab run 'a b.yaml' 'it'\\''s'`);
  });
});

describe('renderReports', () => {
  it('writes report.html, junit.xml and summary.md into the run dir and appends to GITHUB_STEP_SUMMARY', async () => {
    const dir = join(tmp, 'run');
    await cp(FIXTURE, dir, { recursive: true });
    // a run killed mid-append leaves a partial last line
    await appendFile(join(dir, 'results.jsonl'), '{"type":"trial","runId":"x","scen');
    const summary = join(tmp, 'step-summary.md');
    await writeFile(summary, '# earlier step\n');
    const prev = process.env.GITHUB_STEP_SUMMARY;
    process.env.GITHUB_STEP_SUMMARY = summary;
    try {
      const paths = await renderReports(dir);
      expect(paths).toEqual({
        html: join(dir, 'report.html'),
        junit: join(dir, 'junit.xml'),
        markdown: join(dir, 'summary.md'),
        sweep: join(dir, 'sweep.csv'),
      });
    } finally {
      if (prev === undefined) delete process.env.GITHUB_STEP_SUMMARY;
      else process.env.GITHUB_STEP_SUMMARY = prev;
    }
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('ignored a truncated last line');
    expect(all(parseXml(await readFile(join(dir, 'junit.xml'), 'utf8')), 'testcase')).toHaveLength(9);
    const md = await readFile(join(dir, 'summary.md'), 'utf8');
    expect(await readFile(summary, 'utf8')).toBe(`# earlier step\n${md}`);
  });

  it('does not touch GITHUB_STEP_SUMMARY when told not to', async () => {
    const dir = join(tmp, 'run2');
    await cp(FIXTURE, dir, { recursive: true });
    const summary = join(tmp, 'untouched.md');
    await writeFile(summary, 'x');
    await renderReports(dir, { githubStepSummary: false });
    expect(await readFile(summary, 'utf8')).toBe('x');
  });
});
