/** The run manifest at the start of an attempt: a new run's identity and environment, or the resumed run's with one more attempt. */
import { hostname, release } from 'node:os';
import { run } from '../exec/index.js';
import { hostCapabilities } from '../host.js';
import { probeNetem } from '../impairment/index.js';
import type { ManifestScenario, RunManifest } from '../results/types.js';
import type { Scenario } from '../scenario/model.js';
import { estimateSeconds, scenarioSeed } from '../scenario/suite.js';
import { NETAB_VERSION } from '../version.js';
import type { RunOptions } from './types.js';

async function versionOf(argv: string[]): Promise<string | undefined> {
  const r = await run(argv, { reject: false });
  return (r.stdout + r.stderr).split('\n')[0]?.trim() || undefined;
}

/** A scenario's manifest entry before it runs; `seed` is its own (see scenarioSeed). */
export function manifestScenario(s: Scenario, runSeed: number): ManifestScenario {
  return {
    id: s.id,
    name: s.name,
    params: s.params,
    hash: s.hash,
    scenario: s,
    judge: s.judge,
    path: s.path,
    status: 'pending',
    file: s.file,
    estimateS: Math.round(estimateSeconds(s)),
    seed: scenarioSeed(s, runSeed),
    ...(s.report ? { report: s.report } : {}),
  };
}

/** The manifest of this attempt (written by the caller), its number and its entry in `attempts`. */
export async function startManifest(
  scenarios: Scenario[],
  opts: RunOptions,
  netId: string,
): Promise<{ manifest: RunManifest; attempt: number; thisAttempt: NonNullable<RunManifest['attempts']>[number] }> {
  const probe = await probeNetem(netId).catch(() => ({ ok: false, detail: 'probe failed' }));
  const prev = opts.resume?.manifest;
  const attempt = (prev?.attempts?.length ?? 0) + 1;
  const manifest: RunManifest = prev
    ? { ...prev, interrupted: false, finishedAt: undefined }
    : {
        format: 'netab-run/1',
        runId: opts.runId ?? netId,
        netabVersion: NETAB_VERSION,
        createdAt: new Date().toISOString(),
        command: opts.command,
        sourceFile: opts.sourceFile,
        seed: opts.seed,
        backend: scenarios[0]?.backend ?? 'netns',
        aa: opts.aa,
        environment: {
          kernel: release(),
          hostname: hostname(),
          node: process.version,
          iproute2: await versionOf(['ip', '-V']),
          iperf3: await versionOf(['iperf3', '--version']),
          netem: probe.ok,
          vm: hostCapabilities().vm,
        },
        scenarios: scenarios.map((s) => manifestScenario(s, opts.seed)),
        suite: opts.suite,
      };
  manifest.attempts = [...(prev?.attempts ?? []), { attempt, startedAt: new Date().toISOString(), command: opts.command }];
  const thisAttempt = manifest.attempts[manifest.attempts.length - 1]!;
  return { manifest, attempt, thisAttempt };
}
