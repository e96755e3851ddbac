/**
 * What every workload shares: a trial's output, the hosts a trial runs on, and the shape of a
 * registry entry (src/workload/registry.ts). Types only.
 */
import type { Arm } from '../results/types.js';
import type { Scenario, TuningProfile } from '../scenario/model.js';
import type { Workload } from '../scenario/workloads.js';
import type { IperfServers } from './iperf.js';
import type { ClientConfig, ClientResult } from './transfer-protocol.js';

export interface TrialOutput {
  metrics: Record<string, number | null>;
  series?: Record<string, number[]>;
  extra?: Record<string, unknown>;
}

/** iperf3-style endpoints: the sender namespace, the receiver namespace and the address it listens on */
export interface BulkEndpoints {
  senderNs: string;
  receiverNs: string;
  receiverAddr: string;
}

/** One endpoint host of a testbed, as a workload sees it (a topology's host has more fields). */
export interface WorkloadHost {
  ns: string;
  addr: string;
}

/** A sender/receiver pair of hosts: one arm's hosts, or the peer pair. */
export interface HostPair {
  sender: WorkloadHost;
  receiver: WorkloadHost;
}

/** Everything a workload's trial function gets besides its own spec. */
export interface WorkloadRun {
  s: Scenario;
  arm: Arm;
  /** both arms' hosts; `peer` is the control-profile peer pair (compete, cross traffic) when built */
  hosts: Record<Arm, HostPair>;
  peer?: HostPair;
  profiles: Record<Arm, TuningProfile>;
  /** shared by both arms of a pair (same response sizes, same schedule) */
  pairSeed: number;
  signal?: AbortSignal;
  /** servers kept up across the scenario's trials: iperf3 (bulk), the transfer tool (fct, rr, pageload) */
  servers?: KeptServers;
  /** a workload may call this right before its traffic starts: scheduled links take it as time zero */
  started?: (trigger?: 'now' | 'data') => Promise<void>;
}

/**
 * A registry entry: the metrics a workload produces (names and primary; their default judging is
 * METRIC_DEFAULTS in src/scenario/metrics.ts, which the loader needs) and its trial function.
 */
export interface WorkloadDef<W extends Workload = Workload> {
  type: W['type'];
  metrics: { metrics: string[]; primary: string };
  trial(w: W, c: WorkloadRun): Promise<TrialOutput>;
}

/** A running transfer server (transfer-main.ts): its counters per trial, and stop. */
export interface TransferServer {
  readonly exited: boolean;
  /** the counters since the last call (or the start), then reset; null when it did not answer */
  stats(timeoutMs?: number): Promise<Record<string, unknown> | null>;
  /** stop it; its last counters (since the last stats()) */
  stop(): Promise<Record<string, unknown> | null>;
}

/** Transfer servers kept up across a scenario's trials, one per server host and port (transfer.ts). */
export interface TransferServerPool {
  ensure(ns: string, addr: string, port: number, signal?: AbortSignal): Promise<TransferServer>;
  /** after a failed trial: stop it, the next ensure() starts a new one */
  drop(ns: string, addr: string, port: number): Promise<void>;
  close(): Promise<void>;
}

/** A transfer client kept up across trials (transfer-client.ts): one trial's exchanges per run(). */
export interface TransferClient {
  /** rejects, and stops the client, when it exits, times out or the signal aborts */
  run(cfg: ClientConfig, timeoutMs: number, signal?: AbortSignal): Promise<ClientResult>;
  /** close the connections the last run() held open for the snapshot */
  release(): Promise<void>;
  stop(): Promise<void>;
}

/** Transfer clients kept up for a scenario's trials, one per client namespace. */
export interface TransferClientPool {
  ensure(ns: string): Promise<TransferClient>;
  close(): Promise<void>;
}

/** The servers (and transfer clients) a scenario keeps up across its trials. */
export interface KeptServers {
  iperf: IperfServers;
  transfer: TransferServerPool;
  clients?: TransferClientPool;
}
