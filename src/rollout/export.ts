/**
 * `netab export DIR`: the promoted canary profile of a lab run as deployable artifacts
 *   sysctl.d/60-netab-<profile>.conf   the sysctls (per-namespace net.ipv4.tcp_* keys; global ones called out)
 *   apply.sh / rollback.sh             idempotent `sysctl -w` + `ip route change` of the default route(s), --dry-run
 *   networkd/60-netab-<profile>.conf   a systemd-networkd [Route] drop-in for the keys networkd has
 *   profile.json                       the profile with provenance (run, scenario hashes, decision, effects)
 * Refuses (exit 4) unless the run's decision is PROMOTE; --force overrides and is recorded.
 * See docs/rollout.md.
 */
import { mkdirSync, renameSync, writeFileSync, chmodSync, existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXIT, InputError, NetabError } from '../errors.js';
import type { RouteOpts, TuningProfile } from '../scenario/model.js';
import { routeArgs } from '../tuning/index.js';
import { NETAB_VERSION } from '../version.js';
import { armProfiles, type ArmProfiles, DECISION_WORD, type LabRun, profileKeys, readLabRun, slug } from './rundir.js';
import { comment, shQuote } from './shell.js';

export interface ExportOptions {
  /** output folder (default DIR/export) */
  out?: string;
  /** export even when the decision is not PROMOTE (recorded in every artifact) */
  force?: boolean;
  /** exportedAt timestamp (tests) */
  now?: string;
  /** where the lines for the user go (default stdout) */
  print?: (line: string) => void;
}

/**
 * sysctls that are not per network namespace: setting them changes the whole machine. net.core.*
 * is global except somaxconn; of net.ipv4.tcp_* only these few are.
 */
const GLOBAL_TCP = new Set([
  'net.ipv4.tcp_mem',
  'net.ipv4.tcp_allowed_congestion_control',
  'net.ipv4.tcp_available_congestion_control',
  'net.ipv4.tcp_max_orphans',
]);
export function isGlobalSysctl(key: string): boolean {
  if (key.startsWith('net.core.')) return key !== 'net.core.somaxconn';
  return GLOBAL_TCP.has(key);
}

/** Route option keywords netab manages (ip-route(8) names). */
export const ROUTE_KEYS = ['initcwnd', 'initrwnd', 'quickack', 'rto_min', 'congctl'] as const;

/** systemd-networkd [Route] keys, as documented by systemd 252 (Debian 12) systemd.network(5). */
const NETWORKD_KEYS: Record<string, string | null> = {
  initcwnd: 'InitialCongestionWindow',
  initrwnd: 'InitialAdvertisedReceiveWindow',
  quickack: 'QuickAck',
  congctl: 'TCPCongestionControlAlgorithm',
  rto_min: null,
};

export interface ExportPlan {
  slug: string;
  forced: boolean;
  decision: string;
  files: Record<string, string>;
  profile: Record<string, unknown>;
}

function header(run: LabRun, p: ArmProfiles, forced: boolean): string[] {
  const d = DECISION_WORD[run.verdict.decision] ?? String(run.verdict.decision);
  const lines = [
    `netab export of canary profile "${comment(p.canary.name || 'canary')}" (control: "${comment(p.control.name || 'control')}")`,
    `lab run ${comment(run.manifest.runId)}, decision ${d}, netab ${comment(run.manifest.netabVersion)} (exported by netab ${NETAB_VERSION})`,
  ];
  if (forced) lines.push(`FORCED: exported with --force although the lab decision is ${d}, not PROMOTE`);
  lines.push(
    `apply to: ${p.canary.applyTo === 'receiver' ? 'the hosts that receive the data (clients)' : p.canary.applyTo === 'both' ? 'both ends of the connections' : 'the hosts that send the data (servers, edges)'}`,
  );
  return lines;
}

function sysctlConf(run: LabRun, p: ArmProfiles, name: string, forced: boolean): string {
  const keys = profileKeys(p.canary);
  const out = [
    ...header(run, p, forced).map((l) => `# ${l}`),
    `# install as /etc/sysctl.d/${name}.conf (systemd-sysctl applies it at boot, in the root network namespace)`,
    '#',
  ];
  const perNs = Object.entries(keys).filter(([k]) => !isGlobalSysctl(k));
  const global = Object.entries(keys).filter(([k]) => isGlobalSysctl(k));
  if (perNs.length) {
    out.push('# per network namespace: a container or namespace needs its own copy');
    for (const [k, v] of perNs) out.push(`${k} = ${v}`);
  }
  const cc = keys['net.ipv4.tcp_congestion_control'];
  if (cc && cc !== 'cubic' && cc !== 'reno')
    out.push(`# ${cc} must be loaded first: echo tcp_${cc} > /etc/modules-load.d/netab-${cc}.conf`);
  if (global.length) {
    out.push('#', '# GLOBAL: these change the whole machine (every namespace), not one namespace');
    for (const [k, v] of global) out.push(`${k} = ${v}`);
  }
  if (!perNs.length && !global.length) out.push('# the canary profile sets no sysctls');
  const lab = Object.entries(p.endpointSysctls).filter(([k]) => !(k in keys));
  if (lab.length) {
    out.push('#', '# lab baseline of both arms (endpoints.sysctls), not part of the change; not applied:');
    for (const [k, v] of lab) out.push(`#   ${k} = ${comment(v)}`);
  }
  const ra = routeArgs(p.canary.route);
  if (ra.length) out.push('#', `# route options are not sysctls: ${comment(ra.join(' '))} (apply.sh, or the networkd drop-in)`);
  return out.join('\n') + '\n';
}

/** The shell function shared by apply.sh and rollback.sh: rewrite each default route with `opts`. */
function routeBlock(opts: string[], what: string): string {
  const o = opts.map(shQuote).join(' ');
  return `
# Rewrites one \`ip route show\` line: drops the options netab manages, appends the ${what}'s.
change_route() {
  fam=$1; shift
  n=$#; skip=0
  while [ "$n" -gt 0 ]; do
    w=$1; shift; n=$((n - 1))
    if [ "$skip" -gt 0 ]; then
      skip=$((skip - 1))
      if [ "$w" = lock ]; then skip=$((skip + 1)); fi
      continue
    fi
    case "$w" in
      ${ROUTE_KEYS.join('|')}|expires) skip=1 ;;
      nexthop) echo "$0: a multipath default route ($fam) is not supported; change it by hand" >&2; return 1 ;;
      linkdown|dead|offload|trap|rt_offload|rt_trap|rt_offload_failed|pervasive|notify|unresolved) ;;
      *) set -- "$@" "$w" ;;
    esac
  done
  run ip "$fam" route change "$@"${o ? ` ${o}` : ''}
}

routes=0
for fam in -4 -6; do
  list=$(ip "$fam" route show default 2>/dev/null || true)
  [ -n "$list" ] || continue
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    set -f; set -- $line; set +f
    change_route "$fam" "$@"
    routes=$((routes + 1))
  done <<NETAB_ROUTES
$list
NETAB_ROUTES
done
if [ "$routes" -eq 0 ]; then echo "$0: no default route: the route options were not changed" >&2; exit 1; fi
`;
}

function prelude(run: LabRun, p: ArmProfiles, name: string, forced: boolean, verb: string): string {
  return `#!/bin/sh
${header(run, p, forced)
  .map((l) => `# ${l}`)
  .join('\n')}
# ${verb}
# Idempotent: running it again leaves the same state. As root on the host (or: ip netns exec NS sh $0).
# Usage: sh $0 [--dry-run]    --dry-run prints the commands that change something instead of running them
set -eu
DRY=0
for arg in "$@"; do
  case "$arg" in
    --dry-run|-n) DRY=1 ;;
    -h|--help) echo "usage: $0 [--dry-run]"; exit 0 ;;
    *) echo "$0: unknown argument: $arg (usage: $0 [--dry-run])" >&2; exit 2 ;;
  esac
done
STATE_DIR=\${NETAB_STATE_DIR:-/var/lib/netab}
STATE="$STATE_DIR/${name}.prev"

# prints a command with every word quoted for the shell
say() {
  out=''
  for a in "$@"; do
    case "$a" in
      ''|*[!A-Za-z0-9_@%+=:,./-]*) a="'$(printf '%s' "$a" | sed "s/'/'\\\\\\\\''/g")'" ;;
    esac
    out="$out\${out:+ }$a"
  done
  printf '%s\\n' "$out"
}
run() { if [ "$DRY" = 1 ]; then say "$@"; else "$@"; fi; }
`;
}

function applySh(run: LabRun, p: ArmProfiles, name: string, forced: boolean): string {
  const keys = profileKeys(p.canary);
  const ctl = profileKeys(p.control);
  const only = Object.keys(keys).filter((k) => !(k in ctl));
  const ra = routeArgs(p.canary.route);
  let s = prelude(run, p, name, forced, 'apply.sh: sets the canary profile (rollback.sh restores the control profile).');
  if (only.length) {
    s += `
# the values the canary changes and the control profile does not set, recorded once for rollback.sh
if [ "$DRY" = 0 ] && [ ! -e "$STATE" ]; then
  mkdir -p "$STATE_DIR"
  : > "$STATE.tmp"
  for key in ${only.map(shQuote).join(' ')}; do
    printf '%s=%s\\n' "$key" "$(sysctl -n "$key" | tr '\\t' ' ')" >> "$STATE.tmp"
  done
  mv "$STATE.tmp" "$STATE"
fi
`;
  }
  if (Object.keys(keys).length) {
    s += '\n# sysctls (per network namespace unless marked global in the sysctl.d file)\n';
    for (const [k, v] of Object.entries(keys))
      s += `run sysctl -q -w ${shQuote(`${k}=${v}`)}${isGlobalSysctl(k) ? '   # GLOBAL: the whole machine' : ''}\n`;
  }
  if (ra.length) s += routeBlock(ra, 'canary profile');
  s += `\nif [ "$DRY" = 0 ]; then echo ${shQuote(`netab: canary profile "${comment(p.canary.name || 'canary')}" applied`)}; fi\n`;
  return s;
}

function rollbackSh(run: LabRun, p: ArmProfiles, name: string, forced: boolean): string {
  const keys = profileKeys(p.canary);
  const ctl = profileKeys(p.control);
  const only = Object.keys(keys).filter((k) => !(k in ctl));
  const managed = { ...p.control.route, ...p.canary.route };
  const ra = routeArgs(p.control.route);
  let s = prelude(run, p, name, forced, 'rollback.sh: restores the control profile (undoes apply.sh).');
  if (Object.keys(ctl).length) {
    s += "\n# the control profile's sysctls\n";
    for (const [k, v] of Object.entries(ctl))
      s += `run sysctl -q -w ${shQuote(`${k}=${v}`)}${isGlobalSysctl(k) ? '   # GLOBAL: the whole machine' : ''}\n`;
  }
  if (only.length) {
    s += `
# sysctls only the canary sets: back to the values apply.sh recorded before it changed them
if [ -e "$STATE" ]; then
  while IFS= read -r kv; do
    case "\${kv%%=*}" in
      ${only.map(shQuote).join('|')}) run sysctl -q -w "$kv" ;;
    esac
  done < "$STATE"
  run rm -f "$STATE"
else
  echo "$0: no record of the values before apply.sh ($STATE): left ${only.join(' ')} as they are" >&2
fi
`;
  }
  if (Object.keys(managed).length) s += routeBlock(ra, 'control profile');
  s += `\nif [ "$DRY" = 0 ]; then echo ${shQuote(`netab: control profile "${comment(p.control.name || 'control')}" restored`)}; fi\n`;
  return s;
}

function networkd(run: LabRun, p: ArmProfiles, forced: boolean): string {
  const r = p.canary.route;
  const out = [...header(run, p, forced).map((l) => `# ${l}`)];
  out.push(
    '# systemd-networkd drop-in: copy to /etc/systemd/network/<your-link>.network.d/ and `networkctl reload`.',
    '# Gateway=: _dhcp4 (the DHCPv4 gateway), _ipv6ra, or your static gateway address; one [Route] per default route.',
    '# networkd (systemd 252, Debian 12) has InitialCongestionWindow=, InitialAdvertisedReceiveWindow=, QuickAck=',
    '# and TCPCongestionControlAlgorithm=; it has no key for rto_min (use apply.sh for it). Sysctls: the sysctl.d file.',
  );
  const lines: string[] = [];
  const missing: string[] = [];
  const set = (k: keyof RouteOpts, v: unknown) => {
    const word = k === 'rtoMinMs' ? 'rto_min' : k;
    const key = NETWORKD_KEYS[word];
    if (key === null || key === undefined) missing.push(word);
    else lines.push(`${key}=${typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v)}`);
  };
  for (const [k, v] of Object.entries(r)) if (v !== undefined) set(k as keyof RouteOpts, v);
  if (missing.length)
    out.push(`# NOT in networkd: ${missing.join(', ')} = ${comment(routeArgs(r).join(' '))}; apply.sh sets it with ip route change.`);
  if (!lines.length) {
    out.push('# the canary profile sets no route option networkd can express: nothing to configure here.');
    return out.join('\n') + '\n';
  }
  out.push('[Route]', 'Gateway=_dhcp4', ...lines);
  return out.join('\n') + '\n';
}

function routeJson(r: RouteOpts): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (r.initcwnd !== undefined) o.initcwnd = r.initcwnd;
  if (r.initrwnd !== undefined) o.initrwnd = r.initrwnd;
  if (r.quickack !== undefined) o.quickack = r.quickack;
  if (r.rtoMinMs !== undefined) o.rto_min_ms = r.rtoMinMs;
  if (r.congctl !== undefined) o.congctl = r.congctl;
  return o;
}

function profileView(p: TuningProfile): Record<string, unknown> {
  return {
    name: p.name,
    cc: p.cc ?? null,
    sysctls: profileKeys(p),
    route: routeJson(p.route),
    ip_route_args: routeArgs(p.route),
    apply_to: p.applyTo,
  };
}

/** Everything `netab export` writes, as file name -> content (pure apart from the clock). */
export function buildExport(run: LabRun, opts: { force?: boolean; now?: string } = {}): ExportPlan {
  const decision = run.verdict.decision;
  const forced = decision !== 'promote';
  if (forced && !opts.force) {
    throw new NetabError(
      `the lab decision of ${run.dir} is ${DECISION_WORD[decision] ?? decision}, not PROMOTE: nothing exported (--force exports anyway and records it)`,
      EXIT.hold,
    );
  }
  const p = armProfiles(run.manifest);
  const sl = slug(p.canary.name || p.canary.cc || 'canary');
  const name = `60-netab-${sl}`;
  const effects = run.verdict.scenarios.flatMap((s) =>
    s.metrics.map((m) => ({
      scenario: s.id,
      metric: m.name,
      verdict: m.verdict,
      direction: m.direction,
      unit: m.unit,
      margin: m.margin,
      critical: m.critical,
      effect: m.effect,
      effect_pct: m.effectPct,
      ci: m.ci,
      ci_pct: m.ciPct,
      confidence: 1 - 2 * run.verdict.alpha,
      control_median: m.control.median,
      canary_median: m.canary.median,
    })),
  );
  const files: Record<string, string> = {
    [`sysctl.d/${name}.conf`]: sysctlConf(run, p, name, forced),
    'apply.sh': applySh(run, p, name, forced),
    'rollback.sh': rollbackSh(run, p, name, forced),
    [`networkd/${name}.conf`]: networkd(run, p, forced),
  };
  const profile = {
    format: 'netab-profile/1',
    name: p.canary.name || sl,
    slug: sl,
    canary: profileView(p.canary),
    control: profileView(p.control),
    global_sysctls: Object.keys(profileKeys(p.canary)).filter(isGlobalSysctl),
    lab_endpoint_sysctls: p.endpointSysctls,
    networkd_lacks: Object.keys(routeJson(p.canary.route)).filter((k) => k === 'rto_min_ms'),
    provenance: {
      run_id: run.manifest.runId,
      run_dir: resolve(run.dir),
      lab_netab_version: run.manifest.netabVersion,
      exported_by: `netab ${NETAB_VERSION}`,
      exported_at: opts.now ?? new Date().toISOString(),
      decision: DECISION_WORD[decision] ?? decision,
      forced,
      alpha: run.verdict.alpha,
      judged_at: run.verdict.judgedAt,
      suite: run.manifest.suite ? { name: run.manifest.suite.name, hash: run.manifest.suite.hash } : null,
      scenarios: run.manifest.scenarios.map((s) => ({
        id: s.id,
        hash: s.hash,
        verdict: run.verdict.scenarios.find((v) => v.id === s.id)?.verdict ?? null,
      })),
      reasons: run.verdict.reasons,
    },
    effects,
    files: [...Object.keys(files), 'profile.json'],
  };
  files['profile.json'] = JSON.stringify(profile, null, 2) + '\n';
  return { slug: sl, forced, decision, files, profile };
}

function writeAtomic(path: string, content: string, mode?: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  if (mode !== undefined) chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/** `netab export DIR [--out OUT] [--force]`: exit 0, or 4 (not PROMOTE, nothing written), 2 (bad run dir). */
export async function exportCommand(dir: string, opts: ExportOptions = {}): Promise<number> {
  const print = opts.print ?? ((l: string) => process.stdout.write(l + '\n'));
  const run = readLabRun(dir);
  const plan = buildExport(run, opts);
  const out = opts.out ?? join(dir, 'export');
  if (existsSync(out) && readdirSync(out).some((f) => !['sysctl.d', 'networkd', 'apply.sh', 'rollback.sh', 'profile.json'].includes(f)))
    throw new InputError(`${out} exists and holds other files; choose an empty or new --out folder`);
  for (const [rel, content] of Object.entries(plan.files)) {
    const path = join(out, rel);
    mkdirSync(join(path, '..'), { recursive: true });
    writeAtomic(path, content, rel.endsWith('.sh') ? 0o755 : 0o644);
  }
  if (plan.forced)
    print(
      `netab: FORCED export: the lab decision is ${DECISION_WORD[plan.decision] ?? plan.decision}, not PROMOTE (recorded in profile.json and every file)`,
    );
  print(`netab: exported canary profile "${plan.profile.name as string}" of run ${run.manifest.runId} to ${out}`);
  for (const rel of Object.keys(plan.files)) print(`  ${join(out, rel)}`);
  return EXIT.promote;
}
