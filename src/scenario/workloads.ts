/** The workload specs a scenario can hold, normalised (sizes in bytes, times in ms); src/workload runs them. */

export interface BulkWorkload {
  type: 'bulk';
  durationS: number;
  flows: number;
  omitS: number;
  intervalS: number;
}

export type Workload = BulkWorkload | FctWorkload | RrWorkload | PageloadWorkload | CompeteWorkload | HttpWorkload;

export interface SizeWeight {
  bytes: number;
  weight: number;
}

/** Normalised workload configs (sizes in bytes, times in ms). */
export interface FctWorkload {
  type: 'fct';
  /** one entry = a fixed size; several = a weighted distribution, drawn per transfer */
  sizes: SizeWeight[];
  transfers: number;
  gapMs: number;
  requestBytes: number;
}

export interface RrWorkload {
  type: 'rr';
  requestBytes: number;
  responseBytes: number;
  count: number;
  gapMs: number;
}

export interface PageloadWorkload {
  type: 'pageload';
  /** object sizes of the page */
  objects: number[];
  /** parallel fresh connections per page load (a browser opens up to 6 per host) */
  connections: number;
  /** page loads per trial, each on fresh connections; the trial's plt is their mean */
  pages: number;
  gapMs: number;
  requestBytes: number;
}

export interface HttpWorkload {
  type: 'http';
  /** path to fetch; with netab's own server "/bytes/<size>" */
  path: string;
  port: number;
  requests: number;
  gapMs: number;
  /** true: the sender host already runs the server (a docker endpoint image); netab starts none */
  external: boolean;
}

export interface CompeteWorkload {
  type: 'compete';
  /** parallel flows per arm */
  flowsPerArm: number;
  /** measured overlap, ms */
  durationMs: number;
  /** canary starts this long after control, ms (default 0) */
  staggerMs: number;
  /** start of the overlap not counted, ms (default 0) */
  omitMs: number;
  /** iperf3 reporting interval, ms (default 500; windows are prorated over it) */
  intervalMs: number;
  /** run the control-alone baseline (default true; without it control_harm is null) */
  baseline: boolean;
}

/** Background on/off cross traffic (scenario `cross_traffic`), run by workload/cross. */
export interface CrossTraffic {
  /** independent on/off sources */
  sources: number;
  /** mean of the Pareto on period, ms */
  meanOnMs: number;
  /** Pareto shape α (> 1; 1.5 = the classic heavy tail) */
  shape: number;
  /** mean of the exponential off period, ms */
  meanOffMs: number;
  /** request size of each on period's connection (bytes, >= 16) */
  requestBytes: number;
}
