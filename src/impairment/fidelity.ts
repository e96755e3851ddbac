/**
 * Fidelity probe: before a scenario's trials, measure the emulated path (RTT p50 with the UDP prober,
 * round-trip loss, bottleneck rate with a UDP flood) and compare with what the scenario configured.
 * The result goes into the manifest and the report; with `fidelity.strict` a miss fails the scenario.
 */
import { join } from 'node:path';
import { run, spawn } from '../exec/index.js';
import { projectRoot } from '../scenario/load.js';
import type { Scenario } from '../scenario/model.js';
import { pathLinks } from '../scenario/load.js';
import { quantileSorted } from '../workload/util.js';
import type { LinkImpairment } from './types.js';

export interface FidelityCheck {
  metric: string;
  configured: number;
  measured: number | null;
  tolerance: string;
  ok: boolean | null;
  unit: string;
}

export interface Fidelity {
  checks: FidelityCheck[];
  ok: boolean;
  probes: number;
  durationMs: number;
}

const PROBE_PORT = 5300;
/** UDP payload for the rate test: 1472 + 8 UDP + 20 IP = 1500, + 14 Ethernet = 1514 on the wire */
const UDP_PAYLOAD = 1472;
const FRAME = 1514;

function probeScript(): string {
  return join(projectRoot(), 'dist', 'impairment', 'probe-main.js');
}

/** Central 99 % interval [lo, hi] of Binomial(n, p), exact (pure; unit-tested). */
export function binomialInterval(n: number, p: number, level = 0.99): [number, number] {
  if (p <= 0) return [0, 0];
  if (p >= 1) return [n, n];
  const tail = (1 - level) / 2;
  const logp = Math.log(p);
  const logq = Math.log1p(-p);
  // log pmf via lgamma recurrence
  let cdf = 0;
  let lo = -1;
  let hi = n;
  let logC = 0; // log C(n, 0)
  for (let k = 0; k <= n; k++) {
    if (k > 0) logC += Math.log(n - k + 1) - Math.log(k);
    cdf += Math.exp(logC + k * logp + (n - k) * logq);
    if (lo < 0 && cdf > tail) lo = k;
    if (cdf >= 1 - tail) {
      hi = k;
      break;
    }
  }
  return [Math.max(lo, 0), hi];
}

function lossOf(i: LinkImpairment): number {
  if (i.loss) return i.loss;
  if (i.gemodel) {
    const g = i.gemodel;
    const piBad = g.p + g.r > 0 ? g.p / (g.p + g.r) : 0;
    return piBad * g.lossBad + (1 - piBad) * g.lossGood;
  }
  return 0;
}

/** Expected round-trip loss and whether the path has impairments the probe can't account for. */
export function expectedRoundTrip(s: Scenario): { loss: number; pure: boolean } {
  let survive = 1;
  let pure = true;
  for (const p of pathLinks(s.topology)!) {
    for (const imp of [s.links[p.name]!.forward, s.links[p.name]!.reverse]) {
      survive *= 1 - lossOf(imp);
      if (imp.gemodel || imp.lossCorrelation || imp.corrupt || imp.duplicate) pure = false;
    }
  }
  return { loss: 1 - survive, pure };
}

export async function probeFidelity(
  s: Scenario,
  ends: { senderNs: string; receiverNs: string; receiverAddr: string },
  signal?: AbortSignal,
): Promise<Fidelity> {
  const t0 = Date.now();
  const checks: FidelityCheck[] = [];
  const n = process.env.NETAB_IN_VM ? Math.min(s.fidelity.samples, 150) : s.fidelity.samples;
  // RTT and loss
  const echo = spawn([process.execPath, probeScript(), 'echo', ends.receiverAddr, String(PROBE_PORT)], { netns: ends.receiverNs });
  try {
    await new Promise<void>((res, rej) => {
      // a Node start takes ~1 s in an emulated VM (20-40x slower than on the host)
      const t = setTimeout(() => rej(new Error('probe echo server did not start')), process.env.NETAB_IN_VM ? 60000 : 10000);
      const check = setInterval(async () => {
        const r = await run(['ss', '-Hlun', `sport = :${PROBE_PORT}`], { netns: ends.receiverNs, reject: false });
        if (r.stdout.trim()) {
          clearInterval(check);
          clearTimeout(t);
          res();
        }
      }, 50);
    });
    // interval: 2 ms, but at most ~2 s of probing. Inside the emulated VM a Node process is 20-40x
    // slower: probing every 2 ms queues packets in the prober itself, so probe every 20 ms there.
    const interval = process.env.NETAB_IN_VM ? 20 : Math.max(0.5, Math.min(2, 2000 / n));
    const r = await run([process.execPath, probeScript(), 'ping', ends.receiverAddr, String(PROBE_PORT), String(n), String(interval)], {
      netns: ends.senderNs,
      timeoutMs: 60000,
      signal,
    });
    const res = JSON.parse(r.stdout) as { sent: number; received: number; rttMs: (number | null)[] };
    const rtts = res.rttMs.filter((x): x is number => x !== null).sort((a, b) => a - b);
    const p50 = rtts.length ? quantileSorted(rtts, 0.5) : null;
    checks.push({
      metric: 'rtt_p50',
      configured: s.path.rttMs,
      measured: p50 !== null ? +p50.toFixed(3) : null,
      tolerance: `±${s.fidelity.rttToleranceMs} ms`,
      ok: p50 !== null ? Math.abs(p50 - s.path.rttMs) <= s.fidelity.rttToleranceMs : false,
      unit: 'ms',
    });
    const exp = expectedRoundTrip(s);
    const lost = res.sent - res.received;
    const [lo, hi] = binomialInterval(res.sent, exp.loss);
    checks.push({
      metric: 'loss_round_trip',
      configured: +exp.loss.toFixed(6),
      measured: +(lost / res.sent).toFixed(6),
      tolerance: exp.pure ? `binomial 99%: ${lo}-${hi} of ${res.sent}` : 'not checked (correlated/bursty loss, duplication or corruption)',
      ok: exp.pure ? lost >= lo && lost <= hi : null,
      unit: 'ratio',
    });
  } finally {
    echo.closeStdin();
    await echo.stop(500);
  }
  // bottleneck rate: a UDP flood at 1.2x the configured rate
  if (s.path.rateMbit) {
    const rate = s.path.rateMbit * 1e6;
    const server = spawn(['iperf3', '-s', '-1', '-p', '5202', '-B', ends.receiverAddr], { netns: ends.receiverNs });
    try {
      const until = Date.now() + 5000;
      while (Date.now() < until) {
        const l = await run(['ss', '-Hltn', 'sport = :5202'], { netns: ends.receiverNs, reject: false });
        if (l.stdout.trim()) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const r = await run(
        ['iperf3', '-c', ends.receiverAddr, '-p', '5202', '-u', '-b', `${Math.round(rate * 1.2)}`, '-l', String(UDP_PAYLOAD), '-t', '2', '-J'],
        { netns: ends.senderNs, timeoutMs: 20000, reject: false, signal },
      );
      const j = JSON.parse(r.stdout || '{}') as { end?: { sum?: { packets?: number; lost_packets?: number; seconds?: number } } };
      const sum = j.end?.sum;
      let measured: number | null = null;
      if (sum?.packets && sum.seconds) {
        const got = sum.packets - (sum.lost_packets ?? 0);
        // on-the-wire rate: frames of 1514 bytes
        measured = (got * FRAME * 8) / sum.seconds / 1e6;
      }
      const exp = s.path.rateMbit;
      checks.push({
        metric: 'rate',
        configured: exp,
        measured: measured !== null ? +measured.toFixed(3) : null,
        tolerance: `±${+(s.fidelity.rateTolerance * 100).toFixed(2)}% (frames incl. Ethernet header)`,
        ok: measured !== null ? Math.abs(measured - exp) / exp <= s.fidelity.rateTolerance : false,
        unit: 'Mbit/s',
      });
    } finally {
      if (!server.exited) await server.stop(300);
    }
  }
  return { checks, ok: checks.every((c) => c.ok !== false), probes: n, durationMs: Date.now() - t0 };
}
