/**
 * One trial of a scenario's workload for one arm: look the workload up in the registry
 * (src/workload/registry.ts) and run its trial function, with the scenario's cross traffic around it.
 * Each workload's own module says what its trial does (bulk, fct / rr / pageload, http, compete).
 */
import type { Arm } from '../results/types.js';
import type { Scenario, TuningProfile } from '../scenario/model.js';
import type { Testbed } from '../topology/types.js';
import { startCrossTraffic } from '../workload/cross.js';
import { serverClientEnds } from '../workload/hosts.js';
import type { KeptServers } from '../workload/types.js';
import { workloadDef } from '../workload/registry.js';
import { ecnCounters, ecnDelta } from '../workload/ecn.js';
import type { TrialOutput } from '../workload/types.js';

export interface TrialContext {
  s: Scenario;
  tb: Testbed;
  arm: Arm;
  pair: number;
  seed: number;
  profiles: Record<Arm, TuningProfile>;
  signal?: AbortSignal;
  /** servers kept up across the scenario's trials (iperf3, the transfer tool) */
  servers?: KeptServers;
}

/** Both arms of a pair share this seed (same response sizes, same cross-traffic schedule). */
function pairSeed(seed: number, pair: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 2654435761) + pair * 0x85ebca6b) >>> 0;
}

export async function runWorkloadTrial(c: TrialContext): Promise<TrialOutput> {
  const cross = c.s.crossTraffic && c.tb.peer;
  const seed = pairSeed(c.seed, c.pair);
  const handle = cross
    ? await startCrossTraffic(serverClientEnds(c.tb.peer!), c.s.crossTraffic!, c.s.trials.timeoutMs, seed, c.signal)
    : null;
  // scheduled links: armed now, re-armed when the workload says its traffic starts (bulk), disarmed after
  const scheduled = c.tb.links.filter((l) => l.schedule);
  const arm = (trigger?: 'now' | 'data') => Promise.all(scheduled.map((l) => l.schedule!('start', trigger))).then(() => undefined);
  try {
    const { s, tb, arm: side, profiles, signal, servers } = c;
    // the arm's ECN counters around the trial (CE marks its receiver saw): extra.ecn
    const own = tb.hosts[side];
    const [, ecn0] = await Promise.all([arm(), ecnCounters(own.sender.ns, own.receiver.ns).catch(() => null)]);
    const out = await workloadDef(s.workload).trial(s.workload, {
      s,
      arm: side,
      hosts: tb.hosts,
      peer: tb.peer,
      profiles,
      pairSeed: seed,
      signal,
      servers,
      ...(scheduled.length ? { started: arm } : {}),
    });
    if (handle) out.extra = { ...out.extra, crossTraffic: await handle.stop() };
    const ecn1 = ecn0 && (await ecnCounters(own.sender.ns, own.receiver.ns).catch(() => null));
    if (ecn0 && ecn1) out.extra = { ...out.extra, ecn: ecnDelta(ecn0, ecn1) };
    return out;
  } finally {
    await handle?.stop();
    await Promise.all(scheduled.map((l) => l.schedule!('stop').catch(() => undefined)));
  }
}
