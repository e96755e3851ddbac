/**
 * `netab rollout plan DIR`: a staged rollout plan from a lab run (YAML and Markdown). Per stage: the
 * guardrail metrics (the lab's judged metrics: direction, margin, critical), the lab effect and CI as
 * the expectation, the minimum number of samples per arm for the production gate, and the bake time.
 *
 * Samples per arm: the production gate compares two independent groups (unpaired Mann-Whitney /
 * Hodges-Lehmann, like the judge's unpaired path). To tell a canary that is worse by the margin from
 * one that is unchanged with power 1 - β at one-sided level α (the gate's REGRESSED and PASS tests are
 * both one-sided at α), a two-sample comparison of a shift of |τ| needs
 *     n per arm = (π/3) · 2 · (z_{1-α} + z_{1-β})² · σ² / τ²
 * where τ is the -margin boundary on the effect scale (ln(1 - m) for a relative margin on a log
 * metric, -m for an absolute one), σ the standard deviation of one sample on that scale (the pooled
 * within-arm SD of the lab trials, the largest over the run's scenarios), and π/3 the asymptotic
 * efficiency loss of the rank test against the t-test under normality (the same factor the judge's
 * morePairs uses). n grows with σ²: twice the variance, twice the samples.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { InputError } from '../errors.js';
import { thresholdFor } from '../judge/index.js';
import { readRecords } from '../results/store.js';
import type { MetricSpec, RunManifest, TrialRecord, Verdict } from '../results/types.js';
import { median, normIsf, sampleSd } from '../stats/index.js';
import { NETAB_VERSION } from '../version.js';
import { DECISION_WORD, readLabRun } from './rundir.js';
import { defaultQuery } from './prometheus.js';

export interface PlanOptions {
  /** percent of hosts per stage (default 1, 10, 50, 100) */
  stages?: number[];
  /** bake time per stage, seconds (default 3600) */
  bakeS?: number;
  /** power of the sample-size calculation (default 0.8) */
  power?: number;
  out?: string;
  print?: (s: string) => void;
  now?: string;
}

export interface Guardrail {
  name: string;
  unit: string;
  direction: 'higher' | 'lower';
  scale: 'log' | 'linear';
  margin: MetricSpec['margin'];
  critical: boolean;
  /** -margin boundary on the effect scale (largest |τ| ... here: the one of the scenario with the largest σ) */
  boundary: number | null;
  /** per-sample SD on the effect scale (pooled within-arm, largest over scenarios) and where it came from */
  sd: number | null;
  sdScenario: string | null;
  /** minimum samples per arm (null: no variance or no boundary) */
  minSamplesPerArm: number | null;
  /** the lab's result per scenario: the expectation for production */
  expectation: Array<{
    scenario: string;
    verdict: string;
    effectPct: number | null;
    ciPct: [number, number] | null;
    effect: number | null;
    ci: [number, number] | null;
  }>;
  /** a PromQL template for the gate (metrics netab knows how to read from node exporter) */
  query?: string;
}

export interface RolloutPlan {
  format: 'netab-rollout-plan/1';
  runId: string;
  decision: string;
  alpha: number;
  power: number;
  formula: string;
  createdAt: string;
  netabVersion: string;
  guardrails: Guardrail[];
  stages: Array<{ name: string; percent: number; bake: string; bakeSeconds: number; minSamplesPerArm: number | null; gate: string }>;
}

const FORMULA = 'n per arm = (π/3) · 2 · (z_{1-α} + z_{power})² · σ² / τ²  (σ: per-sample SD on the effect scale, τ: -margin boundary)';

export function parseDuration(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$/.exec(v);
  if (!m) throw new InputError(`"${v}" is not a duration (e.g. 30m, 1h, 2d)`);
  const x = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  if (!(x > 0)) throw new InputError(`duration "${v}" must be above 0`);
  return x;
}

export function parseStages(v: string): number[] {
  const parts = v.split(',').map((s) => s.trim().replace(/%$/, ''));
  const xs = parts.map(Number);
  if (!parts.length || xs.some((x) => !(x > 0 && x <= 100)))
    throw new InputError(`--stages "${v}": percentages above 0 and at most 100, comma-separated (e.g. 1,10,50,100)`);
  for (let i = 1; i < xs.length; i++)
    if (!(xs[i]! > xs[i - 1]!)) throw new InputError(`--stages "${v}": each stage must be larger than the one before`);
  return xs;
}

export function formatDuration(s: number): string {
  if (s % 86400 === 0) return `${s / 86400}d`;
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

/** Samples per arm to tell "worse by the margin" from "unchanged" (see the module comment). */
export function samplesPerArm(sd: number, boundary: number, alpha: number, power: number): number {
  const z = normIsf(alpha) + normIsf(1 - power);
  return Math.max(2, Math.ceil(((Math.PI / 3) * 2 * z * z * sd * sd) / (boundary * boundary)));
}

function effectScale(spec: MetricSpec, v: number): number | null {
  if (!Number.isFinite(v)) return null;
  if (spec.scale === 'log') return v > 0 ? Math.log(v) : null;
  return v;
}

/** Pooled within-arm SD of one metric's measured values on the effect scale, and the control median. */
function labSpread(
  records: TrialRecord[],
  scenario: string,
  spec: MetricSpec,
  excludeSuspect: boolean,
): { sd: number | null; controlMedian: number | null } {
  const arms: Record<string, number[]> = { control: [], canary: [] };
  const raw: number[] = [];
  for (const r of records) {
    if (r.type !== 'trial' || r.scenario !== scenario || r.warmup || r.status !== 'ok' || (excludeSuspect && r.suspect)) continue;
    const v = r.metrics?.[spec.name];
    if (typeof v !== 'number') continue;
    const t = effectScale(spec, v);
    if (t === null) continue;
    arms[r.arm]?.push(t);
    if (r.arm === 'control') raw.push(v);
  }
  const c = arms.control!;
  const k = arms.canary!;
  const controlMedian = raw.length ? median(raw) : null;
  if (c.length < 2 || k.length < 2) return { sd: null, controlMedian };
  const pooled = Math.sqrt(((c.length - 1) * sampleSd(c) ** 2 + (k.length - 1) * sampleSd(k) ** 2) / (c.length + k.length - 2));
  return { sd: pooled, controlMedian };
}

export function buildPlan(manifest: RunManifest, verdict: Verdict, records: TrialRecord[], opts: PlanOptions = {}): RolloutPlan {
  const stages = opts.stages ?? [1, 10, 50, 100];
  const bakeS = opts.bakeS ?? 3600;
  const power = opts.power ?? 0.8;
  const alpha = verdict.alpha;
  const byName = new Map<string, Guardrail>();
  for (const ms of manifest.scenarios) {
    const vs = verdict.scenarios.find((s) => s.id === ms.id);
    for (const spec of ms.judge?.metrics ?? []) {
      const { sd, controlMedian } = labSpread(records, ms.id, spec, ms.judge.excludeSuspect);
      const boundary = thresholdFor(spec, controlMedian);
      let g = byName.get(spec.name);
      if (!g) {
        g = {
          name: spec.name,
          unit: spec.unit,
          direction: spec.direction,
          scale: spec.scale,
          margin: { ...spec.margin },
          critical: spec.critical,
          boundary: null,
          sd: null,
          sdScenario: null,
          minSamplesPerArm: null,
          expectation: [],
        };
        const q = defaultQuery(spec.name);
        if (q) g.query = q;
        byName.set(spec.name, g);
      }
      g.critical ||= spec.critical;
      const mr = vs?.metrics.find((m) => m.name === spec.name);
      if (mr)
        g.expectation.push({
          scenario: ms.id,
          verdict: mr.verdict,
          effectPct: mr.effectPct,
          ciPct: mr.ciPct,
          effect: mr.effect,
          ci: mr.ci,
        });
      if (sd !== null && boundary !== null && Number.isFinite(boundary) && boundary !== 0) {
        const n = samplesPerArm(sd, boundary, alpha, power);
        if (g.minSamplesPerArm === null || n > g.minSamplesPerArm) {
          g.minSamplesPerArm = n;
          g.sd = sd;
          g.boundary = boundary;
          g.sdScenario = ms.id;
        }
      }
    }
  }
  const guardrails = [...byName.values()];
  const need = guardrails.map((g) => g.minSamplesPerArm).filter((x): x is number => x !== null);
  const n = need.length ? Math.max(...need) : null;
  return {
    format: 'netab-rollout-plan/1',
    runId: manifest.runId,
    decision: DECISION_WORD[verdict.decision] ?? verdict.decision,
    alpha,
    power,
    formula: FORMULA,
    createdAt: opts.now ?? new Date().toISOString(),
    netabVersion: NETAB_VERSION,
    guardrails,
    stages: stages.map((p, i) => ({
      name: `stage ${i + 1}: ${p} %`,
      percent: p,
      bake: formatDuration(bakeS),
      bakeSeconds: bakeS,
      minSamplesPerArm: n,
      gate: `after ${formatDuration(bakeS)} at ${p} %: netab gate … (exit 0 ADVANCE to ${i + 1 < stages.length ? `${stages[i + 1]} %` : 'done'}, 4 HOLD: keep baking, 1 ROLLBACK: run rollback.sh on the ${p} %)`,
    })),
  };
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${v > 0 ? '+' : ''}${Number(v.toPrecision(3))} %`);
const marginText = (m: MetricSpec['margin'], unit: string) =>
  m.kind === 'relative' ? `${Number((m.value * 100).toPrecision(4))} %` : `${m.value} ${unit}`.trim();

export function planMarkdown(p: RolloutPlan): string {
  const conf = `${Number(((1 - 2 * p.alpha) * 100).toPrecision(3))} %`;
  const out = [
    `# Rollout plan for run ${p.runId} (lab decision ${p.decision})`,
    '',
    `Stages: lab → ${p.stages.map((s) => `${s.percent} %`).join(' → ')}; bake ${p.stages[0]?.bake ?? 'n/a'} per stage; gate each stage with \`netab gate\` (same judge as the lab, unpaired: canary hosts vs control hosts).`,
    '',
    `Minimum samples per arm (α = ${p.alpha}, power ${p.power * 100} %): ${FORMULA}. σ comes from the lab trials; production samples (per host and interval) usually vary more, so treat it as a floor and re-plan with a production A/A gate's spread.`,
    '',
    '## Guardrails',
    '',
    '| metric | direction | margin | critical | lab σ (effect scale) | min samples per arm | lab expectation (effect, ' + conf + ' CI) |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const g of p.guardrails) {
    const exp =
      g.expectation
        .map((e) => `${e.scenario}: ${e.verdict} ${pct(e.effectPct)}${e.ciPct ? ` (${pct(e.ciPct[0])} to ${pct(e.ciPct[1])})` : ''}`)
        .join('; ') || 'n/a';
    out.push(
      `| ${g.name} | ${g.direction} | ${marginText(g.margin, g.unit)} | ${g.critical ? 'yes' : 'no'} | ${g.sd === null ? 'n/a' : Number(g.sd.toPrecision(3))} | ${g.minSamplesPerArm ?? 'n/a'} | ${exp.replace(/\|/g, '\\|')} |`,
    );
  }
  out.push('', '## Stages', '', '| stage | hosts | bake | min samples per arm | advance when |', '|---|---|---|---|---|');
  for (const s of p.stages) out.push(`| ${s.name} | ${s.percent} % | ${s.bake} | ${s.minSamplesPerArm ?? 'n/a'} | ${s.gate} |`);
  out.push('');
  return out.join('\n');
}

export function planYaml(p: RolloutPlan): string {
  const doc = {
    format: p.format,
    run_id: p.runId,
    decision: p.decision,
    alpha: p.alpha,
    power: p.power,
    formula: p.formula,
    created_at: p.createdAt,
    netab_version: p.netabVersion,
    guardrails: p.guardrails.map((g) => ({
      name: g.name,
      unit: g.unit,
      direction: g.direction,
      scale: g.scale,
      margin: g.margin.kind === 'relative' ? `${Number((g.margin.value * 100).toPrecision(6))}%` : g.margin.value,
      critical: g.critical,
      ...(g.query ? { query: g.query } : {}),
      lab_sd: g.sd,
      lab_sd_scenario: g.sdScenario,
      boundary: g.boundary,
      min_samples_per_arm: g.minSamplesPerArm,
      expectation: g.expectation.map((e) => ({ scenario: e.scenario, verdict: e.verdict, effect_pct: e.effectPct, ci_pct: e.ciPct })),
    })),
    stages: p.stages.map((s) => ({
      name: s.name,
      percent: s.percent,
      bake: s.bake,
      min_samples_per_arm: s.minSamplesPerArm,
      gate: s.gate,
    })),
  };
  return stringify(doc, { lineWidth: 0 });
}

/** `netab rollout plan DIR [--stages 1,10,50,100] [--bake 1h] [--out DIR]`: prints the Markdown, writes plan.yaml and plan.md. */
export async function rolloutPlanCommand(dir: string, opts: PlanOptions = {}): Promise<number> {
  const print = opts.print ?? ((s: string) => process.stdout.write(s));
  const lab = readLabRun(dir);
  const plan = buildPlan(lab.manifest, lab.verdict, readRecords(dir), opts);
  const out = opts.out ?? join(dir, 'rollout');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'plan.yaml'), planYaml(plan));
  const md = planMarkdown(plan);
  writeFileSync(join(out, 'plan.md'), md);
  print(md);
  print(`\nwritten: ${join(out, 'plan.yaml')}, ${join(out, 'plan.md')}\n`);
  return 0;
}
