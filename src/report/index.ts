/**
 * Reports for a run directory: report.html (self-contained), junit.xml, summary.md, and sweep.csv
 * for runs whose scenarios have matrix coordinates.
 * Reads only the run directory (manifest.json, results.jsonl, verdict.json, telemetry/) so a past
 * run can be re-rendered offline; never imports the judge.
 */
import { appendFile } from 'node:fs/promises';
import { writeFileAtomic } from '../results/files.js';
import { join } from 'node:path';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';
import { loadRunDir } from './load.js';
import { renderMarkdown } from './markdown.js';
import type { RenderOptions } from './model.js';
import { scheduleFidelityNotes } from './schedule-view.js';
import { renderSweepCsv } from './sweep-csv.js';
import { theoryExpectation } from './theory.js';
import { METRIC_DEFAULTS } from '../scenario/metrics.js';

export { renderHtml } from './html.js';
export { renderJunit } from './junit.js';
export { renderMarkdown } from './markdown.js';
export { loadRunDir, parseResultsJsonl, type RunData } from './load.js';
export type { RenderOptions } from './model.js';
export { mathisMbit, theoryFor, windowCapMbit, bdpBytes } from './theory.js';

export interface ReportOptions extends RenderOptions {
  /** where to write the files (default: the run directory itself) */
  outDir?: string;
  /**
   * File to append summary.md to. Default: process.env.GITHUB_STEP_SUMMARY when set.
   * Pass false to never append.
   */
  githubStepSummary?: string | false;
}

export interface ReportPaths {
  html: string;
  junit: string;
  markdown: string;
  /** sweep.csv, when the run's scenarios have matrix coordinates */
  sweep: string | null;
}

/** Through the run directory layer: temp O_EXCL|O_NOFOLLOW + fsync + rename, never through a link. */
async function writeAtomic(path: string, content: string): Promise<void> {
  writeFileAtomic(path, content);
}

/** Read a run directory and write report.html, junit.xml, summary.md (and sweep.csv) into it (or opts.outDir). */
export async function renderReports(runDir: string, opts: ReportOptions = {}): Promise<ReportPaths> {
  const data = await loadRunDir(runDir);
  const out = opts.outDir ?? runDir;
  const paths: ReportPaths = {
    html: join(out, 'report.html'),
    junit: join(out, 'junit.xml'),
    markdown: join(out, 'summary.md'),
    sweep: null,
  };
  // theory's expectation next to each sweep cell, unless the caller brings its own
  const kernel = data.manifest.environment?.vm?.kernel ?? data.manifest.environment?.kernel ?? null;
  const expected = opts.expected ?? theoryExpectation(data.manifest.scenarios, kernel, (m) => METRIC_DEFAULTS[m]?.direction);
  opts = { ...opts, expected };
  const csv = renderSweepCsv(data.verdict, data.manifest, expected);
  if (csv !== null) {
    paths.sweep = join(out, 'sweep.csv');
    await writeAtomic(paths.sweep, csv);
  }
  // schedule phases the telemetry flagged, for the two renderers that do not draw the schedule
  const scheduleNotes = scheduleFidelityNotes(data.manifest.scenarios, data.trials, data.schedules);
  const md = renderMarkdown(data.verdict, data.manifest, expected, scheduleNotes);
  await writeAtomic(paths.html, renderHtml(data, opts));
  await writeAtomic(paths.junit, renderJunit(data.verdict, { manifest: data.manifest, trials: data.trials, scheduleNotes }));
  await writeAtomic(paths.markdown, md);
  const summary = opts.githubStepSummary === undefined ? process.env.GITHUB_STEP_SUMMARY : opts.githubStepSummary;
  if (summary) await appendFile(summary, md.endsWith('\n') ? md : md + '\n', 'utf8');
  return paths;
}
