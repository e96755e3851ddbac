/**
 * The docker backend through the whole pipeline (real dockerd, real containers): the same
 * quickstart-like scenario gives the same decision as on netns, and an HTTP endpoint container named
 * by the scenario is what the workload fetches from. Under CI=true a missing engine fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { netabCli, netabNamespaces, requirePrereqs } from '../helpers.js';

const _BIN = join(process.cwd(), 'bin', 'netab.js');
const dockerUp = spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0;
if (!dockerUp && process.env.CI)
  throw new Error('docker integration tests need a running Docker engine under CI (scripts/docker-engine.mjs)');
const ok = requirePrereqs() && dockerUp;

const netab = (args: string[]) => netabCli(args);
const dockerLeft = () =>
  spawnSync('docker', ['ps', '-aq', '--filter', 'label=netab'], { encoding: 'utf8' }).stdout.trim() +
  spawnSync('docker', ['network', 'ls', '-q', '--filter', 'label=netab'], { encoding: 'utf8' }).stdout.trim();

// drift_alpha 0.001: a stable control trips the drift gate at 5 pairs 1 time in 60 at the default
// level (two runs here: 1 in 30); at 0.001 it cannot fire (smallest exact p: 1/60), see cli.test.ts
const BULK = `
name: docker-vs-netns
topology: dumbbell
links: { bottleneck: { delay: 10ms, rate: 20mbit, forward: { loss: 2% } } }
control: { cc: cubic }
canary: { cc: bbr }
workload: { type: bulk, duration: 2s }
trials: { pairs: 5, warmup: 0 }
fidelity: { samples: 100 }
judge: { expect_improvement: true, exclude_suspect: false, drift_alpha: 0.001, metrics: { retrans: false, rtt_p50: false, rtt_p99: false } }
`;

describe.runIf(ok)('docker backend end to end', () => {
  const root = mkdtempSync(join(tmpdir(), 'netab-docker-run-'));
  const file = join(root, 'bulk.yaml');
  writeFileSync(file, BULK);

  it('the same scenario gives the same decision on docker as on netns', async () => {
    const n = await netab(['run', file, '--backend', 'netns', '--out', join(root, 'netns'), '--seed', '4', '-q']);
    const d = await netab(['run', file, '--backend', 'docker', '--out', join(root, 'docker'), '--seed', '4', '-q']);
    expect(n.stderr).toMatch(/decision: PROMOTE/);
    expect(d.stderr).toMatch(/decision: PROMOTE/);
    expect(d.status).toBe(n.status);
    const m = JSON.parse(readFileSync(join(root, 'docker', 'manifest.json'), 'utf8'));
    expect(m.backend).toBe('docker');
    expect(dockerLeft()).toBe('');
    expect(netabNamespaces()).toEqual([]);
  });

  it("the http workload fetches from the scenario's endpoint container", async () => {
    const f = join(root, 'http.yaml');
    writeFileSync(
      f,
      `
name: docker-http
topology: dumbbell
backend: docker
docker:
  sender: { image: "netab/endpoint:0.1.0", command: [httpd, -f, -p, "8080", -h, /srv], port: 8080 }
links: { bottleneck: { delay: 25ms, rate: 50mbit } }
control: { cc: cubic }
canary: { cc: cubic, route: { initcwnd: 30 } }
workload: { type: http, path: /100k.bin, requests: 3 }
trials: { pairs: 5, warmup: 0 }
fidelity: { enabled: false }
judge: { exclude_suspect: false }
`,
    );
    const r = await netab(['run', f, '--out', join(root, 'http'), '-q']);
    expect([0, 1, 4]).toContain(r.status);
    const recs = readFileSync(join(root, 'http', 'results.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(recs).toHaveLength(10);
    for (const x of recs) {
      expect(x.status, x.reason).toBe('ok');
      expect(x.extra.bytes).toBe(3 * 100_000); // the image's /srv/100k.bin, three times
      expect(x.metrics.fct_p50).toBeGreaterThan(50); // at least one 50 ms round trip
    }
    expect(dockerLeft()).toBe('');
  });

  it('a missing image fails with exit 3 and creates nothing', async () => {
    const f = join(root, 'missing.yaml');
    writeFileSync(f, BULK.replace('name: docker-vs-netns', 'name: missing\nbackend: docker\ndocker: { image: "netab/no-such-image:1" }'));
    const r = await netab(['run', f, '--out', join(root, 'missing'), '-q']);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/netab\/no-such-image:1/);
    expect(dockerLeft()).toBe('');
    expect(netabNamespaces()).toEqual([]);
  });
});
