/** A scenario after loading, validation, matrix expansion and normalisation: what the pipeline runs. */
import type { JudgeSettings } from './judge.js';
import type { LinkSpec } from './links.js';
import type { CrossTraffic, Workload } from './workloads.js';

export type CC = 'cubic' | 'bbr' | 'reno';

export interface Topology {
  name: string;
  description: string;
  file: string;
  routers: string[];
  links: { name: string; between: [string, string] }[];
  sender: string;
  receiver: string;
}

export interface RouteOpts {
  initcwnd?: number;
  initrwnd?: number;
  quickack?: boolean;
  rtoMinMs?: number;
  congctl?: CC;
}

export interface TuningProfile {
  name: string;
  cc?: CC;
  sysctls: Record<string, string>;
  route: RouteOpts;
  applyTo: 'sender' | 'receiver' | 'both';
}

export interface DockerEndpoint {
  image: string;
  command?: string[];
  port?: number;
}

export interface Scenario {
  id: string;
  name: string;
  description?: string;
  file: string;
  params: Record<string, string | number | boolean>;
  hash: string;
  backend: 'netns' | 'docker';
  /** backend docker: endpoint images (see topology/docker) */
  docker?: { image?: string; sender?: DockerEndpoint; receiver?: DockerEndpoint };
  engine: 'auto' | 'netem' | 'userspace';
  seed?: number;
  topology: Topology;
  /** every link of the topology, impaired or not */
  links: Record<string, LinkSpec>;
  endpointSysctls: Record<string, string>;
  control: TuningProfile;
  canary: TuningProfile;
  workload: Workload;
  crossTraffic?: CrossTraffic;
  /** replaceBudget: share of `pairs` that may be re-run when suspect (default 0.25; trial/runner) */
  trials: { pairs: number; warmup: number; timeoutMs: number; replaceBudget?: number };
  judge: JudgeSettings;
  fidelity: {
    enabled: boolean;
    rttToleranceMs: number;
    rateTolerance: number;
    samples: number;
    strict: boolean;
    cpuSuspect: number;
    latenessSuspectMs: number;
  };
  /** path summary along sender -> receiver, for the fidelity probe and the report's theory overlay */
  path: { rttMs: number; rateMbit?: number; loss?: number; bufferBytes?: number; mss: number };
  /** `report:` settings of the file (presentation only: not part of the hash) */
  report?: ReportSettings;
}

/**
 * `report:` in a scenario or suite file. `pivot` names matrix dimensions by their full matrix key
 * (the loader resolves short names like `delay` to `links.bottleneck.delay`).
 */
export interface ReportSettings {
  pivot?: { rows?: string[]; cols?: string[] };
}

/** A suite: many scenario files judged as one; possibly one shard of it. */
export interface SuiteInfo {
  name: string;
  /** hash over every expanded scenario's hash, in order: shards of one suite share it */
  hash: string;
  files: string[];
  /** every scenario id of the whole suite, in order (a shard runs a subset) */
  scenarioIds: string[];
  shard?: { index: number; count: number };
  /** set by `netab merge`: the shard run directories it combined */
  mergedFrom?: string[];
  /** set by `netab merge`: what was tolerated reading the shards (a cut-short last line), named in the verdict */
  mergeWarnings?: string[];
  /** the suite file's `report:` settings */
  report?: ReportSettings;
}
