/**
 * One scenario of a run, set up and torn down: choose the impairment engine, build the testbed,
 * apply and read back both arms' tunings, probe fidelity, keep iperf3 servers and namespace anchors
 * up, then run its trials. Teardown is registered before each setup step and runs on success,
 * failure and abort.
 */
import { anchorNamespace } from '../exec/index.js';
import { Resources } from '../exec/resources.js';
import { probeFidelity } from '../impairment/fidelity.js';
import { chooseEngine } from '../impairment/index.js';
import type { RunStore } from '../results/store.js';
import type { Arm, ManifestScenario } from '../results/types.js';
import type { Scenario, TuningProfile } from '../scenario/model.js';
import { backendFor } from '../topology/backend.js';
import type { Testbed } from '../topology/types.js';
import { applyProfile, ensureAllowed, type Readback } from '../tuning/index.js';
import { IperfServers } from '../workload/iperf.js';
import { TransferClients } from '../workload/transfer-client.js';
import { TransferServers } from '../workload/transfer-server.js';
import { runTrials } from './trials.js';
import { Aborted, type AttemptCtx, type RunOptions } from './types.js';

function profilesFor(s: Scenario, aa: boolean): Record<Arm, TuningProfile> {
  return {
    control: s.control,
    canary: aa ? { ...s.control, name: `${s.control.name} (A/A)` } : s.canary,
  };
}

export async function runOneScenario(
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
    const { engine, reason, randomness } = await chooseEngine(s.engine, runId);
    ms.engine = { name: engine.name, reason, randomness };
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
    const backend = await backendFor(s);
    const tb: Testbed = await backend.create({ scenario: s, engine, runId, resources, seed, log, aa: opts.aa });
    if (opts.signal?.aborted) throw new Aborted();

    opts.progress.step('applying tunings and reading them back');
    const readback = await applyTunings(s, tb, profiles);
    ms.readback = readback;
    save();

    if (s.fidelity.enabled) await checkFidelity(s, tb, ms, opts, save);
    if (opts.signal?.aborted) throw new Aborted();
    const record = (pid: number) => resources.record((st) => st.pids.push(pid));
    const servers = { iperf: new IperfServers(record), transfer: new TransferServers(record), clients: new TransferClients(record) };
    resources.defer('stop kept-up servers', () =>
      Promise.all([servers.iperf.close(), servers.transfer.close(), servers.clients.close()]).then(() => undefined),
    );
    // one idle process per endpoint namespace: per-trial /proc/net reads become file reads
    const endpoints = [tb.hosts.control, tb.hosts.canary, ...(tb.peer ? [tb.peer] : [])].flatMap((p) => [p.sender.ns, p.receiver.ns]);
    const anchors = endpoints.map((ns) => anchorNamespace(ns));
    resources.record((st) => st.pids.push(...anchors.flatMap((a) => (a.pid !== undefined ? [a.pid] : []))));
    resources.defer('stop namespace anchors', async () => {
      await Promise.all(anchors.map((a) => a.stop(200)));
    });
    await runTrials({ s, tb, ctx, store, opts, profiles, servers }, ms, save);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    opts.progress.step('tearing down');
    const errs = await resources.close();
    if (errs.length) log(`teardown left errors: ${errs.join('; ')} (run \`netab gc\`)`);
  }
}

/** Apply each arm's profile to its hosts (the peer pair gets control's) and read every setting back. */
async function applyTunings(
  s: Scenario,
  tb: Testbed,
  profiles: Record<Arm, TuningProfile>,
): Promise<Record<string, Record<string, Readback>>> {
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
  return readback;
}

/** Probe the control path against the scenario's impairment; out of tolerance fails (strict) or warns. */
async function checkFidelity(s: Scenario, tb: Testbed, ms: ManifestScenario, opts: RunOptions, save: () => void): Promise<void> {
  const log = (m: string) => opts.progress.warn(m);
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
