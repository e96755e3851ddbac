/**
 * Theory for a scenario, drawn next to what was measured, per arm (docs/reports.md, "Theory"):
 *   path: bottleneck rate, BDP = rate × RTT, the buffer in BDPs and against C·RTT/√n (n flows), the
 *     queueing delay of a full buffer;
 *   hard caps per arm: the bottleneck rate and the receive-window cap (the receiver's tcp_rmem max /
 *     RTT, and the kernel's effective share of it); a measured goodput above a hard cap by more than
 *     HARD_CAP_MARGIN is a fidelity alarm;
 *   references per arm: the sender's congestion control's response function at the path's random
 *     loss (Reno: Mathis; CUBIC: RFC 9438; BBR: none), never called a ceiling;
 *   short transfers (fct): round trips and fct expected from initcwnd and size, per arm.
 * The formulas are in theory/physics.ts (pure, exported for other tables); the per-arm inputs in
 * theory/endpoints.ts. All rates are Mbit/s.
 */
import type { ManifestScenario } from '../results/types.js';
import { type Arm, type ArmEndpoints, armEndpoints, fctSizes, flowsThroughBottleneck } from './theory/endpoints.js';
import {
  bdpBytes,
  bufferRuleBytes,
  DEFAULT_MSS,
  expectedChangePct,
  expectedFctMs,
  HARD_CAP_MARGIN,
  mathisMbit,
  receiveWindowShare,
  responseFunction,
  slowStartFlights,
  weightedQuantile,
  windowCapMbit,
} from './theory/physics.js';

export { bdpBytes, mathisMbit, windowCapMbit } from './theory/physics.js';

export interface TheoryLine {
  key: 'rate' | 'window' | 'response';
  /** the arm it belongs to; null when it holds for both */
  arm: Arm | null;
  label: string;
  mbit: number;
  note: string;
  /** a hard cap (rate, receive window) rather than a reference */
  hard: boolean;
}

export interface ArmTheory {
  arm: Arm;
  ends: ArmEndpoints;
  /** receive buffer (tcp_rmem max) / RTT: the absolute window cap */
  rawWindowCapMbit: number;
  /** the kernel's effective window (share × buffer) / RTT: the cap a flow meets */
  windowCapMbit: number;
  /** the lower end of the effective window before the kernel has measured its ratio */
  windowCapLowMbit: number;
  windowShare: number;
  windowRule: string;
  response: ReturnType<typeof responseFunction>;
  /** min(rate, raw window cap): a measured goodput above it (beyond the margin) is impossible */
  hardCapMbit: number;
  hardCapBy: string;
  /** min(rate, effective window cap): what a loss-free flow should reach */
  expectedMbit: number;
  expectedBy: string;
  /** initial receive window in segments (initrwnd, else min(64 KiB, share of tcp_rmem default)) */
  rwnd0Segments: number;
}

export interface ShortFlowArm {
  arm: Arm;
  initcwnd: number;
  sizes: { bytes: number; weight: number; flights: number; fctMs: number }[];
  /** the weighted median of the expected fct over the sizes (what fct_p50 should be) */
  p50FctMs: number | null;
  p50Flights: number | null;
}

export interface Theory {
  rateMbit: number | null;
  rttMs: number;
  mss: number;
  loss: number | null;
  bufferBytes: number | null;
  bdpBytes: number | null;
  bdpPackets: number | null;
  /** buffer in BDPs (bufferBytes / BDP) */
  bufferBdp: number | null;
  /** concurrent flows through the bottleneck and the C·RTT/√n buffer for them */
  flows: number;
  bufferRuleBytes: number | null;
  /** worst-case queueing delay a full bottleneck buffer adds, ms */
  maxQueueDelayMs: number | null;
  /** Reno's response at the path loss (kept for the path table; per-arm references are in `arms`) */
  mathisMbit: number | null;
  arms: ArmTheory[];
  lines: TheoryLine[];
  shortFlows: ShortFlowArm[] | null;
}

function armTheory(ends: ArmEndpoints, p: { rttMs: number; mss: number; rate: number | null; loss: number | null }): ArmTheory {
  const rbuf = ends.rmem.value[2];
  const w = receiveWindowShare(ends.kernel, ends.advWinScale.value, p.mss);
  const raw = windowCapMbit(rbuf, p.rttMs)!;
  const eff = raw * w.share;
  const capBy = (v: number, what: string) => (p.rate !== null && p.rate <= v ? 'bottleneck rate' : what);
  const hard = p.rate !== null ? Math.min(p.rate, raw) : raw;
  const exp = p.rate !== null ? Math.min(p.rate, eff) : eff;
  // initial receive window: initrwnd segments, else the SYN's unscaled 16-bit window over the
  // default buffer's share (before the kernel has measured its ratio)
  const rwnd0Bytes = Math.min(65535, ends.rmem.value[1] * w.lowShare);
  const rwnd0 = ends.initrwnd.value ?? Math.max(1, Math.floor(rwnd0Bytes / p.mss));
  return {
    arm: ends.arm,
    ends,
    rawWindowCapMbit: raw,
    windowCapMbit: eff,
    windowCapLowMbit: raw * w.lowShare,
    windowShare: w.share,
    windowRule: w.rule,
    response: responseFunction(ends.cc.value, p.mss, p.rttMs, p.loss),
    hardCapMbit: hard,
    hardCapBy: capBy(raw, 'receive buffer / RTT'),
    expectedMbit: exp,
    expectedBy: capBy(eff, 'effective receive window / RTT'),
    rwnd0Segments: rwnd0,
  };
}

const same = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));

/** One line per arm, or one for both when the arms agree. */
function perArm(
  arms: ArmTheory[],
  value: (a: ArmTheory) => number,
  key: (a: ArmTheory) => string,
  make: (a: ArmTheory, who: string) => TheoryLine,
) {
  if (arms.length === 2 && same(value(arms[0]!), value(arms[1]!)) && key(arms[0]!) === key(arms[1]!))
    return [{ ...make(arms[0]!, ''), arm: null }];
  return arms.map((a) => make(a, a.arm));
}

/** Chart lines: the rate, the window caps below it, and the response functions. */
function theoryLines(rate: number | null, arms: ArmTheory[], rttMs: number, loss: number | null): TheoryLine[] {
  const lines: TheoryLine[] = [];
  if (rate !== null)
    lines.push({ key: 'rate', arm: null, label: 'bottleneck rate', mbit: rate, note: 'configured link rate (hard cap)', hard: true });
  const binding = arms.filter((a) => rate === null || a.windowCapMbit < rate);
  lines.push(
    ...perArm(
      binding,
      (a) => a.windowCapMbit,
      () => '',
      (a, who) => ({
        key: 'window',
        arm: a.arm,
        label: `rwnd cap${who ? ` (${who})` : ''}`,
        mbit: a.windowCapMbit,
        note: `tcp_rmem max ${a.ends.rmem.value[2]} B × ${+(a.windowShare * 100).toFixed(1)} % / RTT ${rttMs} ms (raw buffer: ${+a.rawWindowCapMbit.toPrecision(3)} Mbit/s)`,
        hard: true,
      }),
    ),
  );
  lines.push(
    ...perArm(
      arms.filter((a) => a.response !== null),
      (a) => a.response!.mbit,
      (a) => a.response!.label,
      (a, who) => ({
        key: 'response',
        arm: a.arm,
        label: `${a.response!.short}${who ? ` (${who})` : ''}`,
        mbit: a.response!.mbit,
        note: `${a.response!.label}: ${a.response!.formula} at p = ${+((loss ?? 0) * 100).toPrecision(3)} %: a reference in the loss model, not a ceiling`,
        hard: false,
      }),
    ),
  );
  return lines;
}

function shortFlowTheory(
  sc: ManifestScenario,
  arms: ArmTheory[],
  p: { rttMs: number; mss: number; rate: number | null },
): ShortFlowArm[] | null {
  const sizes = fctSizes(sc);
  if (!sizes) return null;
  return arms.map((a) => {
    const iw = a.ends.initcwnd.value;
    const per = sizes.map((s) => ({
      ...s,
      flights: slowStartFlights(s.bytes, iw, p.mss, a.rwnd0Segments),
      fctMs: expectedFctMs(s.bytes, { initcwnd: iw, rttMs: p.rttMs, mss: p.mss, rateMbit: p.rate, rwndSegments: a.rwnd0Segments }),
    }));
    return {
      arm: a.arm,
      initcwnd: iw,
      sizes: per,
      p50FctMs: weightedQuantile(
        per.map((x) => ({ value: x.fctMs, weight: x.weight })),
        0.5,
      ),
      p50Flights: weightedQuantile(
        per.map((x) => ({ value: x.flights, weight: x.weight })),
        0.5,
      ),
    };
  });
}

/**
 * null when the scenario has no usable path description. `kernel`: the release the run's endpoints
 * ran on (the manifest environment's; a kernel read back per scenario wins).
 */
export function theoryFor(sc: ManifestScenario | undefined, kernel?: string | null): Theory | null {
  const path = sc?.path;
  if (!sc || !path || typeof path !== 'object') return null;
  const rttMs = Number(path.rttMs);
  const mss = Number(path.mss) > 0 ? Number(path.mss) : DEFAULT_MSS;
  if (!(rttMs > 0)) return null;
  const rate = Number(path.rateMbit) > 0 ? Number(path.rateMbit) : null;
  const loss = Number(path.loss) > 0 ? Number(path.loss) : null;
  const buffer = Number(path.bufferBytes) > 0 ? Number(path.bufferBytes) : null;
  const bdp = rate !== null ? bdpBytes(rate, rttMs) : null;
  const flows = flowsThroughBottleneck(sc);
  const arms = (['control', 'canary'] as const).map((arm) => armTheory(armEndpoints(sc, arm, kernel), { rttMs, mss, rate, loss }));
  return {
    rateMbit: rate,
    rttMs,
    mss,
    loss,
    bufferBytes: buffer,
    bdpBytes: bdp,
    bdpPackets: bdp !== null ? bdp / mss : null,
    bufferBdp: buffer !== null && bdp !== null ? buffer / bdp : null,
    flows,
    bufferRuleBytes: rate !== null ? bufferRuleBytes(rate, rttMs, flows) : null,
    maxQueueDelayMs: buffer !== null && rate !== null ? ((buffer * 8) / (rate * 1e6)) * 1000 : null,
    mathisMbit: loss !== null ? mathisMbit(mss, rttMs, loss) : null,
    arms,
    lines: theoryLines(rate, arms, rttMs, loss),
    shortFlows: shortFlowTheory(sc, arms, { rttMs, mss, rate }),
  };
}

/**
 * The change theory expects for a metric, canary vs control, in percent ((canary/control − 1)·100),
 * for tables that put an expectation beside a measured effect (e.g. a sweep cell): goodput from
 * min(rate, effective receive-window cap) per arm; fct_p50 from the expected fct of the sizes. null
 * when theory has no expectation for the metric (loss-driven and BBR goodput, tails, RTT...).
 */
export function expectedEffectPct(t: Theory, metric: string): number | null {
  const [c, k] = t.arms;
  // on a lossy path a loss-based cc's response function is the model's goodput (a reference, not a
  // cap: measured goodput may exceed it); BBR has none and expects the caps
  const goodput = (a: ArmTheory | undefined) => (a ? Math.min(a.expectedMbit, a.response?.mbit ?? Number.POSITIVE_INFINITY) : null);
  if (metric === 'goodput') return expectedChangePct(goodput(c), goodput(k));
  if (metric === 'fct_p50' && t.shortFlows) return expectedChangePct(t.shortFlows[0]?.p50FctMs, t.shortFlows[1]?.p50FctMs);
  return null;
}

/**
 * A fidelity alarm: the measured goodput is above a hard cap by more than the margin (the testbed
 * delivered more than the physics allows: a broken rate limiter, a counter read wrong). null if fine.
 */
export function hardCapAlarm(measuredMbit: number, capMbit: number, margin: number = HARD_CAP_MARGIN): string | null {
  if (!(capMbit > 0) || !Number.isFinite(measuredMbit) || measuredMbit <= capMbit * (1 + margin)) return null;
  return `${+((measuredMbit / capMbit - 1) * 100).toFixed(1)} % above the hard cap (margin ${+(margin * 100).toFixed(1)} %)`;
}

/** Convert a rate in the given unit to Mbit/s; null when the unit is not a data rate. */
export function toMbit(value: number, unit: string): number | null {
  const u = unit.trim().replace(/\s+/g, '');
  const m = /^([kKMGT]?)(bit\/s|bits\/s|bps|b\/s|B\/s|Bps|byte\/s|bytes\/s)$/.exec(u);
  if (!m) return null;
  const prefix = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[1] as '' | 'k' | 'K' | 'M' | 'G' | 'T'];
  const bits = /^(B\/s|Bps|byte\/s|bytes\/s)$/.test(m[2]!) ? 8 : 1;
  return (value * prefix * bits) / 1e6;
}

/**
 * The sweep tables' theory hook: theory's expected effect of a scenario's metric, oriented like the
 * judge's effect (+ = canary better): for a higher-is-better metric (canary/control − 1)·100, for a
 * lower-is-better one (control/canary − 1)·100, which is how the judge reports a drop in fct.
 */
export function theoryExpectation(
  scenarios: readonly ManifestScenario[],
  kernel: string | null,
  direction: (metric: string) => 'higher' | 'lower' | undefined,
): (scenarioId: string, metric: string) => number | null {
  const byId = new Map(scenarios.map((s) => [s.id, s]));
  const memo = new Map<string, Theory | null>();
  return (id, metric) => {
    const sc = byId.get(id);
    if (!sc) return null;
    if (!memo.has(id)) memo.set(id, theoryFor(sc, kernel));
    const t = memo.get(id);
    const pct = t ? expectedEffectPct(t, metric) : null;
    if (pct === null || !Number.isFinite(pct)) return null;
    if (direction(metric) !== 'lower') return pct;
    const ratio = 1 + pct / 100; // canary / control
    return ratio > 0 ? (1 / ratio - 1) * 100 : null;
  };
}
