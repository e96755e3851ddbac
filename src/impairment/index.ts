/**
 * Impairment engines behind one interface. An engine builds one router-to-router link between two
 * namespaces, with the link model applied per direction:
 *   netem      veth pair + tc netem/tbf on each egress (kernels with sch_netem)
 *   userspace  VXLAN overlay whose underlay crosses a relay process in a link namespace
 * `auto` picks netem when a probe in a scratch namespace can create a netem qdisc.
 */
import { EnvError } from '../errors.js';
import { run, runBatch } from '../exec/index.js';
import { offloadsOff, type LinkEngine, type LinkHandle, type LinkRequest } from '../topology/links.js';
import { parseRedStats } from './netem.js';
import type { LinkImpairment } from './types.js';
import { scheduledTcCommands, scheduleRunners } from './netem-schedule.js';

/** An engine builds the router-to-router links a topology backend asks for. */
export interface ImpairmentEngine extends LinkEngine {
  readonly name: 'netem' | 'userspace';
}

/** A kernel link's telemetry: per direction, what its red qdisc did since the last reset. */
export interface KernelLinkStats {
  kind: 'tc';
  forward: { ceMarks: number; drops: { aqm: number; queue: number } } | null;
  reverse: { ceMarks: number; drops: { aqm: number; queue: number } } | null;
}

export class NetemEngine implements ImpairmentEngine {
  readonly name = 'netem' as const;
  /** seed netem's PRNG (the probe found kernel and tc support for `seed`) */
  constructor(readonly seeded = false) {}

  async createLink(req: LinkRequest): Promise<LinkHandle> {
    if (req.spec.forward.trace || req.spec.reverse.trace) {
      // tbf cannot follow a trace faithfully: per-millisecond delivery opportunities would be a
      // rate change every ms, and each `tc qdisc change` lands 0.1-20 ms late (docs/schedules.md)
      req.log(`link ${req.name}: trace replay runs on the userspace relay (the kernel's tbf cannot follow per-ms delivery opportunities)`);
      const { UserspaceEngine } = await import('./userspace/engine.js');
      return new UserspaceEngine().createLink(req);
    }
    const { a, b } = req;
    // created straight into the namespaces: nothing appears in the root namespace
    await run(['ip', 'link', 'add', a.ifname, 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.ifname, 'netns', b.ns]);
    // both ends at once; each end's ip commands in one process, its tc commands in another
    const end = async (e: typeof a, imp: typeof req.spec.forward) => {
      await runBatch(
        'ip',
        [
          ['ip', 'addr', 'add', e.addr, 'dev', e.ifname],
          ['ip', 'link', 'set', e.ifname, 'up'],
        ],
        { netns: e.ns },
      );
      await offloadsOff(e.ns, e.ifname);
      // one seed per link direction, from the scenario's seed
      const seed = this.seeded ? (req.seed >>> 0) * 64 + req.index * 2 + (e === a ? 0 : 1) : undefined;
      await runBatch('tc', scheduledTcCommands(e.ifname, imp, seed), { netns: e.ns });
    };
    const rs = await Promise.allSettled([end(a, req.spec.forward), end(b, req.spec.reverse)]);
    for (const r of rs) if (r.status === 'rejected') throw r.reason;
    const runners = scheduleRunners(req);
    const red = req.spec.forward.aqm || req.spec.reverse.aqm ? redTelemetry(a, req.spec.forward, b, req.spec.reverse) : null;
    if (runners && red) {
      // both: the schedule's changes and the red counters in one record
      const sched = runners.telemetry;
      const telemetry = async (reset: boolean) => ({ schedule: await sched(reset), red: await red(reset) });
      return { name: req.name, ...runners, telemetry };
    }
    if (runners) return { name: req.name, ...runners };
    return { name: req.name, telemetry: red ?? (async () => null) };
  }
}

/** Telemetry of a link with red: counters of each end's red qdisc since the last reset (tc -s qdisc show). */
function redTelemetry(
  a: LinkRequest['a'],
  fwd: LinkImpairment,
  b: LinkRequest['b'],
  rev: LinkImpairment,
): (reset: boolean) => Promise<KernelLinkStats | null> {
  const base = [
    { marked: 0, early: 0, pdrop: 0 },
    { marked: 0, early: 0, pdrop: 0 },
  ];
  const read = async (e: LinkRequest['a'], imp: LinkImpairment) => {
    if (!imp.aqm) return null;
    const r = await run(['tc', '-s', 'qdisc', 'show', 'dev', e.ifname], { netns: e.ns, reject: false, timeoutMs: 5000 });
    return r.exitCode === 0 ? parseRedStats(r.stdout) : null;
  };
  return async (reset) => {
    const now = await Promise.all([read(a, fwd), read(b, rev)]);
    const dir = (k: 0 | 1) => {
      const n = now[k];
      if (!n) return null;
      const d = { ceMarks: n.marked - base[k]!.marked, drops: { aqm: n.early - base[k]!.early, queue: n.pdrop - base[k]!.pdrop } };
      if (reset) base[k] = n;
      return d;
    };
    return { kind: 'tc', forward: dir(0), reverse: dir(1) };
  };
}

export interface NetemProbe {
  ok: boolean;
  detail: string;
  /** netem accepts `seed` (kernel >= 5.19 and iproute2 >= 6.2) */
  seed: boolean;
  /** for the manifest: "seeded" or why netem's randomness is not */
  randomness: string;
}

let netemProbe: Promise<NetemProbe> | null = null;

/** Can this kernel create a netem qdisc, and seed it? Probed once per process in a scratch namespace. */
export function probeNetem(runId: string): Promise<NetemProbe> {
  netemProbe ??= (async () => {
    const ns = `nb-${runId}-probe`;
    await run(['ip', 'netns', 'add', ns]);
    try {
      // veth, not dummy: some kernels (this project's CI) have no dummy driver
      await run(['ip', '-n', ns, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1']);
      const r = await run(['tc', 'qdisc', 'add', 'dev', 'p0', 'root', 'netem', 'delay', '1ms'], { netns: ns, reject: false });
      const first = (x: { stderr: string; exitCode: number | null }) => x.stderr.trim().split('\n')[0] || `exit ${x.exitCode}`;
      if (r.exitCode !== 0)
        return { ok: false, detail: `no netem qdisc in this kernel (tc: ${first(r)})`, seed: false, randomness: 'no netem' };
      const s = await run(['tc', 'qdisc', 'change', 'dev', 'p0', 'root', 'netem', 'delay', '1ms', 'seed', '1'], {
        netns: ns,
        reject: false,
      });
      return s.exitCode === 0
        ? { ok: true, detail: 'the kernel has sch_netem', seed: true, randomness: 'seeded' }
        : { ok: true, detail: 'the kernel has sch_netem', seed: false, randomness: `not supported by this kernel/tc (tc: ${first(s)})` };
    } finally {
      await run(['ip', 'netns', 'del', ns], { reject: false });
    }
  })();
  return netemProbe;
}

export async function chooseEngine(
  requested: 'auto' | 'netem' | 'userspace',
  runId: string,
): Promise<{ engine: ImpairmentEngine; reason: string; randomness: string }> {
  const { UserspaceEngine } = await import('./userspace/engine.js');
  const relay = 'seeded (the relay draws from the scenario seed)';
  if (requested === 'userspace') return { engine: new UserspaceEngine(), reason: 'requested (--engine userspace)', randomness: relay };
  const probe = await probeNetem(runId);
  const netem = `netem: ${probe.randomness}`;
  if (requested === 'netem') {
    if (!probe.ok) throw new EngineUnavailable(`engine netem requested but ${probe.detail}; use --engine userspace or --vm`);
    return { engine: new NetemEngine(probe.seed), reason: 'requested (--engine netem)', randomness: netem };
  }
  return probe.ok
    ? { engine: new NetemEngine(probe.seed), reason: `auto: ${probe.detail}`, randomness: netem }
    : {
        engine: new UserspaceEngine(),
        reason: `auto: ${probe.detail}, so the userspace relay emulates the links`,
        randomness: relay,
      };
}

export class EngineUnavailable extends EnvError {}
