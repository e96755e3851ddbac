/** Metrics each workload produces, with their judging defaults. A scenario's `judge.metrics` overrides them. */
import type { MetricSpec } from '../results/types.js';

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

export const WORKLOAD_METRICS: Record<string, { metrics: string[]; primary: string }> = {
  bulk: { metrics: ['goodput', 'retrans', 'rtt_p50', 'rtt_p99'], primary: 'goodput' },
};
