/**
 * The testbed contract both backends (netns, docker) fulfil: a TopologyBackend builds a Testbed from
 * a TestbedRequest; the rest of the pipeline sees only namespaces, hosts and links.
 */
import type { Resources } from '../exec/resources.js';
import type { Scenario } from '../scenario/model.js';
import type { LinkEngine, LinkHandle } from './links.js';

export type Backend = Scenario['backend'];
/** the same union as results' Arm (topology may not import results) */
export type Arm = 'control' | 'canary';
export type Role = 'sender' | 'receiver';

export interface Host {
  arm: Arm;
  role: Role;
  ns: string;
  /** host address, no prefix */
  addr: string;
  gateway: string;
  dev: string;
  router: string;
}

export interface Testbed {
  runId: string;
  backend: Backend;
  namespaces: string[];
  routers: Record<string, string>;
  hosts: Record<Arm, Record<Role, Host>>;
  /**
   * A second control-profile host pair behind the same routers, present when the workload competes
   * (the control trial's competitor) or the scenario has cross traffic (its source and sink).
   */
  peer?: Record<Role, Host>;
  links: LinkHandle[];
  engine: string;
}

/** Everything a backend needs to build one scenario's testbed. */
export interface TestbedRequest {
  scenario: Scenario;
  /** builds the router-to-router links */
  engine: LinkEngine;
  runId: string;
  /** every creation registers its undo here first */
  resources: Resources;
  seed: number;
  log: (s: string) => void;
  /** an A/A run: the canary hosts get the control profile (docker sets per-container sysctls) */
  aa?: boolean;
}

export interface TopologyBackend {
  readonly name: Backend;
  create(req: TestbedRequest): Promise<Testbed>;
}
