/**
 * Opens report.html in Debian's headless Chromium (playwright-core, no bundled browser) and checks
 * what a person would: the decision, the matrix and the charts are visible, nothing is fetched,
 * and a scenario named <script>alert(1)</script> runs nothing.
 *
 * Run dir: NETAB_REPORT_RUN_DIR (a real run, judged) or the synthetic fixture; either is copied to a
 * temp dir first. The screenshot lands in <temp run dir>/report.png (path printed); set
 * NETAB_REPORT_KEEP=1 to keep the temp dir. Under CI=true a missing chromium fails instead of skipping.
 */
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReports } from '../../src/report/index.js';
import { missingPrereqs, netabCli } from '../helpers.js';

const CHROMIUM = process.env.NETAB_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const here = dirname(fileURLToPath(import.meta.url));
const SOURCE = process.env.NETAB_REPORT_RUN_DIR ?? join(here, '../fixtures/report/run');
/** With root and the tools (always under CI), the report comes from a real run made here. */
const realRun = !process.env.NETAB_REPORT_RUN_DIR && missingPrereqs().length === 0;
const usingFixture = !process.env.NETAB_REPORT_RUN_DIR && !realRun;
const hostileName = usingFixture || realRun;
const REAL_SCENARIO = `
name: hostile
description: a real run whose scenario id carries hostile markup (scenario names are a safe set; a matrix over the arm name is not)
topology: dumbbell
links:
  bottleneck:
    delay: 10ms
    rate: 20mbit
    forward: { loss: 1% }
control: { cc: cubic }
canary: { cc: bbr }
workload: { type: bulk, duration: 2s }
trials: { pairs: 5, warmup: 0 }
fidelity: { samples: 100 }
matrix: { canary.name: ["<script>alert(1)</script>"] }
`;
const haveChromium = existsSync(CHROMIUM);
const inCI = process.env.CI === 'true' || process.env.CI === '1';

describe('report.html in headless Chromium', () => {
  if (!haveChromium && inCI) {
    it('needs chromium', () => {
      throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (CI must not skip the browser test)`);
    });
    return;
  }

  let work: string;
  let runDir: string;
  let profile: string;
  let ctx: BrowserContext | undefined;

  beforeAll(async () => {
    if (!haveChromium) return;
    work = await mkdtemp(join(tmpdir(), 'netab-report-browser-'));
    runDir = join(work, 'run');
    profile = join(work, 'profile');
    if (realRun) {
      const file = join(work, 'hostile.yaml');
      await writeFile(file, REAL_SCENARIO);
      const r = await netabCli(['run', file, '--out', runDir, '-q'], { env: { ...process.env, GITHUB_STEP_SUMMARY: '' } });
      if (![0, 1, 4].includes(r.status ?? -1)) throw new Error(`netab run failed (${r.status}): ${r.stderr}`);
    } else {
      await cp(SOURCE, runDir, { recursive: true });
      await renderReports(runDir, { githubStepSummary: false });
    }
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 900 },
      offline: true,
    });
  }, 150_000);

  afterAll(async () => {
    await ctx?.close();
    if (work && !process.env.NETAB_REPORT_KEEP) await rm(work, { recursive: true, force: true });
  });

  it.skipIf(!haveChromium)(
    'shows decision, matrix and charts; fetches nothing; runs no script',
    async () => {
      const page = await ctx!.newPage();
      const requests: string[] = [];
      const dialogs: string[] = [];
      const errors: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      ctx!.on('request', (r) => requests.push(r.url()));
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      const url = pathToFileURL(join(runDir, 'report.html')).href;
      await page.goto(url, { waitUntil: 'load' });

      const decision = page.getByTestId('decision');
      await expect.poll(() => decision.isVisible()).toBe(true);
      const verdict = JSON.parse(await readFile(join(runDir, 'verdict.json'), 'utf8'));
      const word = { promote: 'Promote', rollback: 'Roll back', hold: 'Hold' }[verdict.decision as string]!;
      expect(await decision.textContent()).toMatch(new RegExp(`^${word}`));

      const matrix = page.getByTestId('matrix');
      expect(await matrix.isVisible()).toBe(true);
      expect(await matrix.locator('tbody tr').count()).toBeGreaterThanOrEqual(verdict.scenarios.length);

      const charts = page.locator('svg.chart');
      expect(await charts.count()).toBeGreaterThan(3);
      expect(await charts.first().isVisible()).toBe(true);
      const box = await charts.first().boundingBox();
      expect(box!.width).toBeGreaterThan(200);
      expect(box!.height).toBeGreaterThan(50);

      if (hostileName) {
        // the hostile markup is shown as text in the matrix and in its scenario's section: in the
        // fixture it is the scenario name (the heading), in a real run the arm name (id line, params)
        const inSection = page.locator('section.scenario :is(h2, p.sid, p.params)', { hasText: '<script>alert(1)</script>' });
        expect(await inSection.first().isVisible()).toBe(true);
        expect(await matrix.locator('tbody tr', { hasText: '<script>alert(1)</script>' }).first().isVisible()).toBe(true);
      }
      expect(await page.locator('script').count()).toBe(0);
      expect(await page.locator('img, iframe, object, embed, link').count()).toBe(0);

      await page.waitForTimeout(300); // give any stray handler a chance to fire
      expect(dialogs).toEqual([]);
      expect(errors).toEqual([]);
      expect([...new Set(requests)]).toEqual([url]);

      const shot = join(runDir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(existsSync(shot)).toBe(true);
      console.log(
        `report screenshot: ${shot}${process.env.NETAB_REPORT_KEEP ? '' : ' (removed after the test; NETAB_REPORT_KEEP=1 keeps it)'}`,
      );
      await page.close();
    },
    60_000,
  );

  it.skipIf(!haveChromium)(
    'junit.xml parses with the browser XML parser',
    async () => {
      const page = await ctx!.newPage();
      const xml = await readFile(join(runDir, 'junit.xml'), 'utf8');
      const r = await page.evaluate((src) => {
        // runs in the page; the test's type check has no DOM lib, so name the little it uses
        type Doc = { getElementsByTagName(n: string): { length: number }; documentElement: { nodeName: string } };
        const { DOMParser } = globalThis as unknown as { DOMParser: new () => { parseFromString(s: string, type: string): Doc } };
        const doc = new DOMParser().parseFromString(src, 'application/xml');
        return {
          error: doc.getElementsByTagName('parsererror').length,
          root: doc.documentElement.nodeName,
          suites: doc.getElementsByTagName('testsuite').length,
          cases: doc.getElementsByTagName('testcase').length,
        };
      }, xml);
      expect(r.error).toBe(0);
      expect(r.root).toBe('testsuites');
      expect(r.cases).toBeGreaterThanOrEqual(r.suites);
      if (usingFixture) expect(r).toMatchObject({ suites: 3, cases: 9 });
      await page.close();
    },
    30_000,
  );
});
