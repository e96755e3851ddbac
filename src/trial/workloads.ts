/**
 * One trial of a scenario's workload for one arm: dispatch to the workload module, with bulk's ss
 * telemetry and the scenario's cross traffic around it.
 *   bulk                iperf3 from the arm's sender to its receiver, `ss -tin` sampled every 100 ms
 *   fct / rr / pageload the transfer server on the arm's sender (the tuned host sends the data),
 *                       the client on its receiver; both arms of a pair draw the same sizes
 *   compete             control's flows share the bottleneck with a competitor: in the control trial
 *                       a second control-profile pair (the peer hosts), in the canary trial the canary
 *                       arm; so control_harm compares "harm by the canary" with "harm by a control peer"
 */
import { inVm } from '../host.js';
import type { Arm } from '../results/types.js';
import type { Scenario, TuningProfile } from '../scenario/model.js';
import type { Testbed } from '../topology/netns/index.js';
import { runBulkTrial, IPERF_PORT, type IperfServers, type TrialOutput } from '../workload/bulk.js';
import { runCompeteTrial } from '../workload/compete.js';
import { runHttpTrial } from '../workload/http.js';
import { startCrossTraffic } from '../workload/cross.js';
import { sampleSs, ssSeries } from '../workload/telemetry.js';
import { runFctTrial, runPageloadTrial, runRrTrial } from '../workload/transfer.js';

export interface TrialContext {
  s: Scenario;
  tb: Testbed;
  arm: Arm;
  pair: number;
  seed: number;
  profiles: Record<Arm, TuningProfile>;
  signal?: AbortSignal;
  /** bulk: iperf3 servers kept up across the scenario's trials */
  servers?: IperfServers;
}

function ccOf(p: TuningProfile): string | undefined {
  return p.route.congctl ?? p.cc;
}

/** Both arms of a pair share this seed (same response sizes, same cross-traffic schedule). */
export function pairSeed(seed: number, pair: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 2654435761) + pair * 0x85ebca6b) >>> 0;
}

async function workloadTrial(c: TrialContext): Promise<TrialOutput> {
  const { s, tb, arm, signal } = c;
  const h = tb.hosts[arm];
  const timeoutMs = s.trials.timeoutMs;
  const w = s.workload;
  switch (w.type) {
    case 'bulk': {
      const ends = { senderNs: h.sender.ns, receiverNs: h.receiver.ns, receiverAddr: h.receiver.addr };
      const o = { timeoutMs, signal, expectCC: ccOf(c.profiles[arm]), servers: c.servers };
      // Inside the emulated VM every ss snapshot is a process start (~0.8 s there): a handful of
      // samples per trial, taken on the CPUs the flows need. There, iperf3's own per-interval
      // RTT/cwnd series (from the same tcp_info) stand alone.
      if (inVm()) return runBulkTrial(ends, w, o);
      // iperf3's data connections (not its control connection, which carries a few hundred bytes)
      const sampler = sampleSs(h.sender.ns, ['dport', '=', `:${IPERF_PORT}`], 100, signal);
      try {
        const out = await runBulkTrial(ends, w, o);
        const ss = ssSeries(await sampler.stop(), (x) => (x.bytesAcked ?? 0) > 65536);
        for (const [k, v] of Object.entries(ss)) if (v.length) out.series = { ...out.series, [`ss_${k}`]: v };
        return out;
      } finally {
        await sampler.stop();
      }
    }
    case 'fct':
    case 'rr':
    case 'pageload': {
      const ep = { serverNs: h.sender.ns, serverAddr: h.sender.addr, clientNs: h.receiver.ns };
      const o = { timeoutMs, signal, seed: pairSeed(c.seed, c.pair) };
      if (w.type === 'fct') return runFctTrial(ep, w, o);
      if (w.type === 'rr') return runRrTrial(ep, w, o);
      return runPageloadTrial(ep, w, o);
    }
    case 'http':
      return runHttpTrial({ serverNs: h.sender.ns, serverAddr: h.sender.addr, clientNs: h.receiver.ns }, w, { timeoutMs, signal });
    case 'compete': {
      const competitor = arm === 'canary' ? tb.hosts.canary : tb.peer!;
      const ends = (x: typeof competitor) => ({ senderNs: x.sender.ns, receiverNs: x.receiver.ns, receiverAddr: x.receiver.addr });
      const out = await runCompeteTrial({ control: ends(tb.hosts.control), canary: ends(competitor) }, w, {
        timeoutMs,
        signal,
        expectCC: { control: ccOf(c.profiles.control), canary: ccOf(arm === 'canary' ? c.profiles.canary : c.profiles.control) },
      });
      out.extra = { ...out.extra, competitor: arm === 'canary' ? 'canary arm' : 'control-profile peer' };
      return out;
    }
  }
}

export async function runWorkloadTrial(c: TrialContext): Promise<TrialOutput> {
  const cross = c.s.crossTraffic && c.tb.peer;
  const handle = cross
    ? await startCrossTraffic(
        { serverNs: c.tb.peer!.sender.ns, serverAddr: c.tb.peer!.sender.addr, clientNs: c.tb.peer!.receiver.ns },
        c.s.crossTraffic!,
        c.s.trials.timeoutMs,
        pairSeed(c.seed, c.pair),
        c.signal,
      )
    : null;
  try {
    const out = await workloadTrial(c);
    if (handle) out.extra = { ...out.extra, crossTraffic: await handle.stop() };
    return out;
  } finally {
    await handle?.stop();
  }
}
