/**
 * Sysctls checked against the running kernel before anything is built: every key a scenario sets
 * must exist inside a network namespace and be per-namespace, every value must be accepted by the
 * kernel (and read back as written), and every congestion control must be available or loadable.
 *
 * One throwaway process (`unshare --net`, a fresh namespace that dies with it) reads each key and
 * writes each value inside that namespace; nothing persistent is created and the host's own
 * settings are never touched. A key that the init namespace has but a fresh namespace lacks is a
 * global sysctl: setting it would change the whole host, so it is refused.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import type { InputProblem } from '../errors.js';
import { run, which } from '../exec/index.js';
import type { Scenario } from '../scenario/model.js';

const CC_KEY = 'net.ipv4.tcp_congestion_control';
/** the probe's answer for a write refused with EACCES/EPERM inside the namespace */
export const READ_ONLY = 'read-only inside a network namespace';
const AVAILABLE = '/proc/sys/net/ipv4/tcp_available_congestion_control';

/** Where a sysctl comes from in the scenario file: its field path (`canary.sysctls.<key>`). */
interface SysctlUse {
  scenario: Scenario;
  section: 'endpoints' | 'control' | 'canary';
  key: string;
  value: string;
}

/** What the kernel said about one key (and each distinct value) in a fresh namespace. */
export interface KernelSysctlProbe {
  /** key -> current value in a fresh namespace, null when the key does not exist there */
  inFreshNs: Record<string, string | null>;
  /** key -> exists in the init namespace (/proc/sys) */
  inInitNs: Record<string, boolean>;
  /** "key=value" -> null when accepted and read back as written, else why not */
  writes: Record<string, string | null>;
  /** congestion control -> null when available or loadable, else why not */
  cc: Record<string, string | null>;
}

export interface CheckSysctlsOptions {
  /** replace the kernel probe (unit tests) */
  probe?: (keys: string[], writes: [string, string][], ccs: string[], note?: (msg: string) => void) => Promise<KernelSysctlProbe>;
  /** told when the probe cannot run (not root, no unshare): only the init namespace is checked */
  note?: (msg: string) => void;
}

export function sysctlPath(key: string): string {
  return `/proc/sys/${key.replace(/\./g, '/')}`;
}

function usesOf(s: Scenario): SysctlUse[] {
  const out: SysctlUse[] = [];
  for (const [key, value] of Object.entries(s.endpointSysctls)) out.push({ scenario: s, section: 'endpoints', key, value });
  for (const arm of ['control', 'canary'] as const)
    for (const [key, value] of Object.entries(s[arm].sysctls)) out.push({ scenario: s, section: arm, key, value });
  return out;
}

/** Every congestion control a scenario selects, with the field that selects it. */
function ccsOf(s: Scenario): { name: string; path: string[] }[] {
  const out: { name: string; path: string[] }[] = [];
  for (const arm of ['control', 'canary'] as const) {
    const p = s[arm];
    if (p.cc) out.push({ name: p.cc, path: p.sysctls[CC_KEY] ? [arm, 'sysctls', CC_KEY] : [arm, 'cc'] });
    if (p.route.congctl) out.push({ name: p.route.congctl, path: [arm, 'route', 'congctl'] });
  }
  const e = s.endpointSysctls[CC_KEY];
  if (e) out.push({ name: e, path: ['endpoints', 'sysctls', CC_KEY] });
  return out;
}

/** Locate a field in the scenario file (file:line:col), else just the file. */
class Locator {
  private docs = new Map<string, { doc: ReturnType<typeof parseDocument>; lc: LineCounter } | null>();
  at(file: string, path: string[]): { line?: number; col?: number } {
    let d = this.docs.get(file);
    if (d === undefined) {
      d = null;
      try {
        const abs = resolve(file);
        if (existsSync(abs)) {
          const lc = new LineCounter();
          const doc = parseDocument(readFileSync(abs, 'utf8'), { lineCounter: lc });
          d = { doc, lc };
        }
      } catch {
        d = null;
      }
      this.docs.set(file, d);
    }
    if (!d) return {};
    // the key node itself (sysctl keys contain dots, so walk the map by hand)
    let node = d.doc.contents as Node | null;
    for (const seg of path) {
      if (!node || !isMap(node)) return {};
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === seg);
      if (!pair) return {};
      node = (seg === path[path.length - 1] ? pair.key : pair.value) as Node | null;
    }
    const r = node?.range;
    if (!r) return {};
    const p = d.lc.linePos(r[0]);
    return { line: p.line, col: p.col };
  }
}

/**
 * Check every sysctl key and value and every congestion control of the scenarios against the running
 * kernel. Returns one located problem per bad (scenario file, field); an empty list means all is well.
 * Runs at most one short-lived `unshare --net` process (plus `modprobe -n` per missing congestion
 * control); creates nothing that outlives it.
 */
export async function checkSysctls(scenarios: readonly Scenario[], opts: CheckSysctlsOptions = {}): Promise<InputProblem[]> {
  const uses = scenarios.flatMap(usesOf);
  const ccUses = scenarios.flatMap((s) => ccsOf(s).map((c) => ({ ...c, scenario: s })));
  const keys = [...new Set(uses.map((u) => u.key))];
  const writes = new Map<string, [string, string]>();
  for (const u of uses) if (u.key !== CC_KEY) writes.set(`${u.key}=${u.value}`, [u.key, u.value]);
  const ccs = [...new Set(ccUses.map((c) => c.name))];
  if (keys.length === 0 && ccs.length === 0) return [];
  const probe = await (opts.probe ?? probeKernel)(keys, [...writes.values()], ccs, opts.note);

  const loc = new Locator();
  const problems: InputProblem[] = [];
  const seen = new Set<string>();
  const add = (s: Scenario, path: string[], message: string) => {
    const dotted = path.join('.');
    const k = `${s.file}\0${dotted}\0${message}`;
    if (seen.has(k)) return;
    seen.add(k);
    problems.push({ file: s.file, ...loc.at(s.file, path), path: dotted, message });
  };
  for (const u of uses) {
    const path = [u.section, 'sysctls', u.key];
    const fresh = probe.inFreshNs[u.key];
    if (fresh === null) {
      if (probe.inInitNs[u.key])
        add(
          u.scenario,
          path,
          `"${u.key}" is not per-namespace on this kernel (${kernelRelease()}): it exists only in the host's own namespace, so setting it would change the whole machine; remove it or set it on the host yourself`,
        );
      else add(u.scenario, path, `this kernel (${kernelRelease()}) has no sysctl "${u.key}" (no ${sysctlPath(u.key)})`);
      continue;
    }
    if (fresh === undefined || u.key === CC_KEY) continue; // not probed (no namespace) / checked as a congestion control
    const w = probe.writes[`${u.key}=${u.value}`];
    if (w === READ_ONLY)
      add(
        u.scenario,
        path,
        `"${u.key}" is not per-namespace on this kernel (${kernelRelease()}): a network namespace sees it read-only, only the host's own namespace can set it; remove it or set it on the host yourself`,
      );
    else if (w) add(u.scenario, path, `the kernel does not accept ${JSON.stringify(u.value)} for "${u.key}": ${w}`);
  }
  for (const c of ccUses) {
    const why = probe.cc[c.name];
    if (why) add(c.scenario, c.path, why);
  }
  return problems;
}

let releaseCache: string | undefined;
function kernelRelease(): string {
  if (releaseCache === undefined) {
    try {
      releaseCache = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
    } catch {
      releaseCache = 'unknown';
    }
  }
  return releaseCache;
}

/**
 * Runs inside the throwaway namespace (node -e, CommonJS): reads each key, writes each value and
 * reads it back. Input and output are JSON on stdin / stdout; the script is a constant.
 */
const PROBE_SCRIPT = `
const fs = require('fs');
const req = JSON.parse(fs.readFileSync(0, 'utf8'));
const p = (k) => '/proc/sys/' + k.replace(/\\./g, '/');
const norm = (v) => String(v).trim().split(/\\s+/).join(' ');
const out = { keys: {}, writes: {} };
for (const k of req.keys) { try { out.keys[k] = fs.readFileSync(p(k), 'utf8').trim(); } catch (e) { out.keys[k] = null; } }
for (const [k, v] of req.writes) {
  if (out.keys[k] === null || out.keys[k] === undefined) continue;
  try {
    fs.writeFileSync(p(k), String(v));
    const got = norm(fs.readFileSync(p(k), 'utf8'));
    out.writes[k + '=' + v] = got === norm(v) ? null : 'accepted but reads back as ' + JSON.stringify(got);
  } catch (e) {
    out.writes[k + '=' + v] = e.code === 'EINVAL' ? 'invalid argument (out of range or wrong form)' : e.code === 'EACCES' || e.code === 'EPERM' ? ${JSON.stringify(READ_ONLY)} : String(e.code || e.message);
  }
}
process.stdout.write(JSON.stringify(out));
`;

/** The real probe: /proc/sys in this (init) namespace, then one `unshare --net` process. */
export async function probeKernel(
  keys: string[],
  writes: [string, string][],
  ccs: string[],
  note?: (msg: string) => void,
): Promise<KernelSysctlProbe> {
  const out: KernelSysctlProbe = { inFreshNs: {}, inInitNs: {}, writes: {}, cc: {} };
  for (const k of keys) out.inInitNs[k] = existsSync(sysctlPath(k));
  if (keys.length) {
    const root = process.getuid?.() === 0;
    const unshare = root ? await which('unshare') : null;
    let ok = false;
    if (unshare) {
      const r = await run(['unshare', '--net', '--', process.execPath, '-e', PROBE_SCRIPT], {
        input: JSON.stringify({ keys, writes }),
        reject: false,
        timeoutMs: 20_000,
      });
      if (r.exitCode === 0) {
        try {
          const j = JSON.parse(r.stdout) as { keys: Record<string, string | null>; writes: Record<string, string | null> };
          Object.assign(out.inFreshNs, j.keys);
          Object.assign(out.writes, j.writes);
          ok = true;
        } catch {
          ok = false;
        }
      }
    }
    if (!ok) {
      // without a fresh namespace only existence in the host's namespace can be checked
      note?.(
        `sysctls: could not probe a fresh network namespace (${root ? 'unshare --net failed' : 'not root'}); only checked that each key exists`,
      );
      for (const k of keys) if (!out.inInitNs[k]) out.inFreshNs[k] = null;
    }
  }
  if (ccs.length) {
    let avail: string[] = [];
    try {
      avail = readFileSync(AVAILABLE, 'utf8').trim().split(/\s+/);
    } catch {
      avail = [];
    }
    const modprobe = await which('modprobe');
    for (const c of ccs) {
      if (avail.includes(c)) {
        out.cc[c] = null;
        continue;
      }
      if (modprobe) {
        // dry run: resolves the module and its dependencies, loads nothing
        const r = await run(['modprobe', '-n', '-q', `tcp_${c}`], { reject: false, timeoutMs: 10_000 });
        if (r.exitCode === 0) {
          out.cc[c] = null;
          continue;
        }
      }
      out.cc[c] =
        `congestion control "${c}" is not available in this kernel (${kernelRelease()}; available: ${avail.join(' ') || 'none'})` +
        (modprobe ? ` and no module tcp_${c} can be loaded` : ` and modprobe is missing, so tcp_${c} cannot be loaded`);
    }
  }
  return out;
}
