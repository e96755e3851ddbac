/**
 * `netab gate`: judges one production stage with the lab's judge and answers ADVANCE (exit 0),
 * HOLD (4) or ROLLBACK (1).
 *
 * Production samples are per host and interval, control hosts vs canary hosts: independent groups,
 * so the judge's unpaired path is used (Mann-Whitney, two-sample Hodges-Lehmann with its (1 - 2α)
 * interval, the -margin boundary, Holm across the guardrails, metric and stage verdicts, the
 * failed-sample, drift and minimum-sample gates, the decision) — the same functions judgeRecords runs
 * (src/judge/metric.ts analyzeMetric, scenario.ts finishScenario, judge.ts decide), fed with the
 * samples of each arm instead of trial pairs. Every guardrail is `required`: no data is never a pass.
 *
 * Output folder: manifest.json + results.jsonl (the samples as one-arm records), verdict.json, and
 * report.html / junit.xml / summary.md from src/report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { EnvError, EXIT, InputError } from '../errors.js';
import { decide, exitCodeFor } from '../judge/index.js';
import { analyzeMetric } from '../judge/metric.js';
import { type DropReason, type MetricData, noPairs, type ScenarioTrials } from '../judge/prepare.js';
import { analyzeFailures, type DriftTest, finishScenario, type ScenarioAnalysis } from '../judge/scenario.js';
import { renderReports } from '../report/index.js';
import type { JudgeSettings, MetricSpec, RunManifest, TrialRecord, Verdict } from '../results/types.js';
import { holm, spearman, theilSenSlope } from '../stats/index.js';
import { NETAB_VERSION } from '../version.js';
import { parseDuration } from './plan.js';
import { defaultGuardrail, type GateDecision, type GateSpec, type GuardrailSpec, loadSpec } from './gate-spec.js';
import { prometheusSamples } from './prometheus.js';
import { readSamples, type Sample } from './samples.js';

const WORD: Record<string, GateDecision> = { promote: 'ADVANCE', hold: 'HOLD', rollback: 'ROLLBACK' };

export interface GateOptions {
  /** files (CSV/JSONL) or, with `prometheus`, label selectors of the host groups */
  control: string;
  canary: string;
  prometheus?: string;
  spec?: string;
  /** metric names to judge (default: the spec's, else every metric in the files / retrans for Prometheus) */
  metrics?: string[];
  alpha?: number;
  minSamples?: number;
  /** Prometheus: window to query ("10m"), step between samples ("15s"), end (epoch s, default now), timeout ("10s") */
  range?: string;
  step?: string;
  end?: number;
  timeout?: string;
  out?: string;
  now?: string;
  print?: (line: string) => void;
}

function armValues(samples: Sample[], spec: MetricSpec, order: Map<Sample, number>): MetricData['control'] {
  const a: MetricData['control'] = { values: [], pairOf: [], dropped: 0, why: new Map<DropReason, number>() };
  const drop = (w: DropReason) => {
    a.dropped++;
    a.why.set(w, (a.why.get(w) ?? 0) + 1);
  };
  for (const s of samples) {
    if (s.status !== 'ok') drop('failed trial');
    else {
      const v = s.metrics[spec.name];
      if (v === null || v === undefined || !Number.isFinite(v)) drop('null metric');
      else if (spec.scale === 'log' && v <= 0) drop('non-positive on log scale');
      else {
        a.values.push(v);
        a.pairOf.push(order.get(s) ?? 0);
      }
    }
  }
  return a;
}

/** Spearman trend of each metric's control values over the stage's intervals (the lab judge's drift test). */
function controlDrift(metrics: ReturnType<typeof analyzeMetric>[], minPairs: number): DriftTest[] {
  const drift: DriftTest[] = [];
  for (const a of metrics) {
    const c = a.data.control;
    if (c.values.length < Math.max(5, minPairs) || new Set(c.pairOf).size < 3) continue;
    const r = spearman(c.pairOf, c.values);
    const y = c.values.map((v) => (a.spec.scale === 'log' ? Math.log(v) : v));
    const span = Math.max(...c.pairOf) - Math.min(...c.pairOf);
    const slope = theilSenSlope(c.pairOf, y);
    drift.push({
      name: a.spec.name,
      rho: r.rho,
      p: r.p,
      trend: Number.isFinite(slope) ? slope * span : 0,
      limit: a.threshold !== null && Number.isFinite(a.threshold) ? Math.abs(a.threshold) : null,
    });
  }
  return drift;
}

/** Judge control vs canary samples with the lab judge's unpaired path (pure apart from the clock). */
export function judgeSamples(spec: GateSpec, control: Sample[], canary: Sample[], meta: { id: string; now?: string }): Verdict {
  const settings: JudgeSettings = {
    alpha: spec.alpha,
    minPairs: spec.minSamples,
    primary: spec.metrics[0]?.name ?? '',
    expectImprovement: false,
    nonCriticalRegressionsToFail: 2,
    maxFailedFraction: spec.maxFailedFraction,
    excludeSuspect: true,
    sequential: false,
    metrics: spec.metrics.map(({ query: _q, ...m }) => ({ ...m, required: true })),
  };
  // interval order (for the drift gate): the rank of each sample's time among all times
  const times = [...new Set([...control, ...canary].map((s) => s.t).filter((t): t is number => t !== null))].sort((a, b) => a - b);
  const idx = new Map(times.map((t, i) => [t, i]));
  const order = new Map<Sample, number>();
  for (const [i, s] of [...control, ...canary].entries()) order.set(s, s.t === null ? i : idx.get(s.t)!);
  const metrics = settings.metrics.map((m) => {
    const data: MetricData = { control: armValues(control, m, order), canary: armValues(canary, m, order), paired: noPairs() };
    return analyzeMetric(m, data, settings.alpha, settings.minPairs);
  });
  // drift of the control over the stage (only when the samples carry times), as the lab judge does it
  const drift = times.length >= 2 ? controlDrift(metrics, settings.minPairs) : [];
  const ok = (xs: Sample[]) => xs.filter((s) => s.status === 'ok').length;
  const records = [...control.map((s) => toRecord(s, 'control', meta.id)), ...canary.map((s) => toRecord(s, 'canary', meta.id))];
  const trials: ScenarioTrials = {
    records,
    pairs: [],
    drop: { control: new Uint8Array(0), canary: new Uint8Array(0) },
    // the minimum-data gate counts "complete pairs": here, the usable samples of the smaller arm
    completePairs: Math.min(ok(control), ok(canary)),
    perArm: {
      control: { records: control.length, failed: control.length - ok(control), noData: 0, suspect: 0 },
      canary: { records: canary.length, failed: canary.length - ok(canary), noData: 0, suspect: 0 },
    },
    superseded: 0,
    warmup: 0,
  };
  const sa: ScenarioAnalysis = {
    input: { id: 'stage', name: 'production stage', params: {}, settings, ciAlpha: settings.alpha, trials },
    metrics,
    drift,
    failures: analyzeFailures(trials),
  };
  const result = finishScenario(sa, {
    pAdjusted: holm(metrics.map((m) => m.p)),
    pMarginAdjusted: holm(metrics.map((m) => m.pMargin)),
    testAlpha: settings.alpha,
    driftFamily: drift.length,
  });
  const { decision, reasons, morePairs } = decide([result], [settings]);
  const tests = metrics.filter((m) => m.pMargin !== null).length;
  if (tests > 1) reasons.push(`Holm adjustment across ${tests} guardrail tests at alpha = ${settings.alpha}.`);
  reasons.push(
    `Production gate: ${ok(control)} control and ${ok(canary)} canary samples (per host and interval), judged unpaired; "pairs" above means samples per arm.`,
  );
  return {
    format: 'netab-verdict/1',
    runId: meta.id,
    decision,
    reasons: reasons.map((r) => r.replace(/^PROMOTE:/, 'ADVANCE:')),
    alpha: settings.alpha,
    morePairs,
    scenarios: [result],
    judgedAt: meta.now ?? new Date().toISOString(),
    netabVersion: NETAB_VERSION,
  };
}

const recordOf = new WeakMap<Sample, TrialRecord>();
let seq = 0;
/** A sample as a one-arm trial record (its own pair index: samples are not paired). */
function toRecord(s: Sample, arm: 'control' | 'canary', runId: string): TrialRecord {
  const known = recordOf.get(s);
  if (known) return known;
  const pair = seq++;
  const rec: TrialRecord = {
    type: 'trial',
    runId,
    scenario: 'stage',
    trial: `stage#${pair}-${arm}`,
    pair,
    position: 0,
    arm,
    warmup: false,
    status: s.status,
    suspect: null,
    reason: s.status === 'failed' ? 'failed sample' : null,
    startedAt: s.t !== null ? new Date(s.t * 1000).toISOString() : new Date(0).toISOString(),
    durationMs: 0,
    attempt: 1,
    metrics: s.metrics,
    extra: { host: s.host },
  };
  recordOf.set(s, rec);
  return rec;
}

function resolveSpec(o: GateOptions, available: string[] | null): GateSpec {
  const file = o.spec ? loadSpec(o.spec) : {};
  let metrics: GuardrailSpec[];
  if (o.metrics?.length) {
    metrics = o.metrics.map((n) => file.metrics?.find((m) => m.name === n) ?? defaultGuardrail(n));
  } else if (file.metrics?.length) metrics = file.metrics;
  else if (available) metrics = available.map(defaultGuardrail);
  else metrics = [defaultGuardrail('retrans')];
  const alpha = o.alpha ?? file.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 0.5)) throw new InputError(`alpha must be above 0 and below 0.5, got ${alpha}`);
  const minSamples = o.minSamples ?? file.minSamples ?? 10;
  if (!(Number.isInteger(minSamples) && minSamples >= 2))
    throw new InputError(`min samples must be an integer of at least 2, got ${minSamples}`);
  return { alpha, minSamples, maxFailedFraction: file.maxFailedFraction ?? 0.2, metrics };
}

function stamp(d = new Date()): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** The samples of both arms and the spec, from the files or from Prometheus; `source` says which, for the record. */
async function gatherSamples(
  o: GateOptions,
): Promise<{ control: Sample[]; canary: Sample[]; spec: GateSpec; source: Record<string, unknown> }> {
  let control: Sample[];
  let canary: Sample[];
  let spec: GateSpec;
  let source: Record<string, unknown>;
  if (o.prometheus) {
    if (!/^https?:\/\//.test(o.prometheus)) throw new InputError(`--prometheus ${o.prometheus}: needs an http:// or https:// URL`);
    spec = resolveSpec(o, null);
    const noQuery = spec.metrics.filter((m) => !m.query);
    if (noQuery.length)
      throw new InputError(
        `no Prometheus query for ${noQuery.map((m) => m.name).join(', ')}: give each a query (with $SELECTOR) in --spec`,
      );
    const rangeS = parseDuration(o.range ?? '10m');
    const stepS = parseDuration(o.step ?? '15s');
    const timeoutMs = parseDuration(o.timeout ?? '10s') * 1000;
    if (rangeS / stepS > 11000)
      throw new InputError(`--range ${o.range} / --step ${o.step}: more than 11000 points per series (Prometheus' limit)`);
    const endS = o.end ?? Math.floor(Date.now() / 1000);
    const src = { url: o.prometheus, control: o.control, canary: o.canary, startS: endS - rangeS, endS, stepS, timeoutMs };
    ({ control, canary } = await prometheusSamples(
      src,
      spec.metrics.map((m) => ({ name: m.name, query: m.query! })),
    ));
    source = {
      kind: 'prometheus',
      url: o.prometheus,
      control_selector: o.control,
      canary_selector: o.canary,
      start: new Date(src.startS * 1000).toISOString(),
      end: new Date(endS * 1000).toISOString(),
      step_s: stepS,
      queries: Object.fromEntries(spec.metrics.map((m) => [m.name, m.query])),
    };
  } else {
    control = readSamples(o.control);
    canary = readSamples(o.canary);
    const names = [...new Set([...control, ...canary].flatMap((s) => Object.keys(s.metrics)))];
    spec = resolveSpec(o, names);
    source = { kind: 'files', control: o.control, canary: o.canary };
  }
  return { control, canary, spec, source };
}

/** manifest.json of a gate folder: one scenario (the stage) whose judge settings are the spec's. */
function gateManifest(
  id: string,
  spec: GateSpec,
  source: Record<string, unknown>,
  verdict: Verdict,
  o: GateOptions,
): RunManifest & { gate: unknown } {
  return {
    format: 'netab-run/1',
    runId: id,
    netabVersion: NETAB_VERSION,
    createdAt: verdict.judgedAt,
    command: ['netab', 'gate'],
    sourceFile: String(source.kind === 'files' ? o.canary : o.prometheus),
    seed: 0,
    backend: 'netns',
    aa: false,
    environment: { kernel: '', hostname: hostname(), node: process.version, netem: false, vm: null },
    scenarios: [
      {
        id: 'stage',
        name: 'production stage',
        params: {},
        hash: '',
        scenario: { name: 'production stage', gate: source },
        judge: {
          alpha: spec.alpha,
          minPairs: spec.minSamples,
          primary: spec.metrics[0]?.name ?? '',
          expectImprovement: false,
          nonCriticalRegressionsToFail: 2,
          maxFailedFraction: spec.maxFailedFraction,
          excludeSuspect: true,
          sequential: false,
          metrics: spec.metrics.map(({ query: _q, ...m }) => m),
        },
        status: 'done',
      },
    ],
    finishedAt: verdict.judgedAt,
    gate: source,
  };
}

/** `netab gate`: exit 0 ADVANCE, 4 HOLD, 1 ROLLBACK; 2 bad input, 3 Prometheus down / no series. */
export async function gateCommand(o: GateOptions): Promise<number> {
  const print = o.print ?? ((l: string) => process.stdout.write(l + '\n'));
  if (!o.control || !o.canary)
    throw new InputError('netab gate needs --control and --canary (files, or label selectors with --prometheus)');
  const { control, canary, spec, source } = await gatherSamples(o);
  if (!control.length || !canary.length) throw new EnvError(`no ${!control.length ? 'control' : 'canary'} samples: nothing to judge`);
  const id = `gate-${stamp()}`;
  const verdict = judgeSamples(spec, control, canary, { id, ...(o.now ? { now: o.now } : {}) });
  const word = WORD[verdict.decision] ?? 'HOLD';

  const out = o.out ?? join('reports', id);
  mkdirSync(out, { recursive: true });
  const manifest = gateManifest(id, spec, source, verdict, o);
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  const recs = [...control.map((s) => toRecord(s, 'control', id)), ...canary.map((s) => toRecord(s, 'canary', id))];
  writeFileSync(join(out, 'results.jsonl'), recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const full = {
    ...verdict,
    gate: { decision: word, exitCode: exitCodeFor(verdict.decision), source, samples: { control: control.length, canary: canary.length } },
  };
  writeFileSync(join(out, 'verdict.json'), JSON.stringify(full, null, 2) + '\n');
  let reportNote = '';
  try {
    await renderReports(out, { githubStepSummary: false });
  } catch (e) {
    reportNote = ` (report.html not rendered: ${(e as Error).message.split('\n')[0]}; summary.md written by the gate)`;
    writeFileSync(join(out, 'summary.md'), gateSummary(word, verdict));
  }
  const regressed = verdict.scenarios[0]!.metrics.filter((m) => m.verdict === 'REGRESSED').map((m) => m.name);
  print(
    `netab gate: ${word}${regressed.length ? ` (${regressed.join(', ')} regressed)` : ''} — ${control.length} control / ${canary.length} canary samples; ${out}${reportNote}`,
  );
  for (const r of verdict.reasons.slice(0, 4)) print(`  ${r}`);
  return word === 'ADVANCE' ? EXIT.promote : word === 'ROLLBACK' ? EXIT.rollback : EXIT.hold;
}

function gateSummary(word: GateDecision, v: Verdict): string {
  const lines = [
    `# netab gate: ${word}`,
    '',
    ...v.reasons.map((r) => `- ${r}`),
    '',
    '| metric | verdict | effect | CI |',
    '|---|---|---|---|',
  ];
  for (const m of v.scenarios[0]?.metrics ?? [])
    lines.push(
      `| ${m.name} | ${m.verdict} | ${m.effectPct ?? m.effect ?? 'n/a'} | ${m.ciPct?.join(' to ') ?? m.ci?.join(' to ') ?? 'n/a'} |`,
    );
  return lines.join('\n') + '\n';
}
