/** `netab doctor`: what this machine can do, and what's missing. */
import { readFileSync } from 'node:fs';
import { run, which } from '../exec/index.js';
import { newRunId } from '../exec/resources.js';
import { probeNetem } from '../impairment/index.js';
import { findLeftovers } from '../topology/netns/gc.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  required: boolean;
}

export const REQUIRED_TOOLS = ['ip', 'tc', 'iperf3', 'ethtool', 'ss', 'sysctl'];

/** Prerequisites of a netns run; problems as sentences (empty = ready). */
export async function preflight(): Promise<string[]> {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('netab needs root for network namespaces (run with sudo)');
  for (const t of REQUIRED_TOOLS)
    if (!(await which(t))) problems.push(`${t} is missing (install: apt-get install iproute2 iperf3 ethtool procps)`);
  return problems;
}

export async function doctor(): Promise<Check[]> {
  const checks: Check[] = [];
  const root = process.getuid?.() === 0;
  checks.push({ name: 'root', ok: root, detail: root ? 'running as root' : 'not root: namespaces need root', required: true });
  for (const t of [...REQUIRED_TOOLS, 'nft']) {
    const p = await which(t);
    let detail = p ?? 'not found';
    if (p && t === 'ip') detail = (await run(['ip', '-V'], { reject: false })).stdout.trim();
    if (p && t === 'iperf3') detail = (await run(['iperf3', '--version'], { reject: false })).stdout.split('\n')[0]!.trim();
    checks.push({ name: t, ok: Boolean(p), detail, required: t !== 'nft' });
  }
  if (root) {
    const n = await probeNetem(newRunId()).catch((e: Error) => ({ ok: false, detail: e.message }));
    checks.push({
      name: 'netem',
      ok: n.ok,
      detail: n.ok ? n.detail : `${n.detail}: --engine auto will use the userspace relay; \`--vm\` gives real netem`,
      required: false,
    });
  }
  const avail = readFileSync('/proc/sys/net/ipv4/tcp_available_congestion_control', 'utf8').trim();
  const allowed = readFileSync('/proc/sys/net/ipv4/tcp_allowed_congestion_control', 'utf8').trim();
  checks.push({
    name: 'congestion control',
    ok: true,
    detail: `available: ${avail}; allowed for namespaces: ${allowed} (netab adds what a profile needs)`,
    required: false,
  });
  const { endpointImageStatus } = await import('../topology/docker/index.js');
  const ds = await endpointImageStatus().catch((e: Error) => ({ ok: false, lines: [e.message], engine: null, image: null }));
  checks.push({ name: 'docker', ok: ds.ok, detail: `${ds.lines.join('; ')} (only needed for backend: docker)`, required: false });
  if (root) {
    const l = await findLeftovers();
    const dead = l.runs.filter((r) => !r.alive);
    const parts: string[] = [];
    if (dead.length) parts.push(`${dead.map((r) => `run ${r.runId}`).join(', ')}: run \`netab gc\``);
    if (l.orphanNamespaces.length)
      parts.push(
        `${l.orphanNamespaces.join(', ')} named like netab's but recorded by no run (gc leaves them; \`ip netns delete NAME\` if they are leftovers)`,
      );
    checks.push({ name: 'leftovers', ok: parts.length === 0, detail: parts.length ? parts.join('; ') : 'none', required: false });
  }
  return checks;
}
