/**
 * What the rollout commands read from a lab run directory: the manifest (through the results
 * store), verdict.json, and the control/canary tuning profiles of its scenarios.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { readManifest } from '../results/store.js';
import type { RunManifest, Verdict } from '../results/types.js';
import type { RouteOpts, TuningProfile } from '../scenario/model.js';

export interface LabRun {
  dir: string;
  manifest: RunManifest;
  verdict: Verdict;
}

/** manifest.json (via src/results/store readManifest) and verdict.json; exit 2 when either is missing or foreign. */
export function readLabRun(dir: string): LabRun {
  let manifest: RunManifest;
  try {
    manifest = readManifest(dir);
  } catch (e) {
    throw new InputError(`${dir}: ${(e as Error).message}`);
  }
  if (manifest?.format !== 'netab-run/1')
    throw new InputError(`${join(dir, 'manifest.json')}: not a netab run manifest (format ${JSON.stringify(manifest?.format)})`);
  const vf = join(dir, 'verdict.json');
  if (!existsSync(vf)) throw new InputError(`${dir}: no verdict.json; judge the run first (netab judge ${dir})`);
  let verdict: Verdict;
  try {
    verdict = JSON.parse(readFileSync(vf, 'utf8')) as Verdict;
  } catch (e) {
    throw new InputError(`${vf}: not valid JSON (${(e as Error).message})`);
  }
  if (verdict?.format !== 'netab-verdict/1') throw new InputError(`${vf}: not a netab verdict (format ${JSON.stringify(verdict?.format)})`);
  return { dir, manifest, verdict };
}

export interface ArmProfiles {
  control: TuningProfile;
  canary: TuningProfile;
  /** sysctls every endpoint of both arms had in the lab (not part of the change) */
  endpointSysctls: Record<string, string>;
}

const SYSCTL_KEY = /^net\.[a-z0-9_]+(\.[a-z0-9_]+)+$/;

function normProfile(p: unknown, where: string): TuningProfile {
  const o = (p ?? {}) as Partial<TuningProfile>;
  if (typeof o !== 'object' || o === null) throw new InputError(`${where}: no tuning profile recorded`);
  const sysctls: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.sysctls ?? {})) {
    if (!SYSCTL_KEY.test(k)) throw new InputError(`${where}.sysctls: "${k}" is not a sysctl name netab exports`);
    const s = String(v);
    if (/[\0\n\r]/.test(s)) throw new InputError(`${where}.sysctls.${k}: value contains a line break or NUL`);
    sysctls[k] = s;
  }
  const route: RouteOpts = { ...(o.route ?? {}) };
  for (const [k, v] of Object.entries(route)) {
    if (v === undefined) continue;
    if ((k === 'initcwnd' || k === 'initrwnd') && !(Number.isInteger(v) && (v as number) > 0 && (v as number) <= 1023))
      throw new InputError(`${where}.route.${k}: ${String(v)} is not an integer in 1..1023`);
    if (k === 'rtoMinMs' && !(typeof v === 'number' && v > 0 && v < 1e6))
      throw new InputError(`${where}.route.rto_min: ${String(v)} is not a positive time`);
    if (k === 'congctl' && !/^[a-z0-9_]+$/.test(String(v)))
      throw new InputError(`${where}.route.congctl: "${String(v)}" is not a congestion control name`);
  }
  if (o.cc !== undefined && !/^[a-z0-9_]+$/.test(String(o.cc)))
    throw new InputError(`${where}.cc: "${String(o.cc)}" is not a congestion control name`);
  return { name: String(o.name ?? ''), ...(o.cc ? { cc: o.cc } : {}), sysctls, route, applyTo: o.applyTo ?? 'sender' };
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x,
  );
}

/** The run's one control and one canary profile (every scenario of a suite must agree; exit 2 otherwise). */
export function armProfiles(m: RunManifest): ArmProfiles {
  let found: ArmProfiles | null = null;
  let firstId = '';
  for (const s of m.scenarios ?? []) {
    const sc = s.scenario as { control?: unknown; canary?: unknown; endpointSysctls?: Record<string, string> } | undefined;
    if (!sc?.canary || !sc.control)
      throw new InputError(
        `manifest.json: scenario "${s.id}" records no control/canary tuning profiles (scenario.control, scenario.canary)`,
      );
    const cur: ArmProfiles = {
      control: normProfile(sc.control, `scenario "${s.id}" control`),
      canary: normProfile(sc.canary, `scenario "${s.id}" canary`),
      endpointSysctls: Object.fromEntries(Object.entries(sc.endpointSysctls ?? {}).map(([k, v]) => [k, String(v)])),
    };
    if (!found) {
      found = cur;
      firstId = s.id;
    } else if (canonical({ a: found.control, b: found.canary }) !== canonical({ a: cur.control, b: cur.canary })) {
      throw new InputError(
        `manifest.json: scenarios "${firstId}" and "${s.id}" use different tuning profiles; export needs one canary and one control profile per run`,
      );
    }
  }
  if (!found) throw new InputError('manifest.json: the run has no scenarios');
  return found;
}

/** Sysctls a profile sets, congestion control included (net.ipv4.tcp_congestion_control). */
export function profileKeys(p: TuningProfile): Record<string, string> {
  const out: Record<string, string> = { ...p.sysctls };
  if (p.cc) out['net.ipv4.tcp_congestion_control'] = p.cc;
  return out;
}

/** A file-name-safe slug of the profile name: "bbr + IW30" -> "bbr-iw30". */
export function slug(name: string, fallback = 'canary'): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
  return s || fallback;
}

export const DECISION_WORD: Record<string, string> = { promote: 'PROMOTE', hold: 'HOLD', rollback: 'ROLLBACK' };
