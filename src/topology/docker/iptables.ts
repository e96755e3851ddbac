/**
 * Docker's --internal networks are isolated by iptables rules in the root namespace
 * (DOCKER-ISOLATION-STAGE-1: `! -d <subnet> -i <bridge> -j DROP`), and with br_netfilter loaded (Docker
 * loads it) bridged frames pass those rules too. A host link is routed, not a flat subnet: the host's
 * packets to the far host cross the bridge with a destination outside the link's /24, and are dropped.
 * So each host-link bridge gets one rule in DOCKER-USER (evaluated first) that accepts frames that
 * stay on that bridge, i.e. between the two containers netab attached to it, and nothing else:
 *
 *   iptables -I DOCKER-USER -i <bridge> -o <bridge> -m comment --comment "netab run <id>" -j ACCEPT
 *
 * The comment names the run so a crashed run's rules are found and removed by gc.
 */
import { run } from '../../exec/index.js';

export const RULE_COMMENT_RE = /netab run ([0-9a-f]{6})/;

export function bridgeRule(bridge: string, runId: string): string[] {
  return ['-i', bridge, '-o', bridge, '-m', 'comment', '--comment', `netab run ${runId}`, '-j', 'ACCEPT'];
}

/** Does the DOCKER-USER chain exist (dockerd runs with its iptables management)? */
export async function dockerUserChain(): Promise<boolean> {
  const r = await run(['iptables', '-w', '-n', '-L', 'DOCKER-USER'], { reject: false });
  return r.exitCode === 0;
}

export async function insertBridgeRule(bridge: string, runId: string): Promise<void> {
  await run(['iptables', '-w', '-I', 'DOCKER-USER', ...bridgeRule(bridge, runId)]);
}

export async function deleteBridgeRule(bridge: string, runId: string): Promise<void> {
  // delete every copy (a retried insert may have added two)
  for (let i = 0; i < 8; i++) {
    const r = await run(['iptables', '-w', '-D', 'DOCKER-USER', ...bridgeRule(bridge, runId)], { reject: false });
    if (r.exitCode !== 0) return;
  }
}

/** netab's rules in DOCKER-USER: run id and the `-S` line (for deletion). */
export async function listRules(): Promise<{ runId: string; spec: string[] }[]> {
  const r = await run(['iptables', '-w', '-S', 'DOCKER-USER'], { reject: false });
  if (r.exitCode !== 0) return [];
  const out: { runId: string; spec: string[] }[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = RULE_COMMENT_RE.exec(line);
    if (!m || !line.startsWith('-A DOCKER-USER ')) continue;
    const bridge = /-i (\S+)/.exec(line)?.[1];
    if (!bridge) continue;
    out.push({ runId: m[1]!, spec: bridgeRule(bridge, m[1]!) });
  }
  return out;
}

export async function deleteRuleSpec(spec: string[]): Promise<boolean> {
  const r = await run(['iptables', '-w', '-D', 'DOCKER-USER', ...spec], { reject: false });
  return r.exitCode === 0;
}
