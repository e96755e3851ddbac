/** Test helper (rollout tests): a copy of test/fixtures/report/run with tuning profiles and a chosen decision. */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Decision, RunManifest, Verdict } from '../../src/results/types.js';
import type { TuningProfile } from '../../src/scenario/model.js';

export const CONTROL: TuningProfile = { name: 'control', cc: 'cubic', sysctls: {}, route: {}, applyTo: 'sender' };
export const CANARY: TuningProfile = {
  name: "reno + IW30 'quoted'",
  cc: 'reno',
  sysctls: { 'net.ipv4.tcp_slow_start_after_idle': '0', 'net.ipv4.tcp_rmem': '4096 131072 6291456' },
  route: { initcwnd: 30, initrwnd: 40, quickack: true, rtoMinMs: 20, congctl: 'reno' },
  applyTo: 'sender',
};

export function fixtureRun(
  decision: Decision,
  opts: { canary?: TuningProfile; control?: TuningProfile; keepScenarios?: number } = {},
): string {
  const dir = mkdtempSync(join(tmpdir(), 'netab-rollout-'));
  const run = join(dir, 'run');
  cpSync(join(process.cwd(), 'test/fixtures/report/run'), run, { recursive: true });
  const m = JSON.parse(readFileSync(join(run, 'manifest.json'), 'utf8')) as RunManifest;
  const v = JSON.parse(readFileSync(join(run, 'verdict.json'), 'utf8')) as Verdict;
  const keep = opts.keepScenarios ?? m.scenarios.length;
  m.scenarios = m.scenarios.slice(0, keep);
  v.scenarios = v.scenarios.slice(0, keep);
  for (const s of m.scenarios) {
    s.scenario = {
      ...(s.scenario as object),
      control: opts.control ?? CONTROL,
      canary: opts.canary ?? CANARY,
      endpointSysctls: { 'net.ipv4.tcp_wmem': '4096 16384 4194304' },
    };
  }
  v.decision = decision;
  const ids = new Set(m.scenarios.map((s) => s.id));
  const lines = readFileSync(join(run, 'results.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && ids.has((JSON.parse(l) as { scenario: string }).scenario));
  writeFileSync(join(run, 'results.jsonl'), lines.join('\n') + '\n');
  writeFileSync(join(run, 'manifest.json'), JSON.stringify(m, null, 2));
  writeFileSync(join(run, 'verdict.json'), JSON.stringify(v, null, 2));
  return run;
}
