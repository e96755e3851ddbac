/**
 * Tuning profiles: congestion control, per-namespace sysctls and route options, applied to an
 * endpoint's namespace and then read back; a value that did not take fails the run.
 */
import { readFileSync } from 'node:fs';
import { EnvError } from '../errors.js';
import { run } from '../exec/index.js';
import type { Resources } from '../exec/resources.js';
import type { RouteOpts, TuningProfile } from '../scenario/model.js';

export { checkSysctls, type KernelSysctlProbe } from './check.js';

export class TuningError extends EnvError {}

/** Baseline for every endpoint: no cached metrics between trials (each trial starts cold). */
export const BASE_SYSCTLS: Record<string, string> = {
  'net.ipv4.tcp_no_metrics_save': '1',
};

const ALLOWED = '/proc/sys/net/ipv4/tcp_allowed_congestion_control';
const AVAILABLE = '/proc/sys/net/ipv4/tcp_available_congestion_control';

/**
 * A namespace may only select a congestion control listed in the root namespace's allowed list.
 * Add missing names (loading the module if needed) and restore the list when the run ends.
 */
export async function ensureAllowed(names: string[], resources: Resources): Promise<void> {
  const want = [...new Set(names)];
  if (want.length === 0) return;
  const allowed = readFileSync(ALLOWED, 'utf8').trim().split(/\s+/);
  const missing = want.filter((n) => !allowed.includes(n));
  if (missing.length === 0) return;
  for (const m of missing) {
    const avail = readFileSync(AVAILABLE, 'utf8').trim().split(/\s+/);
    if (!avail.includes(m)) await run(['modprobe', `tcp_${m}`], { reject: false });
    const avail2 = readFileSync(AVAILABLE, 'utf8').trim().split(/\s+/);
    if (!avail2.includes(m))
      throw new TuningError(`congestion control "${m}" is not available in this kernel (available: ${avail2.join(' ')})`);
  }
  const before = allowed.join(' ');
  const next = [...allowed, ...missing].join(' ');
  await run(['sysctl', '-qw', `net.ipv4.tcp_allowed_congestion_control=${next}`]);
  resources.record((s) => s.sysctls.push({ key: 'net.ipv4.tcp_allowed_congestion_control', restore: before }));
  resources.defer('restore tcp_allowed_congestion_control', () =>
    run(['sysctl', '-qw', `net.ipv4.tcp_allowed_congestion_control=${before}`]).then(() => undefined),
  );
}

export function profileSysctls(profile: TuningProfile, base: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = { ...BASE_SYSCTLS, ...base, ...profile.sysctls };
  if (profile.cc) out['net.ipv4.tcp_congestion_control'] = profile.cc;
  return out;
}

/** `ip route` keywords for the route options (pure; unit-tested). */
export function routeArgs(r: RouteOpts): string[] {
  const a: string[] = [];
  if (r.initcwnd !== undefined) a.push('initcwnd', String(r.initcwnd));
  if (r.initrwnd !== undefined) a.push('initrwnd', String(r.initrwnd));
  if (r.quickack !== undefined) a.push('quickack', r.quickack ? '1' : '0');
  if (r.rtoMinMs !== undefined) a.push('rto_min', `${Math.round(r.rtoMinMs)}ms`);
  if (r.congctl !== undefined) a.push('congctl', r.congctl);
  return a;
}

/** Parse the options `ip route show` prints for a route (pure; unit-tested). */
export function parseRouteOptions(line: string): RouteOpts {
  const t = line.trim().split(/\s+/);
  const out: RouteOpts = {};
  for (let i = 0; i < t.length; i++) {
    const next = t[i + 1] === 'lock' ? t[i + 2] : t[i + 1];
    switch (t[i]) {
      case 'initcwnd':
        out.initcwnd = Number(next);
        break;
      case 'initrwnd':
        out.initrwnd = Number(next);
        break;
      case 'quickack':
        out.quickack = next === '1';
        break;
      case 'rto_min': {
        const m = /^([\d.]+)(ms|s|us)?$/.exec(next ?? '');
        if (m) out.rtoMinMs = Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'us' ? 0.001 : 1);
        break;
      }
      case 'congctl':
        out.congctl = next as RouteOpts['congctl'];
        break;
    }
  }
  return out;
}

function norm(v: string): string {
  return v.trim().split(/\s+/).join(' ');
}

export interface Readback {
  sysctls: Record<string, string>;
  route: RouteOpts;
  routeLine: string;
  /** what the report's theory needs, set or not (OBSERVED_SYSCTLS); a key the kernel lacks is absent */
  observed?: Record<string, string>;
}

/**
 * Read back with every endpoint whether a profile sets them or not: the receive window rule
 * (tcp_rmem, tcp_adv_win_scale, the kernel release) and the congestion control in effect.
 */
export const OBSERVED_SYSCTLS = [
  'kernel.osrelease',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
  'net.ipv4.tcp_adv_win_scale',
  'net.ipv4.tcp_window_scaling',
  'net.ipv4.tcp_congestion_control',
];

export interface Endpoint {
  ns: string;
  gateway: string;
  dev: string;
}

/** Apply a profile to one endpoint and prove it took effect. */
export async function applyProfile(ep: Endpoint, profile: TuningProfile | null, base: Record<string, string>): Promise<Readback> {
  const sysctls = profile ? profileSysctls(profile, base) : { ...BASE_SYSCTLS, ...base };
  const kv = Object.entries(sysctls).map(([k, v]) => `${k}=${v}`);
  if (kv.length) {
    const r = await run(['sysctl', '-w', ...kv], { netns: ep.ns, reject: false });
    if (r.exitCode !== 0) throw new TuningError(`setting sysctls in ${ep.ns} failed: ${r.stderr.trim()}`);
  }
  const route = profile?.route ?? {};
  const ra = routeArgs(route);
  if (ra.length) await run(['ip', '-n', ep.ns, 'route', 'replace', 'default', 'via', ep.gateway, 'dev', ep.dev, ...ra]);
  return readBack(ep, sysctls, route);
}

export async function readBack(ep: Endpoint, want: Record<string, string>, wantRoute: RouteOpts): Promise<Readback> {
  const keys = Object.keys(want);
  const all = [...new Set([...keys, ...OBSERVED_SYSCTLS])];
  // one sysctl run for both; a key the kernel lacks fails only if it was wanted (missing below)
  const r = await run(['sysctl', ...all], { netns: ep.ns, reject: false });
  const read = Object.create(null) as Record<string, string>;
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf(' = ');
    if (i > 0) read[line.slice(0, i)] = norm(line.slice(i + 3));
  }
  const got: Record<string, string> = {};
  for (const k of keys) if (read[k] !== undefined) got[k] = read[k];
  const observed: Record<string, string> = {};
  for (const k of OBSERVED_SYSCTLS) if (read[k] !== undefined) observed[k] = read[k];
  const bad: string[] = [];
  for (const k of keys) if (got[k] !== norm(want[k]!)) bad.push(`${k}: wanted "${norm(want[k]!)}", kernel says "${got[k] ?? '(missing)'}"`);
  const rl = (await run(['ip', '-n', ep.ns, 'route', 'show', 'default'])).stdout.trim();
  const route = parseRouteOptions(rl);
  for (const [k, v] of Object.entries(wantRoute)) {
    if (v === undefined) continue;
    const have = (route as Record<string, unknown>)[k] ?? (k === 'quickack' ? false : undefined);
    if (have !== v) bad.push(`route ${k}: wanted ${v}, route is "${rl}"`);
  }
  if (bad.length) throw new TuningError(`tuning did not take effect in ${ep.ns}:\n  ${bad.join('\n  ')}`);
  return { sysctls: got, route, routeLine: rl, observed };
}
