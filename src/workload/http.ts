/**
 * The `http` workload: GET requests over fresh connections from the receiver host to an HTTP server
 * on the sender host (the tuned side). The server is netab's own (http-main.js, serving /bytes/N)
 * unless the scenario names one (backend docker: `docker.sender` with its image, command and port),
 * in which case the workload fetches `path` from that service. Metrics as `fct`.
 */
import { join } from 'node:path';
import { run } from '../exec/index.js';
import { projectRoot } from '../paths.js';
import { WORKLOAD_METRICS } from '../scenario/metrics.js';
import type { HttpWorkload } from '../scenario/workloads.js';
import { flushTcpMetrics, tcpCounters } from './tcp.js';
import { serverClientEnds } from './hosts.js';
import type { TrialOutput, WorkloadDef } from './types.js';
import type { ClientResult, FctTransfer } from './transfer-protocol.js';
import { reduceFct, type TransferEndpoints } from './transfer.js';
import { startTransferServer } from './transfer-server.js';

export function httpScript(): string {
  return join(projectRoot(), 'dist', 'workload', 'http-main.js');
}

export async function runHttpTrial(
  ep: TransferEndpoints,
  w: HttpWorkload,
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<TrialOutput> {
  await Promise.all([flushTcpMetrics(ep.serverNs), flushTcpMetrics(ep.clientNs)]);
  const server = w.external ? null : await startTransferServer(ep.serverNs, ep.serverAddr, w.port, opts.signal, httpScript());
  try {
    const before = await tcpCounters(ep.serverNs);
    const r = await run(
      [
        process.execPath,
        httpScript(),
        'client',
        JSON.stringify({ addr: ep.serverAddr, port: w.port, path: w.path, requests: w.requests, gapMs: w.gapMs }),
      ],
      { netns: ep.clientNs, timeoutMs: opts.timeoutMs, signal: opts.signal, reject: false },
    );
    const after = await tcpCounters(ep.serverNs);
    let res: Omit<ClientResult, 'transfers'> & { transfers?: (FctTransfer & { status: number })[] };
    try {
      res = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
    } catch {
      throw new Error(`http client exit ${r.exitCode}${r.timedOut ? ' (timed out)' : ''}: ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
    }
    const bad = (res.transfers ?? []).filter((t) => t.status !== 200);
    if (bad.length)
      throw new Error(`http: ${bad.length} of ${res.transfers!.length} responses were not 200 (first: ${bad[0]!.status}) for ${w.path}`);
    return reduceFct(res, {
      outSegs: (after.OutSegs ?? 0) - (before.OutSegs ?? 0),
      retransSegs: (after.RetransSegs ?? 0) - (before.RetransSegs ?? 0),
    });
  } finally {
    await server?.stop();
  }
}

/** The registry entry: GETs from the arm's receiver to the server on its sender. */
export const http: WorkloadDef<HttpWorkload> = {
  type: 'http',
  metrics: WORKLOAD_METRICS.http!,
  trial: (w, c) => runHttpTrial(serverClientEnds(c.hosts[c.arm]), w, { timeoutMs: c.s.trials.timeoutMs, signal: c.signal }),
};
