/**
 * `netab gate` against a real production stand-in: Debian's Prometheus and node exporter, three
 * "hosts" (network namespaces) sending iperf3 traffic (50 Mbit/s each) to a receiver namespace, one
 * node exporter inside each host namespace (its TCP counters are the namespace's), Prometheus
 * scraping them over a management veth. The receiver drops 0.2 % of the packets of control-1 and
 * control-2 and 3 % of the canary's (nftables numgen: the kernel here has no netem), so the canary
 * retransmits far more.
 *   control-1 vs canary     -> ROLLBACK (exit 1), naming retrans
 *   control-1 vs control-2  -> ADVANCE or HOLD, never ROLLBACK
 *   Prometheus down         -> exit 3, one line
 *   a selector that matches no series -> exit 3, never ADVANCE
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildProcess, run, spawn, which } from '../../src/exec/index.js';
import { gateCommand } from '../../src/rollout/gate.js';
import { requirePrereqs } from '../helpers.js';

const tools = ['ip', 'nft', 'iperf3'];
let ok = requirePrereqs(tools);

async function ensurePackages(): Promise<boolean> {
  if ((await which('prometheus')) && (await which('prometheus-node-exporter'))) return true;
  if (!process.env.CI) return false;
  const r = await run(['apt-get', 'install', '-y', '--no-install-recommends', 'prometheus', 'prometheus-node-exporter'], {
    reject: false,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } as Record<string, string>,
    timeoutMs: 300_000,
  });
  if (r.exitCode !== 0)
    throw new Error(`apt-get install prometheus prometheus-node-exporter failed under CI: ${r.stderr.trim().split('\n').pop()}`);
  return true;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(ok)('netab gate on a real Prometheus stand-in', () => {
  const id = randomBytes(3).toString('hex');
  const octet = Number.parseInt(id.slice(0, 2), 16);
  const rcv = `nb-${id}-rcv`;
  const hosts = [
    { name: 'control-1', group: 'control', ns: `nb-${id}-ctl1`, dropPerMille: 2 },
    { name: 'control-2', group: 'control2', ns: `nb-${id}-ctl2`, dropPerMille: 2 },
    { name: 'canary', group: 'canary', ns: `nb-${id}-can`, dropPerMille: 30 },
  ];
  const procs: ChildProcess[] = [];
  const work = mkdtempSync(join(tmpdir(), 'netab-gate-it-'));
  let url = '';
  let ready = false;

  beforeAll(async () => {
    ok = await ensurePackages();
    if (!ok) return;
    await run(['ip', 'netns', 'add', rcv]);
    await run(['ip', '-n', rcv, 'link', 'set', 'lo', 'up']);
    const targets: string[] = [];
    for (const [i, h] of hosts.entries()) {
      await run(['ip', 'netns', 'add', h.ns]);
      await run(['ip', '-n', h.ns, 'link', 'set', 'lo', 'up']);
      // data link host -> receiver, with the host's bottleneck on its egress
      const d0 = `nb${id}d${i}a`;
      const d1 = `nb${id}d${i}b`;
      await run(['ip', 'link', 'add', d0, 'netns', h.ns, 'type', 'veth', 'peer', 'name', d1, 'netns', rcv]);
      await run(['ip', '-n', h.ns, 'addr', 'add', `198.18.${octet}.${4 * i + 1}/30`, 'dev', d0]);
      await run(['ip', '-n', rcv, 'addr', 'add', `198.18.${octet}.${4 * i + 2}/30`, 'dev', d1]);
      await run(['ip', '-n', h.ns, 'link', 'set', d0, 'up']);
      await run(['ip', '-n', rcv, 'link', 'set', d1, 'up']);
      // management link root namespace <-> host, for Prometheus to scrape the host's exporter
      const m0 = `nb${id}m${i}a`;
      const m1 = `nb${id}m${i}b`;
      await run(['ip', 'link', 'add', m0, 'type', 'veth', 'peer', 'name', m1, 'netns', h.ns]);
      await run(['ip', 'addr', 'add', `198.19.${octet}.${4 * i + 1}/30`, 'dev', m0]);
      await run(['ip', '-n', h.ns, 'addr', 'add', `198.19.${octet}.${4 * i + 2}/30`, 'dev', m1]);
      await run(['ip', 'link', 'set', m0, 'up']);
      await run(['ip', '-n', h.ns, 'link', 'set', m1, 'up']);
      const addr = `198.19.${octet}.${4 * i + 2}:9100`;
      targets.push(`      - targets: ['${addr}']\n        labels: { group: ${h.group}, host: ${h.name} }`);
      procs.push(
        spawn(['prometheus-node-exporter', `--web.listen-address=${addr}`, '--collector.disable-defaults', '--collector.netstat'], {
          netns: h.ns,
        }),
      );
      procs.push(spawn(['iperf3', '-s', '-p', String(5201 + i), '-B', `198.18.${octet}.${4 * i + 2}`], { netns: rcv }));
    }
    // the harm: the receiver drops a share of each host's incoming packets (nftables, no netem):
    // 0.2 % from the control hosts, 3 % from the canary, so the canary retransmits far more
    const rules = hosts
      .map((h, i) => `    ip saddr 198.18.${octet}.${4 * i + 1} numgen random mod 1000 < ${h.dropPerMille} drop`)
      .join('\n');
    await run(['nft', '-f', '-'], {
      netns: rcv,
      input: `table inet netab_standin {\n  chain input {\n    type filter hook input priority 0; policy accept;\n${rules}\n  }\n}\n`,
    });
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(work, 'prometheus.yml'),
      `global: { scrape_interval: 1s, evaluation_interval: 1s }\nscrape_configs:\n  - job_name: netab-standin\n    static_configs:\n${targets.join('\n')}\n`,
    );
    procs.push(
      spawn(
        [
          'prometheus',
          `--config.file=${join(work, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(work, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--log.level=warn',
        ],
        {},
      ),
    );
    await sleep(1000);
    for (const [i, h] of hosts.entries()) {
      procs.push(
        spawn(['iperf3', '-c', `198.18.${octet}.${4 * i + 2}`, '-p', String(5201 + i), '-t', '80', '-b', '50M', '-C', 'cubic'], {
          netns: h.ns,
        }),
      );
    }
    // 50 s of traffic: 16 samples of 3 s per host
    for (let t = 0; t < 60; t++) {
      try {
        const r = await fetch(`${url}/api/v1/query?query=up`, { signal: AbortSignal.timeout(2000) });
        const b = (await r.json()) as { data: { result: Array<{ value: [number, string] }> } };
        if (b.data.result.filter((x) => x.value[1] === '1').length === hosts.length) break;
      } catch {
        /* not up yet */
      }
      await sleep(500);
    }
    await sleep(50_000);
    ready = true;
  }, 170_000);

  afterAll(async () => {
    for (const p of procs.reverse()) await p.stop(1000).catch(() => undefined);
    for (const ns of [...hosts.map((h) => h.ns), rcv]) await run(['ip', 'netns', 'del', ns], { reject: false });
    rmSync(work, { recursive: true, force: true });
    const left = (await run(['ip', 'netns', 'list'])).stdout;
    expect(left).not.toContain(`nb-${id}-`);
  });

  const gate = (control: string, canary: string, extra: Partial<Parameters<typeof gateCommand>[0]> = {}) => {
    const lines: string[] = [];
    const out = mkdtempSync(join(work, 'gate-'));
    const p = gateCommand({
      prometheus: url,
      control,
      canary,
      metrics: ['retrans'],
      range: '45s',
      step: '3s',
      minSamples: 10,
      timeout: '5s',
      out,
      print: (l) => lines.push(l),
      ...extra,
    });
    return { p, lines, out };
  };

  it('a canary with 3 % loss: ROLLBACK, exit 1, naming retrans', async () => {
    expect(ready).toBe(true);
    const g = gate('group="control"', 'group="canary"');
    const code = await g.p;
    expect(code, g.lines.join('\n')).toBe(1);
    expect(g.lines[0]).toMatch(/ROLLBACK \(retrans regressed\)/);
    console.log(g.lines.join('\n'));
  });

  it('control vs control: ADVANCE or HOLD, never ROLLBACK', async () => {
    const g = gate('group="control"', 'group="control2"');
    const code = await g.p;
    expect([0, 4], g.lines.join('\n')).toContain(code);
    console.log(g.lines.join('\n'));
  });

  it('Prometheus down: exit 3 with one line', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const err = await gateCommand({
      prometheus: dead,
      control: 'group="control"',
      canary: 'group="canary"',
      metrics: ['retrans'],
      range: '45s',
      step: '3s',
      timeout: '3s',
      out: join(work, 'down'),
      print: () => undefined,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 3 });
    expect((err as Error).message).not.toContain('\n');
    expect((err as Error).message).toMatch(/not reachable/);
  });

  it('a selector that matches no series: exit 3, never ADVANCE', async () => {
    const g = gate('group="control"', 'group="no-such-group"');
    const err = await g.p.catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 3 });
    expect((err as Error).message).toMatch(/canary selector \{group="no-such-group"\} matches no series/);
  });
});
