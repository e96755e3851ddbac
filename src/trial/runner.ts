/**
 * The run pipeline: for each scenario, build the testbed, apply and read back both arms' tunings,
 * probe fidelity, then run randomized interleaved pairs (control and canary back to back, order drawn
 * from a seeded generator), appending every trial to results.jsonl as it ends. Teardown is registered
 * before each setup step and runs on success, failure and abort.
 */
import { hostname, release } from 'node:os';
import { readFileSync } from 'node:fs';
import { anchorNamespace, run } from '../exec/index.js';
import { InterruptedError } from '../errors.js';
import { hostCapabilities } from '../host.js';
import { Resources, newRunId } from '../exec/resources.js';
import { chooseEngine, probeNetem } from '../impairment/index.js';
import type { RelayStats } from '../impairment/userspace/protocol.js';
import { probeFidelity } from '../impairment/fidelity.js';
import type { Arm, ManifestScenario, RunManifest, SuiteInfo, TrialRecord } from '../results/types.js';
import { RunStore } from '../results/store.js';
import { runDirPath } from '../results/rundir.js';
import type { Scenario, TuningProfile } from '../scenario/model.js';
import { createTestbed, type Testbed } from '../topology/netns/index.js';
import { applyProfile, ensureAllowed, type Readback } from '../tuning/index.js';
import type { TrialOutput } from '../workload/bulk.js';
import { runWorkloadTrial } from './workloads.js';
import { IperfServers } from '../workload/bulk.js';
import { NETAB_VERSION } from '../version.js';
import { mulberry32 } from '../stats/random.js';
import { estimateSeconds } from '../scenario/suite.js';
import { sequentialLook } from '../judge/index.js';

export interface Progress {
  scenario(i: number, n: number, s: Scenario): void;
  step(msg: string): void;
  trial(done: number, total: number, rec: TrialRecord): void;
  warn(msg: string): void;
}

export interface RunOptions {
  runDir: string;
  runId?: string;
  seed: number;
  aa: boolean;
  command: string[];
  sourceFile: string;
  signal?: AbortSignal;
  progress: Progress;
  /** CPU busy share above which a trial is flagged suspect */
  cpuSuspect?: number;
  suite?: SuiteInfo;
  /** --resume: the interrupted run's manifest and the trials it already finished ("<scenario>#<pair>-<arm>") */
  resume?: { manifest: RunManifest; done: Set<string>; records: TrialRecord[] };
  /** scenarios in the whole run (sequential looks split alpha across them) */
  scenarioCount?: number;
}

export class Aborted extends InterruptedError {
  constructor() {
    super('interrupted');
  }
}

function cpuTimes(): { idle: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { idle, total: v.reduce((a, b) => a + b, 0) };
}

async function versionOf(argv: string[]): Promise<string | undefined> {
  const r = await run(argv, { reject: false });
  return (r.stdout + r.stderr).split('\n')[0]?.trim() || undefined;
}

export function manifestScenario(s: Scenario): ManifestScenario {
  return {
    id: s.id,
    name: s.name,
    params: s.params,
    hash: s.hash,
    scenario: s,
    judge: s.judge,
    path: s.path,
    status: 'pending',
    file: s.file,
    estimateS: Math.round(estimateSeconds(s)),
  };
}

export async function runScenarios(scenarios: Scenario[], opts: RunOptions): Promise<RunManifest> {
  // namespaces get a fresh id per attempt; the manifest keeps the run's identity across --resume
  const netId = newRunId();
  // a new run claims a new or empty directory; --resume continues the existing one
  const store = opts.resume ? RunStore.resume(opts.runDir) : RunStore.create(opts.runDir);
  if (store.repaired) opts.progress.warn(store.repaired);
  const probe = await probeNetem(netId).catch(() => ({ ok: false, detail: 'probe failed' }));
  const prev = opts.resume?.manifest;
  const attempt = (prev?.attempts?.length ?? 0) + 1;
  const manifest: RunManifest = prev
    ? { ...prev, interrupted: false, finishedAt: undefined }
    : {
        format: 'netab-run/1',
        runId: opts.runId ?? netId,
        netabVersion: NETAB_VERSION,
        createdAt: new Date().toISOString(),
        command: opts.command,
        sourceFile: opts.sourceFile,
        seed: opts.seed,
        backend: scenarios[0]?.backend ?? 'netns',
        aa: opts.aa,
        environment: {
          kernel: release(),
          hostname: hostname(),
          node: process.version,
          iproute2: await versionOf(['ip', '-V']),
          iperf3: await versionOf(['iperf3', '--version']),
          netem: probe.ok,
          vm: hostCapabilities().vm,
        },
        scenarios: scenarios.map(manifestScenario),
        suite: opts.suite,
      };
  manifest.attempts = [...(prev?.attempts ?? []), { attempt, startedAt: new Date().toISOString(), command: opts.command }];
  const thisAttempt = manifest.attempts[manifest.attempts.length - 1]!;
  store.writeManifest(manifest);
  try {
    for (const [i, s] of scenarios.entries()) {
      if (opts.signal?.aborted) throw new Aborted();
      const ms = manifest.scenarios.find((m) => m.id === s.id)!;
      const todo = trialPlan(s, opts.seed).filter((t) => !opts.resume?.done.has(`${s.id}#${t.pair}-${t.arm}`));
      if (todo.length === 0) {
        ms.status = 'done';
        continue;
      }
      opts.progress.scenario(i, scenarios.length, s);
      ms.status = 'running';
      store.writeManifest(manifest);
      try {
        await runOneScenario(s, ms, { netId, runId: manifest.runId, attempt, todo }, store, opts, () => store.writeManifest(manifest));
        ms.status = 'done';
        delete ms.error;
      } catch (e) {
        ms.status = 'failed';
        ms.error = (e as Error).message;
        throw e;
      } finally {
        store.writeManifest(manifest);
      }
    }
  } catch (e) {
    if (opts.signal?.aborted) {
      manifest.interrupted = true;
      thisAttempt.interrupted = true;
    }
    throw e;
  } finally {
    manifest.finishedAt = thisAttempt.finishedAt = new Date().toISOString();
    store.writeManifest(manifest);
    store.close();
  }
  return manifest;
}

export interface PlannedTrial {
  pair: number;
  position: 0 | 1;
  arm: Arm;
}

/** Every trial of a scenario in run order: pairs in a seeded random order (pure; unit-tested). */
export function trialPlan(s: Scenario, seed: number): PlannedTrial[] {
  const total = s.trials.warmup + s.trials.pairs;
  const orders = pairOrders((seed ^ hashString(s.id)) >>> 0, total);
  return orders.flatMap((o, pair) => o.map((arm, position) => ({ pair, position: position as 0 | 1, arm })));
}

function profilesFor(s: Scenario, aa: boolean): Record<Arm, TuningProfile> {
  return {
    control: s.control,
    canary: aa ? { ...s.control, name: `${s.control.name} (A/A)` } : s.canary,
  };
}

interface AttemptCtx {
  netId: string;
  runId: string;
  attempt: number;
  todo: PlannedTrial[];
}

async function runOneScenario(
  s: Scenario,
  ms: ManifestScenario,
  ctx: AttemptCtx,
  store: RunStore,
  opts: RunOptions,
  save: () => void,
): Promise<void> {
  const log = (m: string) => opts.progress.warn(m);
  const runId = ctx.netId;
  const resources = new Resources(runId, log);
  const seed = opts.seed;
  const profiles = profilesFor(s, opts.aa);
  const onAbort = () => {};
  opts.signal?.addEventListener('abort', onAbort);
  try {
    opts.progress.step('choosing impairment engine');
    const { engine, reason } = await chooseEngine(s.engine, runId);
    ms.engine = { name: engine.name, reason };
    save();
    // every congestion control any endpoint will select: profiles, route options and plain sysctls
    const ccs = [
      profiles.control.cc,
      profiles.canary.cc,
      profiles.control.route.congctl,
      profiles.canary.route.congctl,
      s.endpointSysctls['net.ipv4.tcp_congestion_control'],
      profiles.control.sysctls['net.ipv4.tcp_congestion_control'],
      profiles.canary.sysctls['net.ipv4.tcp_congestion_control'],
    ].filter((x): x is string => Boolean(x));
    await ensureAllowed(ccs, resources);
    if (opts.signal?.aborted) throw new Aborted();
    opts.progress.step(`building ${s.topology.name} topology (${engine.name} engine)`);
    const tb: Testbed =
      s.backend === 'docker'
        ? // loaded only for docker runs: netns runs never touch dockerode
          await (async () => {
            const dk = await import('../topology/docker/index.js');
            return dk.createDockerTestbed(s, engine, runId, resources, seed, log, { hostSysctls: dk.dockerSysctlsFor(s, opts.aa) });
          })()
        : await createTestbed(s, engine, runId, resources, seed, log);
    if (opts.signal?.aborted) throw new Aborted();

    opts.progress.step('applying tunings and reading them back');
    const readback: Record<string, Record<string, Readback>> = {};
    for (const arm of ['control', 'canary'] as const) {
      readback[arm] = {};
      const p = profiles[arm];
      for (const role of ['sender', 'receiver'] as const) {
        const h = tb.hosts[arm][role];
        const applies = p.applyTo === 'both' || p.applyTo === role;
        readback[arm]![role] = await applyProfile({ ns: h.ns, gateway: h.gateway, dev: h.dev }, applies ? p : null, s.endpointSysctls);
      }
    }
    if (tb.peer) {
      // the peer pair (competitor / cross traffic) runs the control profile
      readback.peer = {};
      for (const role of ['sender', 'receiver'] as const) {
        const h = tb.peer[role];
        const applies = profiles.control.applyTo === 'both' || profiles.control.applyTo === role;
        readback.peer[role] = await applyProfile(
          { ns: h.ns, gateway: h.gateway, dev: h.dev },
          applies ? profiles.control : null,
          s.endpointSysctls,
        );
      }
    }
    ms.readback = readback;
    save();

    if (s.fidelity.enabled) {
      opts.progress.step('probing path fidelity');
      const c = tb.hosts.control;
      const f = await probeFidelity(s, { senderNs: c.sender.ns, receiverNs: c.receiver.ns, receiverAddr: c.receiver.addr }, opts.signal);
      ms.fidelity = f;
      save();
      const bad = f.checks.filter((x) => x.ok === false);
      if (bad.length) {
        const msg = `fidelity out of tolerance: ${bad.map((b) => `${b.metric} configured ${b.configured} measured ${b.measured} (${b.tolerance})`).join('; ')}`;
        if (s.fidelity.strict) throw new Error(msg);
        log(msg);
      }
    }
    if (opts.signal?.aborted) throw new Aborted();
    const servers = new IperfServers((pid) => resources.record((st) => st.pids.push(pid)));
    resources.defer('stop iperf3 servers', () => servers.close());
    // one idle process per endpoint namespace: per-trial /proc/net reads become file reads
    const endpoints = [tb.hosts.control, tb.hosts.canary, ...(tb.peer ? [tb.peer] : [])].flatMap((p) => [p.sender.ns, p.receiver.ns]);
    const anchors = endpoints.map((ns) => anchorNamespace(ns));
    resources.record((st) => st.pids.push(...anchors.flatMap((a) => (a.pid !== undefined ? [a.pid] : []))));
    resources.defer('stop namespace anchors', async () => {
      await Promise.all(anchors.map((a) => a.stop(200)));
    });
    await runTrials(s, tb, ctx, store, opts, profiles, servers, ms, save);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    opts.progress.step('tearing down');
    const errs = await resources.close();
    if (errs.length) log(`teardown left errors: ${errs.join('; ')} (run \`netab gc\`)`);
  }
}

/** Pair order: a seeded fair coin per pair (pure; unit-tested). */
export function pairOrders(seed: number, pairs: number): Arm[][] {
  const rng = mulberry32(seed);
  return Array.from({ length: pairs }, () => (rng() < 0.5 ? ['control', 'canary'] : ['canary', 'control']));
}

async function runTrials(
  s: Scenario,
  tb: Testbed,
  ctx: AttemptCtx,
  store: RunStore,
  opts: RunOptions,
  profiles: Record<Arm, TuningProfile>,
  servers: IperfServers,
  ms: ManifestScenario,
  save: () => void,
): Promise<void> {
  let done = 0;
  const seen: TrialRecord[] = [...(opts.resume?.records.filter((r) => r.scenario === s.id) ?? [])];
  const plan = s.judge.sequential ? s.judge.sequentialPlan : undefined;
  const budget = replacementBudget(s);
  let total = ctx.todo.length;

  const runOne = async (pair: number, position: 0 | 1, arm: Arm, replacement?: Replacement): Promise<TrialRecord> => {
    if (opts.signal?.aborted) throw new Aborted();
    const started = new Date();
    const cpu0 = cpuTimes();
    await Promise.all(tb.links.map((l) => l.telemetry(true)));
    let out: TrialOutput | null = null;
    let reason: string | null = null;
    try {
      out = await runWorkloadTrial({ s, tb, arm, pair, seed: opts.seed, profiles, signal: opts.signal, servers });
    } catch (e) {
      if (opts.signal?.aborted) throw new Aborted();
      reason = (e as Error).message;
    }
    const cpu1 = cpuTimes();
    const busy = cpu1.total > cpu0.total ? 1 - (cpu1.idle - cpu0.idle) / (cpu1.total - cpu0.total) : 0;
    const telemetry = await Promise.all(tb.links.map(async (l) => ({ link: l.name, stats: await l.telemetry(true) })));
    const deviations: string[] = [];
    const relayWarnings: string[] = [];
    for (const t of telemetry) {
      const st = t.stats as RelayStats | null;
      if (!st) continue;
      relayWarnings.push(...st.warnings.map((x) => `relay ${t.link}: ${x}`));
      deviations.push(...relaySuspicions(t.link, st, s.fidelity.latenessSuspectMs));
    }
    const suspect = suspectReason(deviations, busy, opts.cpuSuspect ?? s.fidelity.cpuSuspect);
    const trial = `${s.id}#${pair}-${arm}`;
    const rec: TrialRecord = {
      type: 'trial',
      runId: ctx.runId,
      scenario: s.id,
      trial,
      pair,
      position,
      arm,
      warmup: pair < s.trials.warmup,
      status: out ? 'ok' : 'failed',
      suspect,
      reason,
      startedAt: started.toISOString(),
      durationMs: Date.now() - started.getTime(),
      attempt: ctx.attempt,
      metrics: out?.metrics ?? {},
      series: out?.series,
      extra: {
        ...(out?.extra ?? {}),
        cpuBusy: +busy.toFixed(3),
        ...(relayWarnings.length ? { relayWarnings } : {}),
        ...(replacement ? { replacement } : {}),
      },
    };
    if (telemetry.some((t) => t.stats)) store.writeTelemetry(replacement ? `${trial}~r${replacement.round}` : trial, telemetry);
    store.append(rec);
    seen.push(rec);
    done++;
    opts.progress.trial(done, total, rec);
    return rec;
  };

  for (const { pair, position, arm } of ctx.todo) {
    await runOne(pair, position, arm);
    // sequential mode: look at each block boundary (pairs are complete when their second trial ends)
    const measured = pair + 1 - s.trials.warmup;
    if (plan && position === 1 && measured > 0 && measured % plan.pairsPerLook === 0) {
      const index = Math.min(plan.looks, measured / plan.pairsPerLook);
      const look = sequentialLook(seen, s.judge, { index, planned: plan.looks, scenarios: opts.scenarioCount ?? 1 }, s.id);
      opts.progress.step(
        `sequential look ${index}/${plan.looks} after ${measured} pairs: ${look.stop ? `stop (${look.decisionSoFar})` : 'continue'}`,
      );
      if (look.stop) break;
    }
  }

  // suspect pairs are re-run whole at the end of the schedule (same pair index, same arm order), while
  // the budget lasts; a replacement that is suspect again is queued again
  const order = new Map(trialPlan(s, opts.seed).map((t) => [`${t.pair}-${t.position}`, t.arm]));
  const replaced = new Map<number, string>();
  for (;;) {
    const state = replacementState(seen, s.trials.warmup);
    ms.replacements = { budget, used: state.used, pairs: state.log, unreplaced: state.pending.length };
    save();
    // pairs not replaced yet first, so one pair that stays suspect cannot use up the whole budget
    const tries = (pair: number) => state.log.filter((l) => l.pair === pair).length;
    const next = [...state.pending].sort((a, b) => tries(a.pair) - tries(b.pair) || a.pair - b.pair)[0];
    if (next === undefined || state.used >= budget || opts.signal?.aborted) break;
    const round = state.used + 1;
    if (!replaced.has(next.pair)) total += 2;
    replaced.set(next.pair, next.reason);
    opts.progress.step(`pair ${next.pair} was suspect (${next.reason}): re-running it (replacement ${round} of at most ${budget})`);
    for (const position of [0, 1] as const) {
      const arm = order.get(`${next.pair}-${position}`) ?? (position === 0 ? 'control' : 'canary');
      await runOne(next.pair, position, arm, { round, reason: next.reason });
    }
  }
}

/** extra.replacement of a trial that re-runs a suspect pair */
export interface Replacement {
  /** 1 for the scenario's first replacement pair, 2 for the second, ... */
  round: number;
  /** why the pair it replaces was suspect */
  reason: string;
}

/**
 * Extra pairs a scenario may re-run: trials.replace_budget (default 25 %) of its measured pairs, at
 * least 1. None with judge.exclude_suspect off: suspect trials are then judged like any other.
 */
export function replacementBudget(s: Scenario): number {
  const share = s.trials.replaceBudget ?? 0.25;
  if (share <= 0 || !s.judge.excludeSuspect) return 0;
  return Math.max(1, Math.ceil(share * s.trials.pairs));
}

/**
 * Which measured pairs still need a replacement (pure; unit-tested): the latest record of each arm (file
 * order) ran ok, at least one is suspect, none failed (a failure is evidence against its arm, never
 * re-run away). `used` counts replacement pairs already run (extra.replacement), across resumed attempts.
 */
export function replacementState(
  records: readonly TrialRecord[],
  warmup: number,
): { pending: { pair: number; reason: string }[]; used: number; log: { pair: number; round: number; reason: string }[] } {
  const latest = new Map<string, TrialRecord>();
  const rounds = new Map<number, { pair: number; round: number; reason: string }>();
  for (const r of records) {
    if (r.pair < warmup) continue;
    const prev = latest.get(`${r.pair}/${r.arm}`);
    if (!prev || (r.attempt ?? 1) >= (prev.attempt ?? 1)) latest.set(`${r.pair}/${r.arm}`, r);
    const rep = r.extra?.replacement as Replacement | undefined;
    if (rep && typeof rep.round === 'number') rounds.set(rep.round, { pair: r.pair, round: rep.round, reason: rep.reason });
  }
  const pairs = new Set([...latest.values()].map((r) => r.pair));
  const pending: { pair: number; reason: string }[] = [];
  for (const pair of [...pairs].sort((a, b) => a - b)) {
    const c = latest.get(`${pair}/control`);
    const k = latest.get(`${pair}/canary`);
    if (!c || !k || c.status !== 'ok' || k.status !== 'ok') continue;
    const why = [c.suspect ? `control: ${c.suspect}` : '', k.suspect ? `canary: ${k.suspect}` : ''].filter(Boolean).join('; ');
    if (why) pending.push({ pair, reason: why });
  }
  const log = [...rounds.values()].sort((a, b) => a.round - b.round);
  return { pending, used: log.length, log };
}

/**
 * A trial is suspect when the emulation was measured to deviate during it (relay lateness beyond the
 * limit, drops the link model did not decide). Host CPU load is context: it is named in the reason
 * when there is a deviation, and never flags a trial on its own (pure; unit-tested).
 */
export function suspectReason(deviations: readonly string[], cpuBusy: number, cpuLimit: number): string | null {
  if (deviations.length === 0) return null;
  const context = cpuBusy > cpuLimit ? [`host CPU ${(cpuBusy * 100).toFixed(0)}% busy during the trial`] : [];
  return [...deviations, ...context].join('; ');
}

/**
 * When the relay's own telemetry makes a trial's values doubtful (pure; unit-tested): packets it
 * released late by more than `limitMs` at p99 (fidelity.lateness_suspect, default max(2 ms, 10 % of
 * the path RTT)), or loss the model did not decide (kernel or relay drops). Smaller lateness is
 * recorded (extra.relayWarnings) but keeps the trial.
 */
export function relaySuspicions(link: string, st: Pick<RelayStats, 'forward' | 'reverse'>, limitMs: number): string[] {
  const limit = limitMs;
  const out: string[] = [];
  for (const [name, d] of [
    ['forward', st.forward],
    ['reverse', st.reverse],
  ] as const) {
    if (d.latenessMs.count > 0 && d.latenessMs.p99 > limit)
      out.push(`relay ${link} ${name}: send lateness p99 ${d.latenessMs.p99} ms > ${+limit.toFixed(2)} ms`);
    if (d.drops.kernel > 0) out.push(`relay ${link} ${name}: ${d.drops.kernel} datagrams dropped by the kernel (relay short of CPU)`);
    if (d.drops.relay > 0) out.push(`relay ${link} ${name}: ${d.drops.relay} datagrams dropped inside the relay`);
  }
  return out;
}

export function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** `<outRoot>/<stem>-<timestamp>`, the stem made one safe path segment (see results/rundir.ts runDirPath). */
export function runDirFor(outRoot: string, stem: string, when = new Date()): string {
  return runDirPath(outRoot, stem, when);
}
