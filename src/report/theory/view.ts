/**
 * The "Theory vs measured" block of a scenario: key/value rows (path, then per arm: receive window,
 * congestion control and its response function, hard cap, measured goodput and any fidelity alarm;
 * for fct workloads the expected round trips and fct beside the measured fct_p50), and the bar chart.
 * Values the two arms share are printed once, "(both arms)".
 */
import type { MetricResult } from '../../results/types.js';
import type { measuredGoodput } from '../arms.js';
import { ARM_COLORS, barChart, type Bar } from '../charts.js';
import { fmtBytes, fmtNum, fmtSigned } from '../format.js';
import { type KvRow, MINUS } from '../tables.js';
import { type ArmTheory, hardCapAlarm, type Theory } from '../theory.js';
import { expectedChangePct, HARD_CAP_MARGIN } from './physics.js';

const kb = (b: number) => (b % 1000 === 0 && b >= 1000 ? `${b / 1000} KB` : `${b} B`);
const pct = (x: number) => `${fmtNum(x * 100)} %`;

/** Rows for a per-arm value: one "(both arms)" row when both arms print the same. */
function armRows(arms: ArmTheory[], key: (a: ArmTheory) => string, value: (a: ArmTheory) => string): KvRow[] {
  if (arms.length === 2 && key(arms[0]!) === key(arms[1]!) && value(arms[0]!) === value(arms[1]!))
    return [{ key: `${key(arms[0]!)} (both arms)`, value: value(arms[0]!) }];
  return arms.map((a) => ({ key: `${key(a)} (${a.arm})`, value: value(a) }));
}

function pathRows(t: Theory): KvRow[] {
  const rows: KvRow[] = [];
  if (t.rateMbit !== null) rows.push({ key: 'bottleneck rate', value: `${fmtNum(t.rateMbit)} Mbit/s (hard cap)` });
  rows.push({ key: 'base RTT', value: `${fmtNum(t.rttMs)} ms` });
  rows.push({ key: 'MSS', value: `${t.mss} B` });
  if (t.bdpBytes !== null) rows.push({ key: 'BDP (rate × RTT)', value: `${fmtBytes(t.bdpBytes)} = ${fmtNum(t.bdpPackets)} packets` });
  if (t.loss !== null) rows.push({ key: 'random loss', value: `${fmtNum(t.loss * 100)} %` });
  if (t.bufferBytes !== null)
    rows.push({
      key: 'bottleneck buffer',
      value: `${fmtBytes(t.bufferBytes)}${t.bufferBdp !== null ? ` = ${fmtNum(t.bufferBdp)} × BDP` : ''}`,
    });
  if (t.bufferRuleBytes !== null)
    rows.push({
      key: `buffer rule C·RTT/√n (n = ${t.flows} flow${t.flows === 1 ? '' : 's'})`,
      value: `${fmtBytes(t.bufferRuleBytes)}${t.bufferBytes !== null ? `; the buffer is ${fmtNum(t.bufferBytes / t.bufferRuleBytes)} × it` : ''}`,
    });
  if (t.maxQueueDelayMs !== null) rows.push({ key: 'queueing delay, full buffer', value: `${fmtNum(t.maxQueueDelayMs)} ms` });
  return rows;
}

function armTheoryRows(t: Theory): KvRow[] {
  const arms = t.arms;
  return [
    ...armRows(
      arms,
      () => 'receiver tcp_rmem max',
      (a) => `${a.ends.rmem.value[2]} B (${a.ends.rmem.source})`,
    ),
    ...armRows(
      arms,
      () => 'receive-window cap',
      (a) =>
        `${fmtNum(a.rawWindowCapMbit)} Mbit/s for the whole buffer / RTT; ${fmtNum(a.windowCapMbit)} Mbit/s for the kernel's ` +
        `effective window (${pct(a.windowShare)}; ${a.windowRule}${a.ends.kernel ? `; kernel ${a.ends.kernel}` : ''})`,
    ),
    ...armRows(
      arms,
      () => 'sender congestion control',
      (a) => `${a.ends.cc.value} (${a.ends.cc.source})`,
    ),
    ...(t.loss === null
      ? []
      : armRows(
          arms,
          (a) => a.response?.label ?? `${a.ends.cc.value} response`,
          (a) =>
            a.response
              ? `${fmtNum(a.response.mbit)} Mbit/s: ${a.response.formula}, a reference in the loss model, not a ceiling`
              : a.ends.cc.value === 'bbr'
                ? 'none: BBR models the bottleneck rate, not loss'
                : 'no model for this congestion control',
        )),
    ...armRows(
      arms,
      () => 'hard cap',
      (a) => `${fmtNum(a.hardCapMbit)} Mbit/s (${a.hardCapBy})`,
    ),
  ];
}

function measuredRows(t: Theory, gp: ReturnType<typeof measuredGoodput>): KvRow[] {
  const rows: KvRow[] = [];
  const alarms: KvRow[] = [];
  for (const g of gp) {
    const a = t.arms.find((x) => x.arm === g.arm);
    if (!a) continue;
    rows.push({
      key: `measured ${g.arm} (median)`,
      value: `${fmtNum(g.med)} Mbit/s = ${fmtNum((g.med / a.expectedMbit) * 100)} % of ${a.expectedBy} (${fmtNum(a.expectedMbit)} Mbit/s)`,
    });
    const alarm = hardCapAlarm(g.med, a.hardCapMbit);
    if (alarm)
      alarms.push({
        key: `⚠ fidelity alarm (${g.arm})`,
        value: `measured ${fmtNum(g.med)} Mbit/s is ${alarm}: ${fmtNum(a.hardCapMbit)} Mbit/s (${a.hardCapBy}); the testbed delivered more than the physics allows`,
      });
  }
  return [...alarms, ...rows];
}

function fctRows(t: Theory, metrics: MetricResult[]): KvRow[] {
  if (!t.shortFlows) return [];
  const rows: KvRow[] = [];
  const fct = metrics.find((m) => m.name === 'fct_p50');
  for (const s of t.shortFlows) {
    for (const z of s.sizes)
      rows.push({
        key: `expected, ${kb(z.bytes)} (${s.arm}, initcwnd ${s.initcwnd})`,
        value: `${1 + z.flights} round trips = 1 handshake + ${z.flights} for the response; fct ≈ ${fmtNum(z.fctMs)} ms`,
      });
    const measured = fct?.[s.arm]?.median;
    rows.push({
      key: `expected fct_p50 (${s.arm})`,
      value: `${fmtNum(s.p50FctMs)} ms (${fmtNum(s.p50Flights)} RTT request → last byte)${typeof measured === 'number' ? `; measured ${fmtNum(measured)} ms` : ''}`,
    });
  }
  const [c, k] = t.shortFlows;
  const exp = expectedChangePct(c?.p50FctMs, k?.p50FctMs);
  if (exp !== null) {
    const meas = expectedChangePct(fct?.control?.median, fct?.canary?.median);
    rows.push({
      key: 'fct_p50 change, canary vs control',
      value: `expected ${fmtSigned(exp, 1, MINUS)} %${meas !== null ? `; measured ${fmtSigned(meas, 1, MINUS)} %` : ''}`,
    });
  }
  return rows;
}

export function theoryBlock(t: Theory, gp: ReturnType<typeof measuredGoodput>, chart: boolean, metrics: MetricResult[] = []) {
  const rows = [...pathRows(t), ...armTheoryRows(t), ...measuredRows(t, gp), ...fctRows(t, metrics)];
  const bars: Bar[] = [
    ...t.lines.map((l) => ({
      label: l.label,
      value: l.mbit,
      color: l.key === 'response' ? '#8250df' : l.key === 'window' ? '#0969da' : '#57606a',
      theory: true,
    })),
    ...gp.map((g) => ({ label: `measured ${g.arm}`, value: g.med, lo: g.q1, hi: g.q3, color: ARM_COLORS[g.arm] })),
  ];
  const svg = chart && bars.length ? barChart(bars, { title: 'theory vs measured goodput', unit: 'Mbit/s' }) : '';
  const note = gp.length
    ? `measured: ${gp[0]!.source}, median with interquartile range. Hollow bars are theory: the rate and receive-window caps ` +
      `are hard caps, response functions only references. A median above a hard cap by more than ${fmtNum(HARD_CAP_MARGIN * 100)} % is a fidelity alarm.`
    : 'no goodput measured in this scenario';
  return { rows, svg, note };
}
