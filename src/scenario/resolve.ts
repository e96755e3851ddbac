/**
 * Normalisation: a validated scenario file (one matrix point) becomes the Scenario the pipeline runs:
 * units resolved to numbers, defaults (defaults.ts) filled in, judge settings and the hash computed.
 */
import { createHash } from 'node:crypto';
import {
  CROSS_TRAFFIC_DEFAULTS,
  FIDELITY_DEFAULTS,
  JUDGE_DEFAULTS,
  PROFILE_DEFAULTS,
  SCENARIO_DEFAULTS,
  TRIAL_DEFAULTS,
  WORKLOAD_DEFAULTS,
} from './defaults.js';
import type { JudgeSettings, MetricSpec } from './judge.js';
import { METRIC_DEFAULTS, WORKLOAD_METRICS } from './metrics.js';
import type { CC, Scenario, Topology, TuningProfile } from './model.js';
import { ResolveError } from './problems.js';
import { withPathProfiles } from './path-library.js';
import { pathSummary, resolveBuffers, resolveLinks } from './resolve-links.js';
import type { LinkInput, ProfileInput, ScenarioFile } from './schema.js';
import { own } from './source.js';
import { parsePercent, parseSize, parseTime } from './units.js';
import type { Workload } from './workloads.js';

const DEFAULT_MSS = 1448;

export interface LoadOptions {
  /** override trials.pairs */
  pairs?: number;
  seed?: number;
  engine?: 'auto' | 'netem' | 'userspace';
  backend?: 'netns' | 'docker';
}

/** sysctl values as the kernel is given them: booleans as 1/0, strings trimmed (null-prototype map) */
function sysctlStrings(input: Record<string, string | number | boolean> | undefined): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const k of Object.keys(input ?? {})) {
    const v = input![k]!;
    out[k] = typeof v === 'boolean' ? (v ? '1' : '0') : String(v).trim();
  }
  return out;
}

function resolveProfile(p: ProfileInput, arm: string): TuningProfile {
  const sysctls = sysctlStrings(p.sysctls);
  const ccSysctl = own(sysctls, 'net.ipv4.tcp_congestion_control') as CC | undefined;
  if (p.cc && ccSysctl)
    throw new ResolveError(
      [arm, 'sysctls', 'net.ipv4.tcp_congestion_control'],
      'set the congestion control with `cc:` or the sysctl, not both',
    );
  const r = p.route ?? {};
  const applyTo = p.apply_to ?? PROFILE_DEFAULTS.applyTo;
  // the congestion control acts where the data is sent: the sender host (iperf3's client in bulk and
  // compete, the server of fct/rr/pageload/http). With apply_to: receiver the sender keeps the host
  // default and every trial fails its check "sender used X, the profile says Y".
  const cc = r.congctl ?? p.cc ?? ccSysctl;
  if (applyTo === 'receiver' && cc) {
    const how = r.congctl
      ? `route: { congctl: ${r.congctl} }`
      : p.cc
        ? `cc: ${p.cc}`
        : `sysctl net.ipv4.tcp_congestion_control: ${ccSysctl}`;
    throw new ResolveError(
      [arm, 'apply_to'],
      `${how} with apply_to: receiver cannot take effect: the congestion control that matters is the data sender's, and with apply_to: receiver the sender keeps the host default (every trial would fail "sender used ..., the profile says ${cc}"). Write apply_to: sender (the default) or apply_to: both, or leave the congestion control out of this profile`,
    );
  }
  return {
    name: p.name ?? (p.cc ? `${arm} (${p.cc})` : arm),
    cc: (p.cc ?? ccSysctl) || undefined,
    sysctls,
    route: {
      initcwnd: r.initcwnd,
      initrwnd: r.initrwnd,
      quickack: r.quickack,
      rtoMinMs: r.rto_min !== undefined ? parseTime(r.rto_min) : undefined,
      congctl: r.congctl,
    },
    applyTo,
  };
}

function resolveWorkload(w: ScenarioFile['workload'], d: ScenarioFile, backend: string): Workload {
  const ms = (v: string | undefined, def: string) => parseTime(v ?? def);
  switch (w.type) {
    case 'bulk': {
      const b = {
        type: 'bulk' as const,
        durationS: ms(w.duration, WORKLOAD_DEFAULTS.bulk.duration) / 1000,
        flows: w.flows ?? WORKLOAD_DEFAULTS.bulk.flows,
        omitS: ms(w.omit, WORKLOAD_DEFAULTS.bulk.omit) / 1000,
        intervalS: ms(w.interval, WORKLOAD_DEFAULTS.bulk.interval) / 1000,
      };
      if (b.durationS <= 0) throw new ResolveError(['workload', 'duration'], 'duration must be positive');
      return b;
    }
    case 'fct': {
      if ((w.size === undefined) === (w.sizes === undefined)) throw new ResolveError(['workload'], 'give either `size` or `sizes`');
      return {
        type: 'fct',
        sizes:
          w.size !== undefined
            ? [{ bytes: parseSize(w.size), weight: 1 }]
            : w.sizes!.map((x) => ({ bytes: parseSize(x.size), weight: x.weight })),
        transfers: w.transfers ?? WORKLOAD_DEFAULTS.fct.transfers,
        gapMs: ms(w.gap, WORKLOAD_DEFAULTS.fct.gap),
        requestBytes: Math.max(16, parseSize(w.request ?? WORKLOAD_DEFAULTS.fct.request)),
      };
    }
    case 'rr':
      return {
        type: 'rr',
        requestBytes: Math.max(16, parseSize(w.request ?? WORKLOAD_DEFAULTS.rr.request)),
        responseBytes: Math.max(1, parseSize(w.response ?? WORKLOAD_DEFAULTS.rr.response)),
        count: w.count ?? WORKLOAD_DEFAULTS.rr.count,
        gapMs: ms(w.gap, WORKLOAD_DEFAULTS.rr.gap),
      };
    case 'pageload':
      return {
        type: 'pageload',
        objects: w.objects.map((o) => parseSize(o)),
        connections: w.connections ?? WORKLOAD_DEFAULTS.pageload.connections,
        pages: w.pages ?? WORKLOAD_DEFAULTS.pageload.pages,
        gapMs: ms(w.gap, WORKLOAD_DEFAULTS.pageload.gap),
        requestBytes: Math.max(16, parseSize(w.request ?? WORKLOAD_DEFAULTS.pageload.request)),
      };
    case 'http': {
      const ext = backend === 'docker' ? d.docker?.sender : undefined;
      if (ext && w.path === undefined) throw new ResolveError(['workload', 'path'], 'give the path to fetch from the docker.sender server');
      if (ext && w.size !== undefined)
        throw new ResolveError(['workload', 'size'], "size applies to netab's own server; with docker.sender give a path");
      if (!ext && w.path !== undefined && !/^\/bytes\/\d+$/.test(w.path))
        throw new ResolveError(
          ['workload', 'path'],
          "netab's own server serves /bytes/<n> only: use `size`, or run your server with backend docker and docker.sender",
        );
      if (!ext && w.path !== undefined && w.size !== undefined) throw new ResolveError(['workload', 'path'], 'give size or path, not both');
      const port = w.port ?? ext?.port ?? WORKLOAD_DEFAULTS.http.port;
      if (ext && ext.port === undefined && w.port === undefined)
        throw new ResolveError(['docker', 'sender', 'port'], 'the http workload needs the port your server listens on');
      return {
        type: 'http',
        path: w.path ?? `/bytes/${parseSize(w.size ?? WORKLOAD_DEFAULTS.http.size)}`,
        port,
        requests: w.requests ?? WORKLOAD_DEFAULTS.http.requests,
        gapMs: ms(w.gap, WORKLOAD_DEFAULTS.http.gap),
        external: Boolean(ext),
      };
    }
    case 'compete':
      return {
        type: 'compete',
        flowsPerArm: w.flows ?? WORKLOAD_DEFAULTS.compete.flows,
        durationMs: ms(w.duration, WORKLOAD_DEFAULTS.compete.duration),
        staggerMs: ms(w.stagger, WORKLOAD_DEFAULTS.compete.stagger),
        omitMs: ms(w.omit, WORKLOAD_DEFAULTS.compete.omit),
        intervalMs: ms(w.interval, WORKLOAD_DEFAULTS.compete.interval),
        baseline: w.baseline ?? WORKLOAD_DEFAULTS.compete.baseline,
      };
  }
}

/** Expected seconds of one trial (timeouts, plans, ETAs): rough, on the generous side. */
export function trialSeconds(w: Workload, rttMs: number, rateBps?: number): number {
  const rtt = Math.max(rttMs, 1) / 1000;
  // time on the wire at the bottleneck rate (a 1 MB response at 1.5 Mbit/s takes 5.3 s, not 4 RTTs)
  const wire = (bytes: number) => (rateBps ? (bytes * 8) / rateBps : 0);
  switch (w.type) {
    case 'bulk':
      return w.durationS + w.omitS + 1.2;
    case 'fct': {
      const total = w.sizes.reduce((a, x) => a + x.weight, 0);
      const mean = w.sizes.reduce((a, x) => a + x.bytes * x.weight, 0) / total;
      return 1 + w.transfers * (4 * rtt + wire(mean) + w.gapMs / 1000 + 0.02);
    }
    case 'http':
      return 1 + w.requests * (5 * rtt + w.gapMs / 1000 + 0.02);
    case 'rr':
      return 1 + w.count * (rtt + wire(w.requestBytes + w.responseBytes) + w.gapMs / 1000 + 0.001);
    case 'pageload':
      return 1 + w.pages * (6 * rtt + wire(w.objects.reduce((a, b) => a + b, 0)) + w.gapMs / 1000 + 0.05);
    case 'compete':
      return 2 + ((w.durationMs + w.omitMs + w.staggerMs) / 1000) * (w.baseline ? 2 : 1);
  }
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export function scenarioHash(s: Omit<Scenario, 'hash' | 'file'> & { hash?: string; file?: string }): string {
  const { hash: _h, file: _f, topology, ...rest } = s;
  const { file: _tf, ...topo } = topology;
  return createHash('sha256')
    .update(canonical({ ...rest, topology: topo }))
    .digest('hex')
    .slice(0, 16);
}

/** The judged metrics: the workload's defaults (METRIC_DEFAULTS) with the scenario's overrides. */
function resolveMetrics(d: ScenarioFile, workload: Workload): MetricSpec[] {
  const wm = WORKLOAD_METRICS[workload.type]!;
  const j = d.judge ?? {};
  const metrics: MetricSpec[] = [];
  const overrides = (j.metrics ?? {}) as Record<string, NonNullable<typeof j.metrics>[string]>;
  for (const name of Object.keys(overrides)) {
    if (!wm.metrics.includes(name))
      throw new ResolveError(
        ['judge', 'metrics', name],
        `the ${workload.type} workload has no metric "${name}" (it has: ${wm.metrics.join(', ')})`,
      );
  }
  for (const name of wm.metrics) {
    const o = own(overrides, name) as (typeof overrides)[string] | undefined;
    if (o === false) continue;
    const def = METRIC_DEFAULTS[name]!;
    const m: MetricSpec = { name, ...def, margin: { ...def.margin } };
    if (o) {
      if (o.direction) m.direction = o.direction;
      if (o.margin !== undefined)
        m.margin =
          typeof o.margin === 'string' ? { kind: 'relative', value: parsePercent(o.margin) } : { kind: 'absolute', value: o.margin };
      if (o.critical !== undefined) m.critical = o.critical;
      if (o.required !== undefined) m.required = o.required;
    }
    if (m.scale === 'linear' && m.margin.kind === 'relative')
      throw new ResolveError(
        ['judge', 'metrics', name, 'margin'],
        `${name} is judged as a difference: give an absolute margin (a number in ${m.unit})`,
      );
    if (m.margin.kind === 'absolute' && (m.unit === 'ratio' || m.unit === 'index') && !(m.margin.value < 1))
      throw new ResolveError(
        ['judge', 'metrics', name, 'margin'],
        `${name} is a ${m.unit} between 0 and 1: an absolute margin must be above 0 and below 1 (got ${m.margin.value})`,
      );
    metrics.push(m);
  }
  return metrics;
}

/** Judge settings and the number of pairs (which the look schedule and min_pairs depend on). */
function resolveJudge(
  d: ScenarioFile,
  workload: Workload,
  metrics: MetricSpec[],
  opts: LoadOptions,
): { judge: JudgeSettings; pairs: number } {
  const wm = WORKLOAD_METRICS[workload.type]!;
  const j = d.judge ?? {};
  const primary = j.primary ?? wm.primary;
  if (!metrics.some((m) => m.name === primary))
    throw new ResolveError(['judge', 'primary'], `primary metric "${primary}" is not among the judged metrics`);
  const judge: JudgeSettings = {
    alpha: j.alpha ?? JUDGE_DEFAULTS.alpha,
    minPairs: j.min_pairs ?? JUDGE_DEFAULTS.minPairs,
    primary,
    expectImprovement: j.expect_improvement ?? JUDGE_DEFAULTS.expectImprovement,
    nonCriticalRegressionsToFail: j.noncritical_regressions_to_fail ?? JUDGE_DEFAULTS.nonCriticalRegressionsToFail,
    maxFailedFraction: j.max_failed !== undefined ? parsePercent(j.max_failed) : JUDGE_DEFAULTS.maxFailedFraction,
    excludeSuspect: j.exclude_suspect ?? JUDGE_DEFAULTS.excludeSuspect,
    sequential: j.sequential ?? JUDGE_DEFAULTS.sequential,
    metrics,
  };
  if (j.drift_alpha !== undefined) judge.driftAlpha = j.drift_alpha;
  const pairs = opts.pairs ?? d.trials?.pairs ?? TRIAL_DEFAULTS.pairs;
  if (judge.sequential) {
    const looks = j.looks ?? JUDGE_DEFAULTS.looks;
    judge.sequentialPlan = { looks, pairsPerLook: Math.ceil(pairs / looks) };
  }
  if (pairs < judge.minPairs && !opts.pairs)
    throw new ResolveError(
      ['trials', 'pairs'],
      `${pairs} pairs is fewer than judge.min_pairs (${judge.minPairs}): the run could never reach a decision`,
    );
  return { judge, pairs };
}

export function resolveScenario(
  d: ScenarioFile,
  ctx: { id: string; file: string; topology: Topology; params: Scenario['params']; opts: LoadOptions },
): Scenario {
  const topo = ctx.topology;
  const workload = resolveWorkload(d.workload, d, ctx.opts.backend ?? d.backend ?? SCENARIO_DEFAULTS.backend);
  const inputs: Record<string, LinkInput> = withPathProfiles((d.links ?? {}) as Record<string, LinkInput>);
  const links = resolveLinks(topo, inputs, ctx.file);
  const { rttMs, rate, bottleneck, loss } = pathSummary(topo, links);
  const flowsOnBottleneck = workload.type === 'bulk' ? workload.flows : workload.type === 'compete' ? 2 * workload.flowsPerArm : 1;
  resolveBuffers(topo, inputs, links, rttMs, flowsOnBottleneck);
  const metrics = resolveMetrics(d, workload);
  if ((ctx.opts.backend ?? d.backend) === 'docker' && (workload.type === 'compete' || d.cross_traffic))
    throw new ResolveError(
      d.cross_traffic ? ['cross_traffic'] : ['workload', 'type'],
      'the docker backend has no peer hosts yet: compete and cross traffic run on the netns backend',
    );
  const { judge, pairs } = resolveJudge(d, workload, metrics, ctx.opts);
  const endpointSysctls = sysctlStrings(d.endpoints?.sysctls);

  const base: Omit<Scenario, 'hash'> = {
    id: ctx.id,
    name: d.name ?? ctx.id,
    description: d.description,
    file: ctx.file,
    params: ctx.params,
    backend: ctx.opts.backend ?? d.backend ?? SCENARIO_DEFAULTS.backend,
    docker: d.docker,
    engine: ctx.opts.engine ?? d.engine ?? SCENARIO_DEFAULTS.engine,
    seed: ctx.opts.seed ?? d.seed,
    topology: topo,
    links,
    endpointSysctls,
    control: resolveProfile(d.control, 'control'),
    canary: resolveProfile(d.canary, 'canary'),
    workload,
    crossTraffic: d.cross_traffic
      ? {
          sources: d.cross_traffic.sources ?? CROSS_TRAFFIC_DEFAULTS.sources,
          meanOnMs: d.cross_traffic.on ? parseTime(d.cross_traffic.on.mean) : CROSS_TRAFFIC_DEFAULTS.meanOnMs,
          shape: d.cross_traffic.on?.shape ?? CROSS_TRAFFIC_DEFAULTS.shape,
          meanOffMs: d.cross_traffic.off ? parseTime(d.cross_traffic.off.mean) : CROSS_TRAFFIC_DEFAULTS.meanOffMs,
          requestBytes:
            d.cross_traffic.request !== undefined ? Math.max(16, parseSize(d.cross_traffic.request)) : CROSS_TRAFFIC_DEFAULTS.requestBytes,
        }
      : undefined,
    trials: {
      pairs,
      warmup: d.trials?.warmup ?? TRIAL_DEFAULTS.warmup,
      timeoutMs:
        d.trials?.timeout !== undefined ? parseTime(d.trials.timeout) : Math.round((30 + 3 * trialSeconds(workload, rttMs, rate)) * 1000),
      replaceBudget: d.trials?.replace_budget !== undefined ? parsePercent(d.trials.replace_budget) : TRIAL_DEFAULTS.replaceBudget,
    },
    judge,
    fidelity: {
      enabled: d.fidelity?.enabled ?? FIDELITY_DEFAULTS.enabled,
      rttToleranceMs: d.fidelity?.rtt_tolerance !== undefined ? parseTime(d.fidelity.rtt_tolerance) : FIDELITY_DEFAULTS.rttToleranceMs,
      rateTolerance: d.fidelity?.rate_tolerance !== undefined ? parsePercent(d.fidelity.rate_tolerance) : FIDELITY_DEFAULTS.rateTolerance,
      samples: d.fidelity?.samples ?? FIDELITY_DEFAULTS.samples,
      strict: d.fidelity?.strict ?? FIDELITY_DEFAULTS.strict,
      cpuSuspect: d.fidelity?.cpu_suspect !== undefined ? parsePercent(d.fidelity.cpu_suspect) : FIDELITY_DEFAULTS.cpuSuspect,
      latenessSuspectMs: d.fidelity?.lateness_suspect !== undefined ? parseTime(d.fidelity.lateness_suspect) : Math.max(2, 0.1 * rttMs),
    },
    path: {
      rttMs,
      rateMbit: rate !== undefined ? rate / 1e6 : undefined,
      loss: loss > 0 ? +loss.toFixed(12) : undefined,
      bufferBytes: bottleneck ? links[bottleneck.name]![bottleneck.dir].bufferBytes : undefined,
      mss: DEFAULT_MSS,
    },
  };
  return { ...base, hash: scenarioHash(base) };
}
