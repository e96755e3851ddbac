/**
 * Sysctl keys, values and congestion controls checked against the running kernel before anything is
 * built (issue #13): one throwaway `unshare --net` process, nothing left behind. Needs root.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/errors.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { checkSysctls } from '../../src/tuning/index.js';

const root = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'netab-sysctl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scenario(sysctls: string, endpoints = ''): string {
  const file = join(dir, `s${Math.random().toString(36).slice(2, 8)}.yaml`);
  writeFileSync(
    file,
    `name: sc
topology: dumbbell
links:
  bottleneck: { delay: 10ms, rate: 10mbit }
${endpoints}control: { cc: cubic }
canary:
  cc: bbr
  sysctls:
${sysctls}
workload: { type: bulk, duration: 2s }
`,
  );
  return file;
}

// named namespaces other than netab's own (nb-*: other tests may be running alongside)
const netns = () =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l && !l.startsWith('nb-'))
    .join('\n');

describe.runIf(root)('checkSysctls against the running kernel', () => {
  it('a bogus key, a global key and a value the kernel refuses are located problems; tcp_ecn is fine', async () => {
    const file = scenario(
      [
        '    net.ipv4.tcp_nonexistent: 1', // line 9
        '    net.core.rmem_max: 8000000', // line 10: per-namespace only from 6.x, and then read-only there
        '    net.ipv4.tcp_mem: "1 2 3"', // line 11: global (one pool for the host)
        '    net.ipv4.tcp_ecn: 7', // line 12: out of range (0..2)
        '    net.ipv4.tcp_slow_start_after_idle: 0', // line 13: fine
      ].join('\n'),
    );
    const before = netns();
    const t0 = Date.now();
    const problems = await checkSysctls(loadScenarioFile(file));
    const ms = Date.now() - t0;
    const text = problems.map(formatProblem);
    console.log(`checkSysctls: ${problems.length} problems in ${ms} ms\n${text.join('\n')}`);
    expect(netns()).toBe(before);
    const at = (line: number) => text.filter((t) => t.startsWith(`${file}:${line}:5: `));
    expect(at(9)).toHaveLength(1);
    expect(at(9)[0]).toMatch(/canary\.sysctls\.net\.ipv4\.tcp_nonexistent: this kernel .* has no sysctl/);
    expect(at(10)[0]).toMatch(/net\.core\.rmem_max.*not per-namespace/);
    expect(at(11)[0]).toMatch(/net\.ipv4\.tcp_mem.*not per-namespace/);
    expect(at(12)[0]).toMatch(/does not accept "7" for "net\.ipv4\.tcp_ecn": invalid argument/);
    expect(at(13)).toEqual([]);
    expect(problems).toHaveLength(4);
    // the host's own values are untouched
    expect(readFileSync('/proc/sys/net/ipv4/tcp_ecn', 'utf8').trim()).not.toBe('7');
    expect(ms).toBeLessThan(5000);
  });

  it('valid per-namespace tunings (the quickstart profile) give no problem', async () => {
    const file = scenario(
      '    net.ipv4.tcp_ecn: 1\n    net.ipv4.tcp_slow_start_after_idle: 0',
      'endpoints:\n  sysctls: { net.ipv4.tcp_rmem: "4096 131072 33554432" }\n',
    );
    expect(await checkSysctls(loadScenarioFile(file))).toEqual([]);
  });

  it('the congestion controls of both arms are available or loadable here (what the quickstart needs)', async () => {
    // an unavailable one is a unit test (test/unit/tuning.test.ts): the schema only admits cubic, bbr, reno
    const file = scenario('    net.ipv4.tcp_ecn: 1');
    const avail = readFileSync('/proc/sys/net/ipv4/tcp_available_congestion_control', 'utf8');
    const problems = await checkSysctls(loadScenarioFile(file));
    if (avail.includes('bbr')) expect(problems).toEqual([]);
    else for (const p of problems) expect(formatProblem(p)).toMatch(/canary\.cc: congestion control "bbr"/);
  });
});
