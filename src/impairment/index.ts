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
import { scheduledTcCommands, scheduleRunners } from './netem-schedule.js';

/** An engine builds the router-to-router links a topology backend asks for. */
export interface ImpairmentEngine extends LinkEngine {
  readonly name: 'netem' | 'userspace';
}

export class NetemEngine implements ImpairmentEngine {
  readonly name = 'netem' as const;

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
      await runBatch('tc', scheduledTcCommands(e.ifname, imp), { netns: e.ns });
    };
    const rs = await Promise.allSettled([end(a, req.spec.forward), end(b, req.spec.reverse)]);
    for (const r of rs) if (r.status === 'rejected') throw r.reason;
    const runners = scheduleRunners(req);
    if (runners) return { name: req.name, ...runners };
    return { name: req.name, telemetry: async () => null };
  }
}

let netemProbe: Promise<{ ok: boolean; detail: string }> | null = null;

/** Can this kernel create a netem qdisc? Probed once per process in a scratch namespace. */
export function probeNetem(runId: string): Promise<{ ok: boolean; detail: string }> {
  netemProbe ??= (async () => {
    const ns = `nb-${runId}-probe`;
    await run(['ip', 'netns', 'add', ns]);
    try {
      // veth, not dummy: some kernels (this project's CI) have no dummy driver
      await run(['ip', '-n', ns, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1']);
      const r = await run(['tc', 'qdisc', 'add', 'dev', 'p0', 'root', 'netem', 'delay', '1ms'], { netns: ns, reject: false });
      return r.exitCode === 0
        ? { ok: true, detail: 'the kernel has sch_netem' }
        : { ok: false, detail: `no netem qdisc in this kernel (tc: ${r.stderr.trim().split('\n')[0] || `exit ${r.exitCode}`})` };
    } finally {
      await run(['ip', 'netns', 'del', ns], { reject: false });
    }
  })();
  return netemProbe;
}

export async function chooseEngine(
  requested: 'auto' | 'netem' | 'userspace',
  runId: string,
): Promise<{ engine: ImpairmentEngine; reason: string }> {
  const { UserspaceEngine } = await import('./userspace/engine.js');
  if (requested === 'userspace') return { engine: new UserspaceEngine(), reason: 'requested (--engine userspace)' };
  const probe = await probeNetem(runId);
  if (requested === 'netem') {
    if (!probe.ok) throw new EngineUnavailable(`engine netem requested but ${probe.detail}; use --engine userspace or --vm`);
    return { engine: new NetemEngine(), reason: 'requested (--engine netem)' };
  }
  return probe.ok
    ? { engine: new NetemEngine(), reason: `auto: ${probe.detail}` }
    : { engine: new UserspaceEngine(), reason: `auto: ${probe.detail}, so the userspace relay emulates the links` };
}

export class EngineUnavailable extends EnvError {}
