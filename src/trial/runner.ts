/**
 * The run pipeline: for each scenario, build the testbed, apply and read back both arms' tunings,
 * probe fidelity, then run randomized interleaved pairs (control and canary back to back, order drawn
 * from a seeded generator), appending every trial to results.jsonl as it ends. Teardown is registered
 * before each setup step and runs on success, failure and abort.
 *   manifest.ts     the run manifest at the start of an attempt
 *   setup.ts        one scenario: engine, testbed, tunings, fidelity, then its trials, then teardown
 *   trials.ts       the scenario's trial loop with sequential looks; replacement.ts its suspect-pair rounds
 *   execute.ts      one trial: workload (workloads.ts), telemetry, suspicion, the record
 *   schedule.ts     the seeded pair order
 */
import { newRunId } from '../exec/resources.js';
import { runDirPath } from '../results/create.js';
import { RunStore } from '../results/store.js';
import type { RunManifest } from '../results/types.js';
import type { Scenario } from '../scenario/model.js';
import { startManifest } from './manifest.js';
import { trialPlan } from './schedule.js';
import { runOneScenario } from './setup.js';
import { Aborted, type RunOptions } from './types.js';

export async function runScenarios(scenarios: Scenario[], opts: RunOptions): Promise<RunManifest> {
  // namespaces get a fresh id per attempt; the manifest keeps the run's identity across --resume
  const netId = newRunId();
  // a new run claims a new or empty directory; --resume continues the existing one
  const store = opts.resume ? RunStore.resume(opts.runDir) : RunStore.create(opts.runDir);
  if (store.repaired) opts.progress.warn(store.repaired);
  const { manifest, attempt, thisAttempt } = await startManifest(scenarios, opts, netId);
  store.writeManifest(manifest);
  try {
    for (const [i, s] of scenarios.entries()) {
      if (opts.signal?.aborted) throw new Aborted();
      const ms = manifest.scenarios.find((m) => m.id === s.id)!;
      // each scenario keeps its own seed (a run made before per-scenario seeds: the run's seed)
      const seed = ms.seed ?? opts.seed;
      const sOpts: RunOptions = { ...opts, seed };
      const todo = trialPlan(s, seed).filter((t) => !opts.resume?.done.has(`${s.id}#${t.pair}-${t.arm}`));
      if (todo.length === 0) {
        ms.status = 'done';
        continue;
      }
      opts.progress.scenario(i, scenarios.length, s);
      ms.status = 'running';
      store.writeManifest(manifest);
      try {
        await runOneScenario(s, ms, { netId, runId: manifest.runId, attempt, todo }, store, sOpts, () => store.writeManifest(manifest));
        ms.status = 'done';
        delete ms.error;
      } catch (e) {
        ms.status = 'failed';
        ms.error = (e as Error).message;
        throw e;
      } finally {
        store.writeManifest(manifest);
      }
    }
  } catch (e) {
    if (opts.signal?.aborted) {
      manifest.interrupted = true;
      thisAttempt.interrupted = true;
    }
    throw e;
  } finally {
    manifest.finishedAt = thisAttempt.finishedAt = new Date().toISOString();
    store.writeManifest(manifest);
    store.close();
  }
  return manifest;
}

/** `<outRoot>/<stem>-<timestamp>`, the stem made one safe path segment (see results/rundir.ts runDirPath). */
export function runDirFor(outRoot: string, stem: string, when = new Date()): string {
  return runDirPath(outRoot, stem, when);
}
