/**
 * One trial's execution: run the workload for one arm, read the links' telemetry and the host CPU
 * around it, decide whether the trial is suspect, and append its record (and telemetry) to the run.
 */
import { readFileSync } from 'node:fs';
import type { RelayStats } from '../impairment/userspace/protocol.js';
import type { RunStore } from '../results/store.js';
import type { Arm, TrialRecord } from '../results/types.js';
import type { Scenario, TuningProfile } from '../scenario/model.js';
import type { Testbed } from '../topology/types.js';
import type { KeptServers } from '../workload/types.js';
import type { TrialOutput } from '../workload/types.js';
import type { Replacement } from './replacement.js';
import { Aborted, type AttemptCtx, type RunOptions } from './types.js';
import { runWorkloadTrial } from './workloads.js';

/** What every trial of a scenario shares. */
export interface TrialEnv {
  s: Scenario;
  tb: Testbed;
  ctx: AttemptCtx;
  store: RunStore;
  opts: RunOptions;
  profiles: Record<Arm, TuningProfile>;
  servers: KeptServers;
}

function cpuTimes(): { idle: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { idle, total: v.reduce((a, b) => a + b, 0) };
}

/** Run one trial and append its record to the run (telemetry too, when a link reported any). */
export async function executeTrial(
  env: TrialEnv,
  pair: number,
  position: 0 | 1,
  arm: Arm,
  replacement?: Replacement,
): Promise<TrialRecord> {
  const { s, tb, ctx, store, opts, profiles, servers } = env;
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
    // the relay's stats only: a kernel link reports red counters or its schedule's changes
    if (!isRelayStats(t.stats)) continue;
    const st = t.stats;
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
  return rec;
}

function isRelayStats(x: unknown): x is RelayStats {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'relay';
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
