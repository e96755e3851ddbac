/** A scenario after loading, validation, matrix expansion and normalisation: what the pipeline runs. */
import type { LinkSpec } from '../impairment/types.js';
import type { JudgeSettings } from '../results/types.js';
import type { CompeteWorkload } from '../workload/compete.js';
import type { HttpWorkload } from '../workload/http.js';
import type { CrossTraffic } from '../workload/cross.js';
import type { FctWorkload, PageloadWorkload, RrWorkload } from '../workload/transfer.js';

export type { CompeteWorkload, CrossTraffic, FctWorkload, HttpWorkload, PageloadWorkload, RrWorkload };

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

export interface BulkWorkload {
  type: 'bulk';
  durationS: number;
  flows: number;
  omitS: number;
  intervalS: number;
}
export type Workload = BulkWorkload | FctWorkload | RrWorkload | PageloadWorkload | CompeteWorkload | HttpWorkload;

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
}
