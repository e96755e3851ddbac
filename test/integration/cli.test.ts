import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { netabCli, netabNamespaces, requirePrereqs } from '../helpers.js';

const BIN = join(process.cwd(), 'bin', 'netab.js');
const ok = requirePrereqs();

const netab = (args: string[]) => netabCli(args);

/**
 * drift_alpha 0.001: the drift gate (control trending with run order) holds a stable run with
 * probability up to its level, alpha = 0.05 by default: 1 in 60 here (5 pairs: only the 2 monotone
 * orders of 120 reach p < 0.05). A CI run failed on it before the exact p-value (control cubic 8.2,
 * 7.0, 7.4, 7.0, 6.4 Mbit/s at 1 % loss, rho = -0.9, which the t approximation called p = 0.037; the
 * exact p is 0.083). At 0.001 the gate cannot fire with 5 pairs (smallest exact p: 1/60), so this
 * test's one right answer is PROMOTE; the gate itself is tested in test/unit/judge.test.ts.
 */
const SHORT = `
name: cli-short
description: short bbr vs cubic run for CLI tests
topology: dumbbell
links:
  bottleneck:
    delay: 10ms
    rate: 20mbit
    forward: { loss: 1% }
control: { cc: cubic }
canary: { cc: bbr }
workload: { type: bulk, duration: 2s }
trials: { pairs: 5, warmup: 0 }
fidelity: { samples: 100 }
judge:
  expect_improvement: true
  exclude_suspect: false
  drift_alpha: 0.001
  metrics: { retrans: false, rtt_p50: false, rtt_p99: false }
`;

/** Start a run, wait until trials are under way, then send `signal`. */
async function interruptMidTrial(file: string, out: string, signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string }> {
  const p = spawn(process.execPath, [BIN, 'run', file, '--out', out], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: 'true' },
  });
  let stderr = '';
  let sent = false;
  return new Promise((resolve) => {
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && /trial 1\/10/.test(stderr)) {
        sent = true;
        // mid-trial: the second trial has started
        setTimeout(() => p.kill(signal), 800);
      }
    });
    p.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('netab CLI', () => {
  it('validate: three mistakes, three located messages, exit 2', async () => {
    const r = await netab(['validate', 'test/fixtures/scenarios/three-mistakes.yaml']);
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines.slice(0, 3).map((l) => l.split(':').slice(1, 3).join(':'))).toEqual(['5:12', '6:11', '12:7']);
    expect(lines[3]).toMatch(/3 problems in the input; nothing was run/);
  });

  it('validate prints the expanded list; schema prints a JSON Schema; unknown flags exit 2', async () => {
    const v = await netab(['validate', 'test/fixtures/scenarios/grid.yaml']);
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/grid\[delay=50ms,loss=2%\]/);
    expect(v.stdout).toMatch(/6 scenarios OK/);
    const s = await netab(['schema']);
    expect(JSON.parse(s.stdout).title).toBe('netab scenario');
    expect((await netab(['run', '--no-such-flag', 'x.yaml'])).status).toBe(2);
    expect((await netab(['run', 'does-not-exist.yaml'])).status).toBe(2);
  });

  it('bad judge flags and missing run directories: exit 2, one or two lines, no stack trace', async () => {
    for (const args of [
      ['judge', 'x', '--margin', 'foo'],
      ['judge', 'x', '--margin', '100%'],
      ['judge', 'x', '--alpha', '2'],
      ['judge', 'x', '--alpha', 'NaN'],
      ['run', '--trials', 'abc', 'x.yaml'],
      ['judge', '/nonexistent-netab-dir'],
      ['report', '/nonexistent-netab-dir'],
      ['run', '--resume', '/nonexistent-netab-dir'],
    ]) {
      const r = await netab(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).not.toMatch(/^\s+at /m);
      expect(r.stderr.trim().split('\n').length, `${args.join(' ')}\n${r.stderr}`).toBeLessThanOrEqual(2);
    }
  });

  describe.runIf(ok)('with namespaces', () => {
    // each test's scenario file and run directory, removed afterwards
    const dirs: string[] = [];
    const scratchDir = () => {
      const d = mkdtempSync(join(tmpdir(), 'netab-cli-'));
      dirs.push(d);
      return d;
    };
    afterAll(() => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    it('run: writes the run directory, prints the decision, exits with its code', async () => {
      const dir = scratchDir();
      const file = join(dir, 'cli-short.yaml');
      writeFileSync(file, SHORT);
      const out = join(dir, 'run');
      const r = await netab(['run', file, '--out', out, '--seed', '5']);
      expect(r.stderr).toMatch(/decision: PROMOTE/);
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/engine (netem|userspace)/);
      for (const f of ['manifest.json', 'results.jsonl', 'verdict.json', 'report.html']) expect(existsSync(join(out, f)), f).toBe(true);
      const v = JSON.parse(readFileSync(join(out, 'verdict.json'), 'utf8'));
      expect(v.decision).toBe('promote');
      expect(netabNamespaces()).toEqual([]);
      // re-judge offline with a stricter alpha: same data, a verdict again
      const j = await netab(['judge', out, '--json']);
      expect(JSON.parse(j.stdout).decision).toBe('promote');
    });

    it('A/A (--aa): control against itself is never ROLLBACK, and the report states the false alarms', async () => {
      const dir = scratchDir();
      const file = join(dir, 'cli-short.yaml');
      writeFileSync(file, SHORT);
      const r = await netab(['run', file, '--aa', '--out', join(dir, 'aa'), '--seed', '8', '-q']);
      expect([0, 4]).toContain(r.status);
      const v = JSON.parse(readFileSync(join(dir, 'aa', 'verdict.json'), 'utf8'));
      expect(v.decision).not.toBe('rollback');
      expect(readFileSync(join(dir, 'aa', 'report.html'), 'utf8')).toMatch(/A\/A false alarms/);
    });

    it('Ctrl+C mid-trial: exit 130 and nothing left', async () => {
      const dir = scratchDir();
      const file = join(dir, 'cli-short.yaml');
      writeFileSync(file, SHORT);
      const r = await interruptMidTrial(file, join(dir, 'run'), 'SIGINT');
      expect(r.stderr).toMatch(/interrupted/);
      expect(r.code).toBe(130);
      expect(netabNamespaces()).toEqual([]);
      const m = JSON.parse(readFileSync(join(dir, 'run', 'manifest.json'), 'utf8'));
      expect(m.interrupted).toBe(true);
    });

    it('SIGKILL leaves leftovers that doctor reports and gc removes', async () => {
      const dir = scratchDir();
      const file = join(dir, 'cli-short.yaml');
      writeFileSync(file, SHORT);
      await interruptMidTrial(file, join(dir, 'run'), 'SIGKILL');
      expect(netabNamespaces().length).toBeGreaterThan(0);
      const runId = JSON.parse(readFileSync(join(dir, 'run', 'manifest.json'), 'utf8')).runId as string;
      const state = JSON.parse(readFileSync(`/run/netab/${runId}.json`, 'utf8')) as { pids: number[]; namespaces: string[] };
      expect(state.namespaces.length).toBeGreaterThan(0);
      const d = await netab(['doctor']);
      expect(d.stdout).toMatch(/leftovers\s+run [0-9a-f]{6}/);
      const g = await netab(['gc']);
      expect(g.status).toBe(0);
      expect(g.stdout).toMatch(/removed namespace nb-/);
      expect(netabNamespaces()).toEqual([]);
      // processes it recorded (the relay) are gone too, and so is the state file
      // (a zombie waiting for its new parent to reap it runs no code and holds nothing: gone)
      const aliveNow = state.pids.filter((p) => {
        try {
          const st = readFileSync(`/proc/${p}/stat`, 'utf8');
          return st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3) !== 'Z';
        } catch {
          return false;
        }
      });
      expect(aliveNow).toEqual([]);
      expect(existsSync(`/run/netab/${runId}.json`)).toBe(false);
    });
  });
});
