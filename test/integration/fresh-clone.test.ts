/**
 * The README's GitHub Actions example, step by step, from a fresh clone of this repository's HEAD (no
 * node_modules, no dist): the shard job's steps for shards 1..3, then the decide job's (`npm ci && npm
 * run build`, the merge, whose exit code is the decision). The YAML is parsed out of README.md, so the
 * test breaks when the README's example changes.
 *
 * Deviations from a real runner, to keep this under a few minutes: `--trials 2` is added to the run
 * steps (the suite's 8 pairs would take ~7 minutes; 2 pairs make the decision a HOLD, still a verdict),
 * the shards run one after another in one checkout (on GitHub each has its own runner) while the decide
 * job's checkout and `npm ci && npm run build` run alongside (its own runner too), `sudo` is
 * dropped (the suite runs as root), and `actions/*` steps are done by hand: checkout = `git clone` of
 * HEAD, upload/download-artifact = copying the folders.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { requirePrereqs } from '../helpers.js';

const ok = requirePrereqs();
const ROOT = process.cwd();

interface Step {
  uses?: string;
  run?: string;
  with?: { name?: string; path?: string };
}
interface Workflow {
  jobs: { shard: { strategy: { matrix: { shard: number[] } }; steps: Step[] }; decide: { steps: Step[] } };
}

/** The ```yaml block of README.md that holds the GitHub Actions jobs. */
function readmeWorkflow(): Workflow {
  const md = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const blocks = [...md.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const wf = blocks.find((b) => /^jobs:/m.test(b));
  if (!wf) throw new Error('README.md has no ```yaml block with jobs:');
  return parse(wf) as Workflow;
}

/** A `run:` step as GitHub runs it (bash -e), printing into `log`; resolves with the exit status. */
function bash(cmd: string, cwd: string, log: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const p = spawn('bash', ['--noprofile', '--norc', '-e', '-c', cmd], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: 'true' },
    });
    const add = (d: Buffer) => log.push(d.toString());
    p.stdout.on('data', add);
    p.stderr.on('data', add);
    p.on('exit', (code) => resolve(code));
  });
}

function runStep(cmd: string, matrix: Record<string, string>): string {
  let c = cmd.replace(/\$\{\{\s*matrix\.(\w+)\s*\}\}/g, (_, k: string) => matrix[k] ?? '');
  c = c.replace(/(^|&&\s*|\|\|\s*|;\s*)sudo\s+/g, '$1'); // already root
  c = c.replace(/(bin\/netab\.js run )/, '$1--trials 2 '); // keep the test short (see the header)
  return c;
}

describe.runIf(ok)("README's GitHub Actions example from a fresh clone", () => {
  it('setup, the three shards, npm ci + build, merge: a decision with exit 0, 1 or 4', async () => {
    const wf = readmeWorkflow();
    const tmp = mkdtempSync(join(tmpdir(), 'netab-fresh-'));
    const log: string[] = [];
    const t0 = Date.now();
    const timings: string[] = [];
    const lap = (what: string) => timings.push(`${what}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    const artifacts = new Map<string, string>();
    const checkout = async (dir: string, into: string[]) => {
      expect(await bash(`git clone -q ${JSON.stringify(ROOT)} ${JSON.stringify(dir)}`, tmp, into), into.join('')).toBe(0);
      // a fresh checkout: nothing installed, nothing built
      expect(existsSync(join(dir, 'node_modules'))).toBe(false);
      expect(existsSync(join(dir, 'dist'))).toBe(false);
    };
    try {
      // the decide job runs on its own runner: its steps before the download (checkout, npm ci && npm
      // run build) do not depend on the shards, so they run while the shard job does
      const decideDir = join(tmp, 'decide-job');
      const decideSteps = wf.jobs.decide.steps;
      const dl = decideSteps.findIndex((s) => s.uses?.startsWith('actions/download-artifact'));
      expect(dl).toBeGreaterThan(0);
      const decideLog: string[] = [];
      let merged: number | null = null;
      const decideStep = async (step: Step) => {
        if (step.uses?.startsWith('actions/checkout')) await checkout(decideDir, decideLog);
        else if (step.uses?.startsWith('actions/download-artifact')) {
          for (const [name, path] of artifacts) cpSync(path, join(decideDir, name), { recursive: true });
        } else if (step.uses?.startsWith('actions/upload-artifact')) {
          expect(existsSync(join(decideDir, step.with!.path!))).toBe(true);
        } else if (step.run) {
          const cmd = runStep(step.run, {});
          decideLog.push(`\n$ ${cmd}\n`);
          const code = await bash(cmd, decideDir, decideLog);
          lap(`decide: ${cmd.slice(0, 50)}`);
          if (/netab\.js merge/.test(cmd)) merged = code;
          else expect(code, `${cmd}\n${decideLog.join('').slice(-3000)}`).toBe(0);
        }
      };
      // settled into a value at once: a failure surfaces below, never as an unhandled rejection
      const decidePrep = (async () => {
        for (const step of decideSteps.slice(0, dl)) await decideStep(step);
      })().then(
        () => null,
        (e: unknown) => e,
      );

      // the shard job, once per matrix value
      const shardDir = join(tmp, 'shard-job');
      let cloned = false;
      for (const shard of wf.jobs.shard.strategy.matrix.shard) {
        const matrix = { shard: String(shard) };
        for (const step of wf.jobs.shard.steps) {
          if (step.uses?.startsWith('actions/checkout')) {
            if (!cloned) await checkout(shardDir, log);
            cloned = true;
          } else if (step.uses?.startsWith('actions/upload-artifact')) {
            const name = runStep(step.with!.name!, matrix);
            artifacts.set(name, join(shardDir, runStep(step.with!.path!, matrix)));
          } else if (step.run) {
            const cmd = runStep(step.run, matrix);
            log.push(`\n$ ${cmd}\n`);
            const code = await bash(cmd, shardDir, log);
            lap(`shard ${shard}: ${cmd.slice(0, 50)}`);
            expect(code, `${cmd}\n${log.join('').slice(-3000)}`).toBe(0);
          }
        }
      }
      expect(artifacts.size).toBe(wf.jobs.shard.strategy.matrix.shard.length);
      const prepFailed = await decidePrep;
      if (prepFailed) throw prepFailed;
      for (const step of decideSteps.slice(dl)) await decideStep(step);
      log.push(...decideLog);
      const out = log.join('');
      expect([0, 1, 4], out.slice(-3000)).toContain(merged);
      expect(out).toMatch(/decision: (PROMOTE|ROLLBACK|ROLL BACK|HOLD)/);
      const verdict = JSON.parse(readFileSync(join(decideDir, 'merged', 'verdict.json'), 'utf8')) as { decision: string };
      expect({ promote: 0, rollback: 1, hold: 4 }[verdict.decision]).toBe(merged);
      console.log(`fresh-clone example timings: ${timings.join('; ')}`);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }, 900_000);
});
