/**
 * The workload registry: each workload's module declares its entry (metrics and trial function);
 * adding a workload is its module plus one line here. The schema part (spec type, zod schema, defaults
 * and METRIC_DEFAULTS) stays in src/scenario, which the loader needs below this layer.
 */
import type { Workload } from '../scenario/workloads.js';
import { bulk } from './bulk.js';
import { compete } from './compete.js';
import { http } from './http.js';
import { fct, pageload, rr } from './transfer.js';
import type { WorkloadDef } from './types.js';

type Registry = { [K in Workload['type']]: WorkloadDef<Extract<Workload, { type: K }>> };

const WORKLOADS: Registry = { bulk, fct, rr, pageload, http, compete };

/** The registry entry of a workload spec. */
export function workloadDef<W extends Workload>(w: W): WorkloadDef<W> {
  return WORKLOADS[w.type as W['type']] as unknown as WorkloadDef<W>;
}
