/**
 * What a topology backend asks of an impairment engine: one router-to-router link between two
 * namespaces, the link model applied per direction. The engines (src/impairment) implement this; the
 * backends only call it, so topology never imports impairment.
 */
import { run } from '../exec/index.js';
import type { Resources } from '../exec/resources.js';
import type { Scenario } from '../scenario/model.js';

export interface LinkEnd {
  ns: string;
  ifname: string;
  /** address with prefix length, e.g. 198.19.0.1/30 */
  addr: string;
}

export interface LinkRequest {
  runId: string;
  index: number;
  name: string;
  a: LinkEnd;
  b: LinkEnd;
  spec: Scenario['links'][string];
  seed: number;
  resources: Resources;
  log: (s: string) => void;
}

export interface LinkHandle {
  name: string;
  /** per-direction telemetry since the last reset (userspace engine), or null */
  telemetry(reset: boolean): Promise<unknown | null>;
  /**
   * scheduled links: arm the schedule (the workload starts now; with trigger "data" an engine that
   * sees packets may wait for the first full-size data packet) or disarm it (scenario/schedule.ts)
   */
  schedule?(action: 'start' | 'stop', trigger?: 'now' | 'data'): Promise<void>;
  /** health of the emulation during the last interval: a reason string when doubtful */
  health?(): Promise<string | null>;
}

/** An impairment engine as the backends see it. */
export interface LinkEngine {
  readonly name: string;
  createLink(req: LinkRequest): Promise<LinkHandle>;
}

const OFFLOADS_OFF = ['tso', 'off', 'gso', 'off', 'gro', 'off'];

/** Switch off segmentation/receive offloads that make emulation see 64 KB super-packets (as nsperf does). */
export async function offloadsOff(ns: string, dev: string): Promise<void> {
  await run(['ethtool', '-K', dev, ...OFFLOADS_OFF], { netns: ns, reject: false });
}

/**
 * The same as a line for an `ip -batch` run from the root namespace (ip starts ethtool in `ns` as
 * its own child): many devices' offloads in one process started by netab. Mark it `mayFail` there,
 * as offloadsOff ignores a failure.
 */
export function offloadsOffLine(ns: string, dev: string, ...more: string[]): string[] {
  return ['ip', 'netns', 'exec', ns, 'ethtool', '-K', dev, ...more, ...OFFLOADS_OFF];
}
