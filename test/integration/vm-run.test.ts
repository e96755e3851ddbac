/**
 * The netem engine inside the VM (a stock Debian kernel with real sch_netem): every knob's tc argv is
 * accepted by the real kernel, and `netab run scenarios/quickstart.yaml --vm` reaches the quickstart's
 * decision with engine netem. Under CI=true a VM that cannot boot fails the suite.
 *
 * Fidelity inside the VM is checked against wider bounds than a scenario's default tolerance: under
 * software emulation (TCG) every packet crossing a namespace costs emulated CPU time, which adds 1-3 ms
 * of RTT even to ping's kernel timestamps, more on a busy host (see docs/vm.md).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { vmRun, vmSetup, type VmImage } from '../../src/vm/index.js';
import { netabCli, netabNamespaces, requirePrereqs } from '../helpers.js';

const ok = requirePrereqs();

/** Impairments covering every knob of the link model, each applied to a fresh veth in the guest. */
const KNOBS = [
  { delayMs: 20 },
  { delayMs: 20, jitterMs: 2 },
  { delayMs: 20, jitterMs: 2, jitterCorrelation: 0.25, distribution: 'normal' },
  { delayMs: 20, jitterMs: 2, distribution: 'pareto' },
  { delayMs: 20, jitterMs: 2, distribution: 'paretonormal' },
  { loss: 0.01 },
  { loss: 0.01, lossCorrelation: 0.25 },
  { gemodel: { p: 0.01, r: 0.3, lossBad: 1, lossGood: 0 } },
  { delayMs: 10, reorder: 0.25, reorderCorrelation: 0.5, reorderGap: 5 },
  { delayMs: 10, reorder: 0.1 },
  { duplicate: 0.01, duplicateCorrelation: 0.1 },
  { corrupt: 0.001, corruptCorrelation: 0.1 },
  { rateBps: 50e6, bufferBytes: 250000 },
  { delayMs: 20, loss: 0.01, rateBps: 10e6, bufferBytes: 30000 },
];

const GUEST = (root: string, out: string) => `
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tcCommands } from '${root}/dist/impairment/netem.js';
const knobs = ${JSON.stringify(KNOBS)};
const sh = (a) => execFileSync(a[0], a.slice(1), { stdio: 'pipe' }).toString();
const results = [];
sh(['ip', 'netns', 'add', 'knobs']);
knobs.forEach((k, i) => {
  const dev = 'k' + i;
  sh(['ip', '-n', 'knobs', 'link', 'add', dev, 'type', 'veth', 'peer', 'name', 'p' + i]);
  const r = { knob: k, ok: true, err: '', shown: '' };
  for (const cmd of tcCommands(dev, k)) {
    try { sh(['ip', 'netns', 'exec', 'knobs', ...cmd]); } catch (e) { r.ok = false; r.err += String(e.stderr); }
  }
  r.shown = sh(['ip', 'netns', 'exec', 'knobs', 'tc', 'qdisc', 'show', 'dev', dev]);
  results.push(r);
});
sh(['ip', 'netns', 'del', 'knobs']);
writeFileSync('${out}', JSON.stringify(results));
`;

describe.runIf(ok)('netem engine inside the VM', () => {
  let image: VmImage;
  const work = mkdtempSync(join(tmpdir(), 'netab-vm-run-'));
  /**
   * The quickstart with the drift gate's level at 0.001 instead of alpha: at 0.05 a stable control
   * trips it with probability up to 0.025 per run (8 pairs, 2 drift tests), too often for a test
   * whose one right answer is PROMOTE. The guest sees the file through the host root it mounts.
   */
  const quickstart = join(work, 'quickstart.yaml');
  writeFileSync(quickstart, readFileSync('scenarios/quickstart.yaml', 'utf8').replace(/^judge:\n/m, 'judge:\n  drift_alpha: 0.001\n'));
  beforeAll(async () => {
    image = await vmSetup({});
  }, 600_000);

  it('the real kernel accepts the tc argv of every knob', async () => {
    const script = join(work, 'knobs.mjs');
    const out = join(work, 'knobs.json');
    writeFileSync(script, GUEST(process.cwd(), out));
    const r = await vmRun(image, [process.execPath, script], { workDir: work, timeoutMs: 120_000 });
    expect(r.exitCode).toBe(0);
    const results = JSON.parse(readFileSync(out, 'utf8')) as { knob: unknown; ok: boolean; err: string; shown: string }[];
    for (const x of results) expect(x.ok, `${JSON.stringify(x.knob)}: ${x.err}`).toBe(true);
    expect(results.find((x) => JSON.stringify(x.knob).includes('gemodel'))!.shown).toMatch(/loss gemodel p 1%/);
    expect(results.at(-1)!.shown).toMatch(/tbf 10: parent 1:1 rate 10Mbit/);
  }, 180_000);

  it('the quickstart with --vm: engine netem, the same decision (PROMOTE), fidelity recorded', async () => {
    const dir = join(work, 'quickstart');
    // the quickstart as users run it (9 pairs with the warm-up) but for the drift gate's level; its
    // wall time is in `npm run bench`
    expect(readFileSync(quickstart, 'utf8')).toMatch(/^judge:\n {2}drift_alpha: 0.001\n/m);
    const r = await netabCli(['run', quickstart, '--vm', '--out', dir, '--seed', '2'], { timeoutMs: 420_000 });
    expect(r.stderr).toMatch(/engine netem/);
    expect(r.stderr).toMatch(/decision: PROMOTE/);
    expect(r.status).toBe(0);
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(m.environment.vm.kernel).toBe(image.kernelVersion);
    expect(m.environment.netem).toBe(true);
    expect(m.scenarios[0].fidelity.prober).toBe('icmp');
    const f = m.scenarios[0].fidelity.checks as { metric: string; measured: number; configured: number }[];
    const get = (k: string) => f.find((c) => c.metric === k)!;
    // netem adds at least the configured delay; the emulated guest's own packet path adds 1-3 ms
    // (ping's kernel timestamps; more when the host is busy)
    expect(get('rtt_p50').measured).toBeGreaterThanOrEqual(40);
    expect(get('rtt_p50').measured).toBeLessThan(50);
    // the UDP flood that measures the rate is CPU-bound in an emulated guest: recorded, not bounded
    expect(get('rate').measured).toBeGreaterThan(0);
    expect(get('loss_round_trip').configured).toBe(0.01);
    expect(netabNamespaces()).toEqual([]);
  }, 480_000);

  it('--resume of a VM run: refused on the host (exit 2), continued with --vm', async () => {
    const dir = join(work, 'quickstart');
    const trials = readFileSync(join(dir, 'results.jsonl'), 'utf8').trim().split('\n').length;
    const host = await netabCli(['run', '--resume', dir]);
    expect(host.status).toBe(2);
    expect(host.stderr).toMatch(/was run inside the VM: resume it with --vm/);
    // every trial is there already: the guest only re-judges, and the run directory gets a new attempt
    const r = await netabCli(['run', '--resume', dir, '--vm'], { timeoutMs: 300_000 });
    expect(r.stderr).toMatch(/resuming .*: \d+ trials already recorded/);
    expect(r.stderr).toMatch(/decision: PROMOTE/);
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'results.jsonl'), 'utf8').trim().split('\n').length).toBe(trials);
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(m.attempts.length).toBe(2);
  }, 360_000);

  it('the same quickstart on the host (userspace relay where there is no netem) gives the same decision', async () => {
    const dir = join(work, 'host');
    const r = await netabCli(['run', quickstart, '--out', dir, '--seed', '2', '-q']);
    // PROMOTE; or HOLD when the relay flagged too many trials suspect on a busy host (data quality),
    // never a different verdict on the question itself
    expect([0, 4]).toContain(r.status);
    const v = JSON.parse(readFileSync(join(dir, 'verdict.json'), 'utf8'));
    const g = v.scenarios[0].metrics.find((x: { name: string }) => x.name === 'goodput');
    expect(g.canary.median).toBeGreaterThan(2 * g.control.median);
    if (v.decision === 'hold') expect(v.reasons.join(' ')).toMatch(/Data quality/);
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(m.environment.vm).toBeNull();
    expect(m.scenarios[0].fidelity.checks.length).toBe(3);
  }, 300_000);
});
