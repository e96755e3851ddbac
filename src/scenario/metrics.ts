/** Metrics each workload produces, with their judging defaults. A scenario's `judge.metrics` overrides them. */
import type { MetricSpec } from './judge.js';

type Default = Omit<MetricSpec, 'name'>;

export const METRIC_DEFAULTS: Record<string, Default> = {
  goodput: {
    unit: 'Mbit/s',
    direction: 'higher',
    scale: 'log',
    margin: { kind: 'relative', value: 0.02 },
    critical: true,
    required: true,
  },
  // retransmitted / sent segments: often 0, so judged on the linear scale with an absolute margin
  retrans: {
    unit: 'ratio',
    direction: 'lower',
    scale: 'linear',
    margin: { kind: 'absolute', value: 0.005 },
    critical: false,
    required: false,
  },
  rtt_p50: {
    unit: 'ms',
    direction: 'lower',
    scale: 'log',
    margin: { kind: 'relative', value: 0.1 },
    critical: false,
    required: false,
  },
  rtt_p99: {
    unit: 'ms',
    direction: 'lower',
    scale: 'log',
    margin: { kind: 'relative', value: 0.2 },
    critical: false,
    required: false,
  },
};

const latency = (margin: number, critical: boolean): Default => ({
  unit: 'ms',
  direction: 'lower',
  scale: 'log',
  margin: { kind: 'relative', value: margin },
  critical,
  required: critical,
});
Object.assign(METRIC_DEFAULTS, {
  fct_p50: latency(0.05, true),
  fct_p99: latency(0.1, false),
  ttfb_p50: latency(0.05, false),
  rr_p50: latency(0.05, true),
  rr_p99: latency(0.1, false),
  plt: latency(0.05, true),
  // compete: shares are bounded ratios, judged as differences
  control_harm: {
    unit: 'ratio',
    direction: 'lower',
    scale: 'linear',
    margin: { kind: 'absolute', value: 0.1 },
    critical: true,
    required: true,
  },
  jain: {
    unit: 'index',
    direction: 'higher',
    scale: 'linear',
    margin: { kind: 'absolute', value: 0.05 },
    critical: false,
    required: false,
  },
} satisfies Record<string, Default>);

export const WORKLOAD_METRICS: Record<string, { metrics: string[]; primary: string }> = {
  bulk: { metrics: ['goodput', 'retrans', 'rtt_p50', 'rtt_p99'], primary: 'goodput' },
  fct: { metrics: ['fct_p50', 'fct_p99', 'ttfb_p50', 'retrans'], primary: 'fct_p50' },
  rr: { metrics: ['rr_p50', 'rr_p99', 'retrans'], primary: 'rr_p50' },
  pageload: { metrics: ['plt', 'retrans'], primary: 'plt' },
  compete: { metrics: ['control_harm', 'jain'], primary: 'control_harm' },
  http: { metrics: ['fct_p50', 'fct_p99', 'ttfb_p50', 'retrans'], primary: 'fct_p50' },
};
