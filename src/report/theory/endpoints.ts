/**
 * What the theory needs to know about each arm's endpoints, read from the manifest (never live
 * state): the sender's congestion control and initcwnd, the receiver's tcp_rmem, tcp_adv_win_scale
 * and initrwnd, and the kernel. Each value says where it came from, in this order of trust:
 * read back after applying the tunings (ManifestScenario.readback: the values set, plus the
 * `observed` theory sysctls and route options), the expanded scenario's profiles and endpoint
 * sysctls, then the Linux default (named as assumed).
 */
import type { ManifestScenario } from '../../results/types.js';
import { LINUX_INIT_CWND } from './physics.js';

export type Arm = 'control' | 'canary';

export interface Sourced<T> {
  value: T;
  source: string;
}

export interface ArmEndpoints {
  arm: Arm;
  cc: Sourced<string>;
  /** receiver's tcp_rmem (min, default, max), bytes */
  rmem: Sourced<[number, number, number]>;
  advWinScale: Sourced<number | null>;
  initcwnd: Sourced<number>;
  initrwnd: Sourced<number | null>;
  /** kernel release the endpoints ran on, when recorded */
  kernel: string | null;
}

/** Linux's per-namespace tcp_rmem default (net/ipv4/tcp_ipv4.c, tcp_sk_init). */
const LINUX_RMEM: [number, number, number] = [4096, 131072, 6291456];

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null);
const own = (o: Obj | null, k: string): unknown => (o && Object.hasOwn(o, k) ? o[k] : undefined);
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v.trim() : null);
const num = (v: unknown): number | null => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
};

function parseRmem(v: unknown): [number, number, number] | null {
  const s = str(v);
  if (!s) return null;
  const p = s.split(/\s+/).map(Number);
  return p.length === 3 && p.every((x) => Number.isFinite(x) && x > 0) ? (p as [number, number, number]) : null;
}

/** The read-back record of one endpoint: { sysctls, route, observed } (or an older flat sysctl map). */
function readbackOf(sc: ManifestScenario, arm: Arm, role: 'sender' | 'receiver') {
  const a = obj(own(obj(sc.readback), arm));
  // older run directories name the receiver "client" and store the sysctl map flat
  const r = obj(own(a, role)) ?? (role === 'receiver' ? obj(own(a, 'client')) : obj(own(a, 'server')));
  if (!r) return { sysctls: null, observed: null, route: null };
  const sysctls = obj(own(r, 'sysctls')) ?? (own(r, 'route') === undefined && own(r, 'observed') === undefined ? r : null);
  return { sysctls, observed: obj(own(r, 'observed')), route: obj(own(r, 'route')) };
}

/** The arm's profile from the expanded scenario, when it applies to this role. */
function profileOf(sc: ManifestScenario, arm: Arm, role: 'sender' | 'receiver') {
  const s = obj(sc.scenario);
  const p = obj(own(s, arm));
  const applyTo = str(own(p, 'applyTo')) ?? 'sender';
  const applies = applyTo === 'both' || applyTo === role;
  return {
    applies,
    cc: applies ? str(own(p, 'cc')) : null,
    sysctls: applies ? obj(own(p, 'sysctls')) : null,
    route: applies ? obj(own(p, 'route')) : null,
    endpoint: obj(own(s, 'endpointSysctls')),
  };
}

/** First value found along the sources, else the default with its note. */
function pick<T>(cands: [unknown, string][], parse: (v: unknown) => T | null, fallback: Sourced<T>): Sourced<T> {
  for (const [v, source] of cands) {
    const x = parse(v);
    if (x !== null) return { value: x, source };
  }
  return fallback;
}

export function armEndpoints(sc: ManifestScenario, arm: Arm, kernelFallback?: string | null): ArmEndpoints {
  const sRb = readbackOf(sc, arm, 'sender');
  const rRb = readbackOf(sc, arm, 'receiver');
  const sP = profileOf(sc, arm, 'sender');
  const rP = profileOf(sc, arm, 'receiver');
  const CC = 'net.ipv4.tcp_congestion_control';
  const RMEM = 'net.ipv4.tcp_rmem';
  const ADV = 'net.ipv4.tcp_adv_win_scale';
  const cc = pick(
    [
      [own(sRb.route, 'congctl'), 'route congctl, read back'],
      [own(sP.route, 'congctl'), 'profile route congctl'],
      [own(sRb.sysctls, CC), 'read back'],
      [sP.cc, 'profile'],
      [own(sP.endpoint, CC), 'endpoint sysctls'],
      [own(sRb.observed, CC), 'read back, namespace default'],
    ],
    str,
    { value: 'cubic', source: 'Linux default, assumed' },
  );
  const rmem = pick(
    [
      [own(rRb.sysctls, RMEM), 'read back'],
      [own(rRb.observed, RMEM), 'read back, namespace default'],
      [own(rP.sysctls, RMEM), 'profile'],
      [own(rP.endpoint, RMEM), 'endpoint sysctls'],
    ],
    parseRmem,
    { value: LINUX_RMEM, source: 'Linux per-namespace default, assumed' },
  );
  const advWinScale = pick<number | null>(
    [
      [own(rRb.sysctls, ADV), 'read back'],
      [own(rRb.observed, ADV), 'read back, namespace default'],
      [own(rP.sysctls, ADV), 'profile'],
      [own(rP.endpoint, ADV), 'endpoint sysctls'],
    ],
    num,
    { value: null, source: 'not recorded' },
  );
  const initcwnd = pick(
    [
      [own(sRb.route, 'initcwnd'), 'route, read back'],
      [own(sP.route, 'initcwnd'), 'profile route'],
    ],
    (v) => {
      const n = num(v);
      return n !== null && n >= 1 ? n : null;
    },
    { value: LINUX_INIT_CWND, source: 'Linux default' },
  );
  const initrwnd = pick<number | null>(
    [
      [own(rRb.route, 'initrwnd'), 'route, read back'],
      [own(rP.route, 'initrwnd'), 'profile route'],
    ],
    (v) => {
      const n = num(v);
      return n !== null && n >= 1 ? n : null;
    },
    { value: null, source: 'none' },
  );
  const kernel = str(own(rRb.observed, 'kernel.osrelease')) ?? str(own(sRb.observed, 'kernel.osrelease')) ?? kernelFallback ?? null;
  return { arm, cc, rmem, advWinScale, initcwnd, initrwnd, kernel };
}

/** Concurrent flows through the bottleneck, for the C·RTT/√n buffer rule. */
export function flowsThroughBottleneck(sc: ManifestScenario | undefined): number {
  const w = obj(own(obj(sc?.scenario), 'workload'));
  const type = str(own(w, 'type'));
  if (type === 'bulk') return Math.max(1, num(own(w, 'flows')) ?? 1);
  if (type === 'compete') return 2 * Math.max(1, num(own(w, 'flowsPerArm')) ?? 1);
  if (type === 'pageload') return Math.max(1, num(own(w, 'connections')) ?? 1);
  return 1;
}

/** The response sizes of an fct workload (bytes, weight), or null for other workloads. */
export function fctSizes(sc: ManifestScenario | undefined): { bytes: number; weight: number }[] | null {
  const w = obj(own(obj(sc?.scenario), 'workload'));
  if (str(own(w, 'type')) !== 'fct') return null;
  const sizes = own(w, 'sizes');
  if (!Array.isArray(sizes)) return null;
  const out = sizes.flatMap((x) => {
    const b = num(own(obj(x), 'bytes'));
    const wt = num(own(obj(x), 'weight')) ?? 1;
    return b !== null && b > 0 && wt > 0 ? [{ bytes: b, weight: wt }] : [];
  });
  return out.length ? out : null;
}
