/**
 * Every default a scenario file may leave out, in one place: the loader fills them in (resolve.ts,
 * resolve-links.ts) and test/unit/readme-defaults.test.ts checks the README against them.
 * Judging defaults per metric are in metrics.ts (METRIC_DEFAULTS).
 */

/** workload fields, as a scenario file writes them */
export const WORKLOAD_DEFAULTS = {
  bulk: { duration: '5s', flows: 1, omit: '0s', interval: '100ms' },
  fct: { transfers: 20, gap: '0ms', request: '100B' },
  rr: { request: '100B', response: '1KB', count: 100, gap: '0ms' },
  pageload: { connections: 6, pages: 3, gap: '0ms', request: '300B' },
  http: { port: 8080, size: '45KB', requests: 20, gap: '0ms' },
  compete: { flows: 1, duration: '10s', stagger: '0s', omit: '0s', interval: '500ms', baseline: true },
} as const;

/** cross_traffic, normalised (ms, bytes) */
export const CROSS_TRAFFIC_DEFAULTS = { sources: 1, meanOnMs: 500, shape: 1.5, meanOffMs: 1000, requestBytes: 100 } as const;

/** a link's queue when it has a rate and no buffer */
export const LINK_DEFAULTS = { buffer: '1bdp' } as const;

/**
 * aqm (RED) when min/max/probability are left out: max = buffer/2, min = max/3 (Floyd's guidance
 * max_th = 3 * min_th, and tc-red's advice to keep the hard limit well above max), max_p 10 %.
 */
export const AQM_DEFAULTS = { maxOfBuffer: 1 / 2, probability: 0.1, ecn: false } as const;

export const PROFILE_DEFAULTS = { applyTo: 'sender' } as const;

export const SCENARIO_DEFAULTS = { backend: 'netns', engine: 'auto' } as const;

export const JUDGE_DEFAULTS = {
  alpha: 0.05,
  minPairs: 5,
  expectImprovement: false,
  nonCriticalRegressionsToFail: 2,
  maxFailedFraction: 0.2,
  excludeSuspect: true,
  sequential: false,
  looks: 4,
} as const;

export const TRIAL_DEFAULTS = { pairs: 10, warmup: 1, replaceBudget: 0.25 } as const;

export const FIDELITY_DEFAULTS = {
  enabled: true,
  rttToleranceMs: 0.5,
  rateTolerance: 0.03,
  samples: 500,
  strict: false,
  cpuSuspect: 0.99,
} as const;
