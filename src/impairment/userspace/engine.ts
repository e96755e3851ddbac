/**
 * The userspace engine's plumbing. An impaired link A <-> B becomes:
 *
 *   A: vxlan (overlay addr) --underlay veth u<j>--> L: relay process <--underlay veth-- B: vxlan
 *
 * The relay (relay-main.ts) runs in the link namespace L and applies the link model to each VXLAN
 * datagram. Underlay MTU 1550 keeps the overlay at 1500. Transmit checksum offload is switched off on
 * both VXLAN devices: otherwise inner TCP checksums are left for offload and every TCP segment that
 * crosses a userspace relay is dropped (TcpInCsumErrors) while ping still works.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { run, spawn, type ChildProcess } from '../../exec/index.js';
import { projectRoot } from '../../scenario/load.js';
import { offloadsOff, type ImpairmentEngine, type LinkHandle, type LinkRequest } from '../index.js';
import { READY_LINE, VXLAN_PORT, type RelayConfig, type RelayStats } from './protocol.js';

export const UNDERLAY_MTU = 1550;

export function relayScript(): string {
  return join(projectRoot(), 'dist', 'impairment', 'userspace', 'relay-main.js');
}

/** Underlay addresses of link j: A .1 / L .2 on one /30, L .5 / B .6 on the next. */
export function underlay(j: number): { a: string; la: string; lb: string; b: string } {
  const base = `198.19.${128 + j}`;
  return { a: `${base}.1`, la: `${base}.2`, lb: `${base}.5`, b: `${base}.6` };
}

export class RelayHandle {
  private nextId = 1;
  private readonly waiting = new Map<number, (v: unknown) => void>();
  private readyResolve!: () => void;
  private readyReject!: (e: Error) => void;
  readonly ready: Promise<void>;
  readonly proc: ChildProcess;

  constructor(ns: string, config: RelayConfig, log: (s: string) => void) {
    this.ready = new Promise((res, rej) => {
      this.readyResolve = res;
      this.readyReject = rej;
    });
    this.proc = spawn([process.execPath, relayScript(), JSON.stringify(config)], {
      netns: ns,
      onLine: (line) => this.onLine(line, log),
      onStderrLine: (l) => log(`relay ${ns}: ${l}`),
    });
    void this.proc.wait().then((r) => {
      this.readyReject(new Error(`relay in ${ns} exited (code ${r.exitCode}) before it was ready: ${r.stderr.trim().slice(-500)}`));
      for (const [, w] of this.waiting) w(null);
      this.waiting.clear();
    });
  }

  private onLine(line: string, log: (s: string) => void): void {
    let msg: { event?: string; id?: number; stats?: unknown };
    try {
      msg = JSON.parse(line);
    } catch {
      log(`relay: ${line}`);
      return;
    }
    if (line === READY_LINE || msg.event === 'ready') this.readyResolve();
    else if (typeof msg.id === 'number') {
      const w = this.waiting.get(msg.id);
      this.waiting.delete(msg.id);
      w?.(msg.stats ?? null);
    }
  }

  stats(reset: boolean, timeoutMs = 5000): Promise<RelayStats | null> {
    if (this.proc.exited) return Promise.resolve(null);
    const id = this.nextId++;
    return new Promise((res) => {
      const t = setTimeout(() => {
        this.waiting.delete(id);
        res(null);
      }, timeoutMs);
      this.waiting.set(id, (v) => {
        clearTimeout(t);
        res(v as RelayStats | null);
      });
      this.proc.write(JSON.stringify({ cmd: 'stats', id, reset }));
    });
  }

  async stop(): Promise<void> {
    this.proc.write(JSON.stringify({ cmd: 'stop' }));
    this.proc.closeStdin();
    const t = setTimeout(() => void this.proc.stop(500), 1500);
    await this.proc.wait();
    clearTimeout(t);
  }
}

export class UserspaceEngine implements ImpairmentEngine {
  readonly name = 'userspace' as const;

  async createLink(req: LinkRequest): Promise<LinkHandle> {
    const script = relayScript();
    if (!existsSync(script)) throw new Error(`the relay is not built (${script} missing): run \`npm run build\``);
    const { a, b, index: j, resources } = req;
    const L = `nb-${req.runId}-lk${j}`;
    await run(['ip', 'netns', 'add', L]);
    resources.record((s) => s.namespaces.push(L));
    resources.defer(`delete namespace ${L}`, () => run(['ip', 'netns', 'del', L]).then(() => undefined));
    await run(['ip', '-n', L, 'link', 'set', 'lo', 'up']);
    const u = underlay(j);
    const ua = `u${j}`;
    await run(['ip', 'link', 'add', ua, 'netns', a.ns, 'mtu', String(UNDERLAY_MTU), 'type', 'veth', 'peer', 'name', 'ua', 'netns', L, 'mtu', String(UNDERLAY_MTU)]);
    await run(['ip', 'link', 'add', 'ub', 'netns', L, 'mtu', String(UNDERLAY_MTU), 'type', 'veth', 'peer', 'name', ua, 'netns', b.ns, 'mtu', String(UNDERLAY_MTU)]);
    const plumb: [string, string, string][] = [
      [a.ns, ua, `${u.a}/30`],
      [L, 'ua', `${u.la}/30`],
      [L, 'ub', `${u.lb}/30`],
      [b.ns, ua, `${u.b}/30`],
    ];
    for (const [ns, dev, addr] of plumb) {
      await run(['ip', '-n', ns, 'addr', 'add', addr, 'dev', dev]);
      await run(['ip', '-n', ns, 'link', 'set', dev, 'up']);
      await offloadsOff(ns, dev);
    }
    const vx: [typeof a, string, string][] = [
      [a, u.a, u.la],
      [b, u.b, u.lb],
    ];
    for (const [end, local, remote] of vx) {
      await run([
        'ip', '-n', end.ns, 'link', 'add', end.ifname, 'mtu', '1500', 'type', 'vxlan', 'id', String(100 + j),
        'local', local, 'remote', remote, 'dstport', String(VXLAN_PORT), 'dev', ua, 'nolearning',
      ]);
      await run(['ip', '-n', end.ns, 'addr', 'add', end.addr, 'dev', end.ifname]);
      await run(['ip', '-n', end.ns, 'link', 'set', end.ifname, 'up']);
      // tx checksum offload off: inner TCP checksums must be computed before the relay sees them
      await run(['ethtool', '-K', end.ifname, 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off'], { netns: end.ns });
    }
    const config: RelayConfig = {
      a: { listen: u.la, peer: u.a, port: VXLAN_PORT },
      b: { listen: u.lb, peer: u.b, port: VXLAN_PORT },
      forward: req.spec.forward,
      reverse: req.spec.reverse,
      seed: req.seed + j,
    };
    const relay = new RelayHandle(L, config, req.log);
    resources.defer(`stop relay in ${L}`, () => relay.stop());
    if (relay.proc.pid) resources.record((s) => s.pids.push(relay.proc.pid!));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      relay.ready,
      new Promise((_, rej) => {
        timer = setTimeout(() => rej(new Error(`relay in ${L} not ready after 10 s`)), 10000);
      }),
    ]).finally(() => clearTimeout(timer));
    return { name: req.name, telemetry: (reset) => relay.stats(reset) };
  }
}
