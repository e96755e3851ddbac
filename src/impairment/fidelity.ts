/**
 * Fidelity probe: before a scenario's trials, measure the emulated path (RTT p50 with the UDP prober,
 * or ping inside the emulated VM; round-trip loss; bottleneck rate with a UDP flood) and compare with what the scenario configured.
 * The result goes into the manifest and the report; with `fidelity.strict` a miss fails the scenario.
 */
import { join } from 'node:path';
import { run, spawn, untilReady } from '../exec/index.js';
import { waitListening } from '../exec/listen.js';
import { inVm as hostInVm } from '../host.js';
import { projectRoot } from '../paths.js';
import type { Scenario } from '../scenario/model.js';
import { pathLinks } from '../scenario/load.js';
import { quantileSorted } from '../stats/quantile.js';
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
  /** how RTT and loss were probed: netab's UDP prober, or ping (ICMP echo; inside the emulated VM) */
  prober?: 'udp' | 'icmp';
}

/**
 * ping's per-packet output -> sent, received, RTTs (duplicates skipped) and the print resolution at
 * their median (iputils prints 3 decimals below 1 ms, 2 below 10, 1 below 100, whole ms above). Pure.
 */
export function parsePing(text: string): { sent: number; received: number; rttMs: number[]; resolutionMs: number } {
  const m = /(\d+) packets transmitted, (\d+) received/.exec(text);
  if (!m) throw new Error(`unexpected ping output: ${text.trim().split('\n').slice(-3).join(' | ')}`);
  const rttMs: number[] = [];
  for (const line of text.split('\n')) {
    if (line.includes('DUP!')) continue;
    const t = /icmp_seq=\d+ .*time=([\d.]+) ms/.exec(line);
    if (t) rttMs.push(Number(t[1]));
  }
  // the step at the median (a few late packets printed in whole ms do not coarsen it)
  const med = rttMs.length ? [...rttMs].sort((a, b) => a - b)[Math.floor(rttMs.length / 2)]! : 0;
  const resolutionMs = med >= 100 ? 1 : med >= 10 ? 0.1 : med >= 1 ? 0.01 : 0.001;
  return { sent: Number(m[1]), received: Number(m[2]), rttMs, resolutionMs };
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
  const inVm = hostInVm();
  const n = inVm ? Math.min(s.fidelity.samples, 150) : s.fidelity.samples;
  // RTT and loss
  const rl = inVm ? await icmpProbe(ends, n, signal) : await udpProbe(ends, n, signal);
  const rtts = rl.rttMs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  const p50 = rtts.length ? quantileSorted(rtts, 0.5) : null;
  // a median of printed values is off by at most half the print step
  const slack = rl.resolutionMs / 2;
  const tol = s.fidelity.rttToleranceMs + (slack >= 0.01 ? slack : 0);
  checks.push({
    metric: 'rtt_p50',
    configured: s.path.rttMs,
    measured: p50 !== null ? +p50.toFixed(3) : null,
    tolerance: `±${s.fidelity.rttToleranceMs} ms${slack >= 0.01 ? ` (+${slack} ms: ping prints ${rl.resolutionMs} ms steps)` : ''}`,
    ok: p50 !== null ? Math.abs(p50 - s.path.rttMs) <= tol : false,
    unit: 'ms',
  });
  const exp = expectedRoundTrip(s);
  const lost = rl.sent - rl.received;
  const [lo, hi] = binomialInterval(rl.sent, exp.loss);
  checks.push({
    metric: 'loss_round_trip',
    configured: +exp.loss.toFixed(6),
    measured: +(lost / rl.sent).toFixed(6),
    tolerance: exp.pure ? `binomial 99%: ${lo}-${hi} of ${rl.sent}` : 'not checked (correlated/bursty loss, duplication or corruption)',
    ok: exp.pure ? lost >= lo && lost <= hi : null,
    unit: 'ratio',
  });
  await rateProbe(s, ends, checks, signal);
  return { checks, ok: checks.every((c) => c.ok !== false), probes: n, durationMs: Date.now() - t0, prober: inVm ? 'icmp' : 'udp' };
}

interface RttLoss {
  sent: number;
  received: number;
  rttMs: (number | null)[];
  resolutionMs: number;
}

/**
 * Inside the emulated VM: ping (ICMP echo answered by the receiver's kernel, timed with kernel
 * timestamps) every 20 ms. A Node prober there is 20-40x slower to start and its event loop adds
 * milliseconds to every sample; ping adds neither.
 */
async function icmpProbe(ends: { senderNs: string; receiverAddr: string }, n: number, signal?: AbortSignal): Promise<RttLoss> {
  const r = await run(['ping', '-n', '-c', String(n), '-i', '0.02', '-W', '2', ends.receiverAddr], {
    netns: ends.senderNs,
    timeoutMs: 60000,
    reject: false,
    signal,
  });
  return parsePing(r.stdout);
}

/** netab's UDP prober (dist/impairment/probe-main.js): an echo server and a pinger, hrtime timestamps. */
async function udpProbe(
  ends: { senderNs: string; receiverNs: string; receiverAddr: string },
  n: number,
  signal?: AbortSignal,
): Promise<RttLoss> {
  let ready: () => void = () => {};
  const started = new Promise<void>((res) => (ready = res));
  const echo = spawn([process.execPath, probeScript(), 'echo', ends.receiverAddr, String(PROBE_PORT)], {
    netns: ends.receiverNs,
    // the echo server prints {"event":"ready"} once bound
    onLine: (l) => {
      if (l.includes('"ready"')) ready();
    },
  });
  try {
    await untilReady(echo, started, 10000, 'probe echo server');
    // interval: 2 ms, but at most ~2 s of probing
    const interval = Math.max(0.5, Math.min(2, 2000 / n));
    const r = await run([process.execPath, probeScript(), 'ping', ends.receiverAddr, String(PROBE_PORT), String(n), String(interval)], {
      netns: ends.senderNs,
      timeoutMs: 60000,
      signal,
    });
    const res = JSON.parse(r.stdout) as { sent: number; received: number; rttMs: (number | null)[] };
    return { ...res, resolutionMs: 0.001 };
  } finally {
    echo.closeStdin();
    await echo.stop(500);
  }
}

/** Bottleneck rate: a UDP flood at 1.2x the configured rate. */
async function rateProbe(
  s: Scenario,
  ends: { senderNs: string; receiverNs: string; receiverAddr: string },
  checks: FidelityCheck[],
  signal?: AbortSignal,
): Promise<void> {
  if (s.path.rateMbit) {
    const rate = s.path.rateMbit * 1e6;
    const server = spawn(['iperf3', '-s', '-1', '-p', '5202', '-B', ends.receiverAddr], { netns: ends.receiverNs });
    try {
      await waitListening(ends.receiverNs, 5202, 5000, signal);
      const r = await run(
        [
          'iperf3',
          '-c',
          ends.receiverAddr,
          '-p',
          '5202',
          '-u',
          '-b',
          `${Math.round(rate * 1.2)}`,
          '-l',
          String(UDP_PAYLOAD),
          '-t',
          '2',
          '-J',
        ],
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
}
