/**
 * Link schedules in the report: the timeline and phases from the manifest, the telemetry parts the
 * report reads (relay and netem formats), per-phase delivered vs scheduled with its flags, and the
 * rendered section — on a small synthetic run directory (hand-computed values) and on a real relay
 * run (test/fixtures/report/sched-aa: the A/A run of docs/schedules.md, 50 -> 5 Mbit/s at 2 s, a
 * 200 ms outage at 3 s, a ramp back to 50 Mbit/s over 500 ms at 4 s, bulk 5 s).
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRunDir, renderHtml, renderJunit, renderMarkdown } from '../../src/report/index.js';
import {
  capacityBytes,
  type DirTelemetry,
  phaseFidelity,
  phases,
  type ScheduledDirection,
  scheduledDirections,
  scheduleTelemetry,
  timeline,
} from '../../src/report/schedule.js';
import { overlayFor, scheduleFidelityNotes, scheduleSection } from '../../src/report/schedule-view.js';
import type { ManifestScenario, RunManifest } from '../../src/results/types.js';

const here = dirname(fileURLToPath(import.meta.url));
const AA = join(here, '../fixtures/report/sched-aa');
const LINK = 'bn<script>x</script>';

/** 8 Mbit/s (100,000 B per 100 ms), 4 Mbit/s at 200 ms, a 100 ms outage at 400 ms, a ramp back over 100 ms at 500 ms. */
const DIRECTION: ScheduledDirection = {
  link: LINK,
  dir: 'forward',
  base: { delayMs: 20, rateBps: 8e6 },
  schedule: {
    steps: [
      { atMs: 200, set: { rateBps: 4e6 } },
      { atMs: 400, set: {}, outageMs: 100 },
      { atMs: 500, set: { rateBps: 8e6 }, overMs: 100 },
    ],
  },
};

// per trial, bytes per 100 ms window; hand-picked around the allowance (schedule + 1514 B)
const DELIVERED = {
  '#0-control': [100000, 101514, 50000, 50000, 0, 72500, 100000, 100000], // bin 1 exactly at the allowance: not over
  '#0-canary': [90000, 100000, 50000, 51515, 0, 74015, 100000, 99000], // bins 3 and 5 over by 1 B
  '#1-control': [100000, 100000, 60000, 50000, 1, 70000, 100000, 100000], // bin 2 over by 8486 B, 1 B in the outage
  '#1-canary': [100000, 100000, 50000, 50000, 0, 72500, 100000, 100000, 12345], // netem format; bin 8 after the workload
};

describe('schedule model', () => {
  it('the timeline integrates to the schedule (the ramp in its 10 ms steps)', () => {
    const segs = timeline(DIRECTION, 800);
    expect(segs.slice(0, 4)).toEqual([
      { t0: 0, t1: 200, rateBps: 8e6, delayMs: 20, loss: 0, outage: false },
      { t0: 200, t1: 400, rateBps: 4e6, delayMs: 20, loss: 0, outage: false },
      { t0: 400, t1: 500, rateBps: 4e6, delayMs: 20, loss: 0, outage: true },
      { t0: 500, t1: 510, rateBps: 4e6, delayMs: 20, loss: 0, outage: false },
    ]);
    expect(segs).toHaveLength(14);
    expect(segs[12]).toEqual({ t0: 590, t1: 600, rateBps: 7.6e6, delayMs: 20, loss: 0, outage: false });
    // 10 ms at 4.0, 4.4, ..., 7.6 Mbit/s = 580,000 bit
    expect(capacityBytes(segs, 500, 600)).toBe(72500);
    expect(capacityBytes(segs, 400, 500)).toBe(0);
    expect(capacityBytes(segs, 150, 250)).toBe(75000);
  });

  it('phases: between changes, a ramp and an outage one phase each; repeat pools the cycles', () => {
    expect(phases(DIRECTION, 800).map((p) => [p.t0, p.t1, p.kind, p.rate, p.starts])).toEqual([
      [0, 200, 'steady', [8e6, 8e6], [0]],
      [200, 400, 'steady', [4e6, 4e6], [200]],
      [400, 500, 'outage', [0, 0], [400]],
      [500, 600, 'ramp', [4e6, 8e6], [500]],
      [600, 800, 'steady', [8e6, 8e6], [600]],
    ]);
    const rep: ScheduledDirection = { ...DIRECTION, schedule: { steps: [{ atMs: 100, set: {}, outageMs: 100 }], repeatMs: 300 } };
    expect(phases(rep, 800).map((p) => [p.t0, p.t1, p.kind, p.starts])).toEqual([
      [0, 100, 'steady', [0, 300, 600]],
      [100, 200, 'outage', [100, 400, 700]],
      [200, 300, 'steady', [200, 500]],
    ]);
  });

  it('reads the schedule parts of relay and netem telemetry, ignores the rest', () => {
    const relay = [
      { link: 'l', stats: { forward: { bytesOut: 1, schedule: { changes: [{}, {}], deliveredBinMs: 100, delivered: [1, 2] } } } },
    ];
    const netem = [
      {
        link: 'l',
        stats: { engine: 'netem', schedule: { forward: { changes: [{}] }, reverse: { changes: [] } }, deliveredBinMs: 50, delivered: [3] },
      },
    ];
    expect(scheduleTelemetry(relay)).toEqual([{ link: 'l', dir: 'forward', binMs: 100, delivered: [1, 2], changes: 2 }]);
    expect(scheduleTelemetry(netem)).toEqual([
      { link: 'l', dir: 'forward', binMs: 50, delivered: [3], changes: 1 },
      { link: 'l', dir: 'reverse', binMs: 50, delivered: [], changes: 0 },
    ]);
    expect(scheduleTelemetry({ link: 'l' })).toEqual([]);
    expect(scheduleTelemetry([{ link: 'l', stats: { forward: { schedule: { delivered: ['x'] } } } }])).toEqual([
      { link: 'l', dir: 'forward', binMs: 100, delivered: [], changes: 0 },
    ]);
  });

  it('per phase: median and max over the full windows, flags over schedule + 1 frame and bytes in an outage', () => {
    const tele: DirTelemetry[] = Object.values(DELIVERED).map((delivered) => ({
      link: LINK,
      dir: 'forward',
      binMs: 100,
      delivered,
      changes: 13,
    }));
    const f = phaseFidelity(DIRECTION, 800, tele);
    expect(
      f.map((x) => [
        x.windows,
        x.trials,
        x.medianBps,
        x.maxBps,
        x.meanBps,
        x.capMinBps,
        x.capMaxBps,
        x.medianShare,
        x.over,
        x.worstExcessBytes,
      ]),
    ).toEqual([
      [8, 4, 8e6, 101514 * 80, 7915140, 8e6, 8e6, 1, 0, 0],
      [8, 4, 4e6, 60000 * 80, 4115150, 4e6, 4e6, 1, 2, 8486],
      [4, 4, 0, 80, 20, 0, 0, null, 1, 1],
      [4, 4, 5.8e6, 74015 * 80, 5780300, 5.8e6, 5.8e6, 1, 1, 1],
      [8, 4, 8e6, 8e6, 7990000, 8e6, 8e6, 1, 0, 0],
    ]);
  });
});

describe('schedule view', () => {
  it('overlay: one band per outage per cycle, marks for steps, the rate as a step line (an outage at 0)', () => {
    const rep: ScheduledDirection = {
      ...DIRECTION,
      schedule: {
        steps: [
          { atMs: 100, set: { rateBps: 2e6 } },
          { atMs: 200, set: {}, outageMs: 50 },
        ],
        repeatMs: 300,
      },
    };
    const o = overlayFor([rep], 700, rep);
    expect(o.bands.map((b) => [b.x0, b.x1, b.kind, b.label])).toEqual([
      [0.2, 0.25, 'outage', 'outage 50 ms'],
      [0.5, 0.55, 'outage', 'outage 50 ms'],
    ]);
    expect(o.marks).toEqual([
      { x: 0.1, label: '2 Mbit/s' },
      { x: 0.4, label: '2 Mbit/s' },
    ]);
    expect(o.rate!.points.slice(0, 8)).toEqual([
      [0, 8],
      [0.1, 8],
      [0.1, 2],
      [0.2, 2],
      [0.2, 0],
      [0.25, 0],
      [0.25, 2],
      [0.3, 2],
    ]);
    expect(o.rate!.points.at(-1)).toEqual([0.7, 8]);
  });

  it('without delivered bytes in the telemetry: the schedule, no flags, and a sentence saying why', () => {
    const man = {
      id: 's',
      name: 's',
      params: {},
      hash: '',
      judge: {},
      engine: { name: 'netem', reason: '' },
      scenario: {
        links: { l: { forward: { rateBps: 8e6, schedule: DIRECTION.schedule } } },
        workload: { type: 'bulk', durationS: 1, omitS: 0 },
      },
    } as unknown as ManifestScenario;
    const sec = scheduleSection(man, [], true, new Map(), 3, true)!;
    const traced = structuredClone(man) as unknown as { scenario: { links: { l: { forward: Record<string, unknown> } } } };
    traced.scenario.links.l.forward.trace = { forward: 'traces/x' };
    const t = scheduledDirections(traced as unknown as ManifestScenario);
    expect([t[0]!.traced, t[0]!.base.rateBps, phases(t[0]!, 1000)[0]!.rate]).toEqual([true, undefined, null]);
    // a trace without a schedule is shown too: one steady phase over the trial, no scheduled rate
    const traceOnly = structuredClone(traced);
    delete traceOnly.scenario.links.l.forward.schedule;
    const o = scheduledDirections(traceOnly as unknown as ManifestScenario);
    expect(o.map((d) => [d.link, d.dir, d.traced, d.schedule.steps.length])).toEqual([['l', 'forward', true, 0]]);
    expect(phases(o[0]!, 1000).map((p) => [p.t0, p.t1, p.kind, p.rate])).toEqual([[0, 1000, 'steady', null]]);
    // neither a schedule nor a trace: nothing to show
    const plain = structuredClone(traceOnly);
    delete plain.scenario.links.l.forward.trace;
    expect(scheduledDirections(plain as unknown as ManifestScenario)).toEqual([]);
    expect(sec.deliveredSvgs).toEqual([]);
    expect(sec.tables[0]!.missing).toMatch(/^No judged trial has delivered bytes/);
    expect(sec.tables[0]!.rows.map((r) => [r.when, r.windows, r.flag, r.okText])).toEqual([
      ['0 s – 0.2 s', '0 (0 trials)', '', '–'],
      ['0.2 s – 0.4 s', '0 (0 trials)', '', '–'],
      ['0.4 s – 0.5 s', '0 (0 trials)', '', '–'],
      ['0.5 s – 0.6 s', '0 (0 trials)', '', '–'],
      ['0.6 s – 1 s', '0 (0 trials)', '', '–'],
    ]);
    expect([sec.summary, sec.flagged]).toEqual(['no delivered bytes in the telemetry', false]);
    expect(sec.note).toContain('netem engine: the windows are device counters read by a timer');
  });
});

/** A run directory with one scheduled scenario, built on the real run's manifest/verdict format. */
async function syntheticRun(dir: string): Promise<void> {
  const m = JSON.parse(await readFile(join(AA, 'manifest.json'), 'utf8')) as RunManifest;
  const v = JSON.parse(await readFile(join(AA, 'verdict.json'), 'utf8')) as { scenarios: { id: string; name: string }[] };
  const s = m.scenarios[0]! as ManifestScenario & { scenario: Record<string, unknown> };
  s.id = s.name = 'syn';
  s.scenario = {
    ...s.scenario,
    id: 'syn',
    links: { [LINK]: { forward: { ...DIRECTION.base, schedule: DIRECTION.schedule }, reverse: { delayMs: 20 } } },
  };
  (s.scenario.workload as Record<string, unknown>).durationS = 0.8;
  s.replacements = undefined;
  m.scenarios = [s];
  v.scenarios = [{ ...v.scenarios[0]!, id: 'syn', name: 'syn' }];
  await mkdir(join(dir, 'telemetry'), { recursive: true });
  const rec = (trial: string, arm: string, pair: number, extra: object) =>
    JSON.stringify({
      type: 'trial',
      runId: m.runId,
      scenario: 'syn',
      trial: `syn${trial}`,
      pair,
      position: 0,
      arm,
      warmup: false,
      status: 'ok',
      suspect: null,
      reason: null,
      startedAt: m.createdAt,
      durationMs: 900,
      attempt: 1,
      metrics: { goodput: 5 },
      series: { t: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], goodput: [8, 8, 4, 4, 0, 6, 8, 8] },
      ...extra,
    });
  const lines = [rec('#w-control', 'control', 9, { warmup: true }), rec('#s-canary', 'canary', 9, { suspect: 'relay lateness' })];
  for (const [t, delivered] of Object.entries(DELIVERED)) {
    lines.push(rec(t, t.endsWith('control') ? 'control' : 'canary', Number(t[1]), {}));
    const body =
      t === '#1-canary'
        ? [{ link: LINK, stats: { engine: 'netem', schedule: { forward: { changes: [] } }, deliveredBinMs: 100, delivered } }]
        : [{ link: LINK, stats: { forward: { schedule: { changes: [], deliveredBinMs: 100, delivered } } } }];
    await writeFile(join(dir, 'telemetry', `syn${t}.json`), JSON.stringify(body));
  }
  // the warm-up and the excluded trial delivered far too much: they must not count
  for (const t of ['#w-control', '#s-canary'])
    await writeFile(
      join(dir, 'telemetry', `syn${t}.json`),
      JSON.stringify([{ link: LINK, stats: { forward: { schedule: { delivered: Array(8).fill(999999) } } } }]),
    );
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(m));
  await writeFile(join(dir, 'verdict.json'), JSON.stringify(v));
  await writeFile(join(dir, 'results.jsonl'), lines.join('\n') + '\n');
}

/** The per-phase table rows of a report, as text cells. */
function phaseRows(html: string): string[][] {
  const i = html.indexOf('data-testid="phase-fidelity"');
  const table = html.slice(i, html.indexOf('</table>', i));
  return [...table.matchAll(/<tr class="[^"]*">(.*?)<\/tr>/gs)].map((r) =>
    [...r[1]!.matchAll(/<td[^>]*>(.*?)<\/td>/gs)].map((c) => c[1]!.replace(/<[^>]+>/g, '').replace(/&#x3D;/g, '=')),
  );
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'netab-sched-report-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('report: schedule section', () => {
  it('a synthetic run: bands behind the series, the delivered chart, the per-phase table (escaped, no script)', async () => {
    const dir = join(tmp, 'syn');
    await syntheticRun(dir);
    const data = await loadRunDir(dir);
    expect(data.warnings).toEqual([]);
    expect([...data.schedules!.keys()].sort()).toEqual([
      'syn#0-canary',
      'syn#0-control',
      'syn#1-canary',
      'syn#1-control',
      'syn#s-canary',
      'syn#w-control',
    ]);
    const html = renderHtml(data);
    expect(phaseRows(html)).toEqual([
      ['0 s – 0.2 s', 'steady', '8 Mbit/s', '20 ms', '8 (4 trials)', '8 Mbit/s', '8.12 Mbit/s', '7.92 Mbit/s', '100 %', 'ok'],
      [
        '0.2 s – 0.4 s',
        'steady',
        '4 Mbit/s',
        '20 ms',
        '8 (4 trials)',
        '4 Mbit/s',
        '4.8 Mbit/s',
        '4.12 Mbit/s',
        '100 %',
        '⚠ 2 windows above schedule + 1 frame (by up to 8486 B)',
      ],
      [
        '0.4 s – 0.5 s',
        'outage',
        '0 (outage)',
        '20 ms',
        '4 (4 trials)',
        '0 Mbit/s',
        '0.08 kbit/s',
        '0.02 kbit/s',
        '–',
        '⚠ 1 outage window delivered bytes (up to 1 B)',
      ],
      [
        '0.5 s – 0.6 s',
        'ramp',
        '4 Mbit/s → 8 Mbit/s',
        '20 ms',
        '4 (4 trials)',
        '5.8 Mbit/s',
        '5.92 Mbit/s',
        '5.78 Mbit/s',
        '100 %',
        '⚠ 1 window above schedule + 1 frame (by up to 1 B)',
      ],
      ['0.6 s – 0.8 s', 'steady', '8 Mbit/s', '20 ms', '8 (4 trials)', '8 Mbit/s', '8 Mbit/s', '7.99 Mbit/s', '100 %', 'ok'],
    ]);
    // the outage as a red band, the step as a dotted mark, the ramp as a purple band, on the goodput chart too
    expect(html.match(/<rect [^>]*fill="#cf222e" fill-opacity="0.14"><title>outage 100 ms<\/title>/g)).toHaveLength(2);
    expect(html.match(/<rect [^>]*fill="#8250df" fill-opacity="0.07"><title>ramp → 8 Mbit\/s<\/title>/g)).toHaveLength(2);
    expect(html).toContain('delivered per 100 ms vs scheduled rate');
    expect(html).toContain('<p class="schedule-summary" data-testid="schedule-summary"><b class="warn">⚠ 3 of 5 phases flagged</b></p>');
    expect(html).not.toContain(LINK);
    expect(html).toContain('bn&lt;script&gt;x&lt;/script&gt; forward');
    expect(html).not.toMatch(/<script/i);
    // summary.md and junit.xml name the flagged phases (at most 3), escaped their own way
    const notes = scheduleFidelityNotes(data.manifest.scenarios, data.trials, data.schedules);
    const line =
      'schedule fidelity: 3 of 5 phases flagged: bn<script>x</script> forward, 0.2 s – 0.4 s: 2 windows above schedule + 1 frame (by up to 8486 B); ' +
      'bn<script>x</script> forward, 0.4 s – 0.5 s: 1 outage window delivered bytes (up to 1 B); ' +
      'bn<script>x</script> forward, 0.5 s – 0.6 s: 1 window above schedule + 1 frame (by up to 1 B)';
    expect([...notes]).toEqual([['syn', line]]);
    const md = renderMarkdown(data.verdict, data.manifest, undefined, notes);
    // (the real run this fixture comes from also missed its pre-trial RTT check by 1 ms)
    expect(md.split('\n').filter((l) => l.startsWith('- **syn**:'))).toEqual([
      '- **syn**: path fidelity out of tolerance before the trials: rtt\\_p50 configured 40 ms, measured 41 (±0.5 ms); ' +
        line.replace(/</g, '&lt;').replace(/>/g, '&gt;'),
    ]);
    expect(md).not.toMatch(/<script/i);
    const xml = renderJunit(data.verdict, { manifest: data.manifest, scheduleNotes: notes });
    expect(xml).toContain(`<property name="schedule" value="${line.replace(/</g, '&lt;').replace(/>/g, '&gt;')}"/>`);
  });

  it('the real relay run: every phase within the schedule, outage windows empty', async () => {
    const dir = join(tmp, 'aa');
    await cp(AA, dir, { recursive: true });
    const data = await loadRunDir(dir);
    const d = scheduledDirections(data.manifest.scenarios[0]);
    expect(d.map((x) => `${x.link} ${x.dir}`)).toEqual(['bottleneck forward']);
    // 12 judged trials (6 pairs; pair 5 re-run, its latest records), 53 changes each
    const judged = new Map<string, (typeof data.trials)[number]>();
    for (const t of data.trials) judged.set(t.trial, t);
    const tele = [...judged.values()]
      .filter((t) => !t.warmup && !t.suspect)
      .map((t) => data.schedules!.get(t.trial)!.find((x) => x.link === 'bottleneck' && x.dir === 'forward')!);
    expect(tele).toHaveLength(12);
    expect(new Set(tele.map((x) => x.changes))).toEqual(new Set([53]));
    const f = phaseFidelity(d[0]!, 5000, tele);
    // expected values computed independently from the telemetry files (bytes per 100 ms x 80 = bit/s)
    expect(f.map((x) => [x.phase.t0, x.phase.t1, x.phase.kind, x.windows, x.medianBps, x.maxBps, x.over])).toEqual([
      [0, 2000, 'steady', 240, 625282 * 80, 625282 * 80, 0],
      [2000, 3000, 'steady', 120, 62074 * 80, 63588 * 80, 0],
      [3000, 3200, 'outage', 24, 0, 0, 0],
      [3200, 4000, 'steady', 96, 62074 * 80, 63588 * 80, 0],
      [4000, 4500, 'ramp', 60, 27009760, 563208 * 80, 0],
      [4500, 5000, 'steady', 60, 45783360, 625282 * 80, 0],
    ]);
    const html = renderHtml(data);
    expect(html).toContain('data-testid="schedule-summary">all 6 phases with telemetry within the schedule</p>');
    const rows = phaseRows(html);
    expect(rows.map((r) => r[9])).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    expect(rows[4]!.slice(0, 7)).toEqual([
      '4 s – 4.5 s',
      'ramp',
      '5 Mbit/s → 50 Mbit/s',
      '20 ms',
      '60 (12 trials)',
      '27 Mbit/s',
      '45.1 Mbit/s',
    ]);
  });
});
