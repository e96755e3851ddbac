/**
 * The relay's main thread: two UDP sockets in the link namespace L (one per side, port 4789),
 * the link model per direction, and the hand-off of scheduled packets to the sender thread.
 *
 *   A --VXLAN--> L:a.listen:4789 --[model forward]--> sender --> b.peer:4789  (A -> B, "forward")
 *   B --VXLAN--> L:b.listen:4789 --[model reverse]--> sender --> a.peer:4789  (B -> A, "reverse")
 *
 * Per datagram: check the source, run the model (drop / 1 / 2 copies with release times; with RED
 * marking, whether the inner packet is ECN-capable), copy each copy into a free shared slot
 * (flipping the corrupt bit, setting CE when RED marked it), publish it on the
 * submit ring and wake the sender only if the copy is due before the sender's own wake-up time.
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { LinkImpairment } from '../types.js';
import { ecnCodepoint, markCe } from './ecn.js';
import { LinkModel, applyCorruption, newEmission, type Emission } from './model.js';
import { ModelSchedule } from './model-schedule.js';
import { sampleUdpSockets } from './procnet.js';
import { directionStats, newDirection, type Direction } from './relay-direction.js';
import type { RelayStats, ResolvedRelayConfig } from './protocol.js';
import { VXLAN_HEADER_BYTES } from './protocol.js';
import {
  C_FREE_TAIL,
  C_LATE_MAX,
  C_SEQ,
  C_SLEEPING,
  C_STOP,
  C_SUB_TAIL,
  SLOT_BYTES,
  W_G_LEAD_NS,
  W_G_SPIN_NS,
  W_G_WAITS,
  W_G_WAIT_NS,
  W_WORDS,
  allocShared,
  nowFrom,
  views,
  type SenderInit,
  type SharedBuffers,
  type SharedViews,
} from './shared.js';

export class Relay {
  private readonly cfg: ResolvedRelayConfig;
  private readonly originNs = process.hrtime.bigint();
  private readonly now = nowFrom(this.originNs);
  private readonly shared: SharedBuffers;
  private readonly v: SharedViews;
  private readonly dirs: [Direction, Direction];
  private readonly em: Emission[] = [newEmission(), newEmission()];
  private readonly sockets: dgram.Socket[] = [];
  private worker: Worker | null = null;
  private senderTid: number | null = null;
  private sampler: NodeJS.Timeout | null = null;
  // free slots owned by the main thread (a stack) and the head of the sender's free ring
  private readonly freeStack: Int32Array;
  private freeTop = 0;
  private freeHead = 0;
  private subTail = 0;
  private maxInUse = 0;
  private allocs = 0;
  // stats interval
  private intervalStartNs = 0;
  private cpuBase = process.cpuUsage();
  private eluBase: EventLoopUtilization = performance.eventLoopUtilization();
  private wBase: Float64Array;
  private onFatal: (err: Error) => void = (err) => {
    throw err;
  };

  constructor(cfg: ResolvedRelayConfig) {
    this.cfg = cfg;
    this.shared = allocShared(cfg.maxPackets);
    this.v = views(this.shared);
    this.wBase = new Float64Array(W_WORDS);
    this.freeStack = new Int32Array(cfg.maxPackets);
    for (let i = cfg.maxPackets - 1; i >= 0; i--) this.freeStack[this.freeTop++] = i;
    this.dirs = [
      newDirection('forward', 0, cfg.forward, cfg.seed, cfg.a.peer, cfg.a.listen, cfg.a.port!),
      newDirection('reverse', 1, cfg.reverse, cfg.seed, cfg.b.peer, cfg.b.listen, cfg.b.port!),
    ];
  }

  /** Bind both sockets and start the sender thread; resolves when packets can flow. */
  async start(onFatal: (err: Error) => void): Promise<void> {
    this.onFatal = onFatal;
    if (this.cfg.nice !== null) {
      try {
        os.setPriority(0, this.cfg.nice); // pid 0 = the calling (main) thread on Linux
      } catch {
        /* not permitted */
      }
    }
    const init: SenderInit = {
      shared: this.shared,
      originNs: this.originNs.toString(),
      sockets: [
        { bindAddress: this.cfg.b.listen, peer: this.cfg.b.peer, port: this.cfg.b.port! },
        { bindAddress: this.cfg.a.listen, peer: this.cfg.a.peer, port: this.cfg.a.port! },
      ],
      sendBufferBytes: this.cfg.socketBufferBytes,
      nice: this.cfg.nice,
    };
    const worker = new Worker(new URL('./sender-worker.js', import.meta.url), { workerData: init });
    this.worker = worker;
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: { type: string; message?: string; tid?: number }) => {
        if (m.type === 'ready') {
          this.senderTid = m.tid ?? null;
          resolve();
        } else if (m.type === 'error') {
          const err = new Error(m.message ?? 'sender thread error');
          reject(err);
          this.onFatal(err);
        }
      });
      worker.on('error', (err) => {
        reject(err);
        this.onFatal(err);
      });
      worker.on('exit', (code) => {
        const err = new Error(`sender thread exited (code ${code})`);
        reject(err);
        if (this.worker) this.onFatal(err);
      });
    });
    const sides = [
      { dir: this.dirs[0], ep: this.cfg.a },
      { dir: this.dirs[1], ep: this.cfg.b },
    ];
    for (const { dir, ep } of sides) {
      const sock = dgram.createSocket({
        type: 'udp4',
        recvBufferSize: this.cfg.socketBufferBytes,
        sendBufferSize: 65536,
      });
      const d = dir;
      sock.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => this.onDatagram(d, msg, rinfo.address));
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind({ address: ep.listen, port: ep.port, exclusive: true }, () => {
          sock.removeListener('error', reject);
          resolve();
        });
      });
      sock.on('error', (err) => this.onFatal(err));
      this.sockets.push(sock);
    }
    await ready;
    this.sample();
    for (const d of this.dirs) d.kernelDropsBase = d.kernelDropsLast;
    this.sampler = setInterval(() => this.sample(), this.cfg.sampleMs);
    this.resetInterval();
  }

  /** The receive (main) thread's and the sender thread's ids: the parent makes them SCHED_FIFO. */
  threadIds(): number[] {
    return [process.pid, this.senderTid].filter((t): t is number => typeof t === 'number');
  }

  /**
   * "fifo:<prio>" when both threads run SCHED_FIFO (the parent applies RelayConfig.realtime with chrt
   * once the relay is ready; the relay itself starts no process), else "nice:<n>". Read from
   * /proc/self/task/<tid>/stat (policy, field 41): what is, not what was asked for.
   */
  private scheduling(): string {
    const fifo = this.threadIds().every((tid) => {
      try {
        const st = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        return st.slice(st.lastIndexOf(')') + 2).split(' ')[38] === '1';
      } catch {
        return false;
      }
    });
    return fifo && this.cfg.realtime !== null ? `fifo:${this.cfg.realtime}` : `nice:${this.cfg.nice ?? 0}`;
  }

  private alloc(): number {
    if (this.freeTop === 0) {
      const tail = Atomics.load(this.v.ctrl, C_FREE_TAIL);
      const mask = this.shared.ringMask;
      while (this.freeHead !== tail) {
        this.freeStack[this.freeTop++] = this.v.free[this.freeHead & mask]!;
        this.freeHead = (this.freeHead + 1) | 0;
      }
      if (this.freeTop === 0) return -1;
    }
    const slot = this.freeStack[--this.freeTop]!;
    this.allocs = (this.allocs + 1) | 0;
    // in use = allocated - freed by the sender (ring counters wrap together)
    const inUse = (this.allocs - Atomics.load(this.v.ctrl, C_FREE_TAIL)) | 0;
    if (inUse > this.maxInUse) this.maxInUse = inUse;
    return slot;
  }

  private onDatagram(d: Direction, msg: Buffer, from: string): void {
    const len = msg.length;
    if (from !== d.source) {
      d.foreign++;
      return;
    }
    d.packetsIn++;
    if (len <= VXLAN_HEADER_BYTES || len > SLOT_BYTES) {
      d.relayDrops++; // not VXLAN, or larger than a slot
      return;
    }
    d.bytesIn += len - VXLAN_HEADER_BYTES;
    if (this.armOnData && d.index === 0 && len - VXLAN_HEADER_BYTES >= 1000) {
      this.armOnData = false;
      this.arm(this.now());
    }
    const ect = d.model.marksEcn && ecnCodepoint(msg, VXLAN_HEADER_BYTES) > 0;
    const n = d.model.process(this.now(), len - VXLAN_HEADER_BYTES, this.em, ect);
    const v = this.v;
    for (let i = 0; i < n; i++) {
      const e = this.em[i]!;
      const slot = this.alloc();
      if (slot < 0) {
        d.relayDrops++;
        continue;
      }
      const off = slot * SLOT_BYTES;
      v.pool.set(msg, off);
      if (e.ce) markCe(v.pool, off + VXLAN_HEADER_BYTES, off + len);
      applyCorruption(v.pool, off + VXLAN_HEADER_BYTES, e);
      v.release[slot] = e.releaseNs;
      v.length[slot] = len;
      v.dir[slot] = d.index;
      v.submit[this.subTail & this.shared.ringMask] = slot;
      this.subTail = (this.subTail + 1) | 0;
      Atomics.store(v.ctrl, C_SUB_TAIL, this.subTail);
      Atomics.add(v.ctrl, C_SEQ, 1);
      if (Atomics.load(v.ctrl, C_SLEEPING) !== 0 && e.releaseNs < v.wakeAt[0]!) Atomics.notify(v.ctrl, C_SEQ, 1);
    }
  }

  /** Arm (t0 = now) or disarm the schedules of both directions; disarming restores the link's own values. */
  schedule(action: 'start' | 'stop', trigger: 'now' | 'data' = 'now'): void {
    const now = this.now();
    this.armOnData = action === 'start' && trigger === 'data';
    for (const d of this.dirs) {
      if (!d.model.impairment.schedule && !d.model.impairment.trace) continue;
      d.model.restoreBase();
      if (action === 'start') d.armRequestNs = now;
    }
    if (action === 'start' && trigger === 'now') this.arm(now);
  }

  /** with trigger "data": the first full-size forward datagram arms the schedules */
  private armOnData = false;

  private arm(now: number): void {
    for (const d of this.dirs) {
      const imp = d.model.impairment;
      if (!imp.schedule && !imp.trace) continue;
      d.changes.length = 0;
      d.delivered.length = 0;
      d.armedNs = now;
      d.model.timeline = new ModelSchedule(imp, now, d.changes, d.delivered);
    }
  }

  private sample(): void {
    // apply due schedule changes even when no packet arrives (the log then shows them on time)
    const now = this.now();
    for (const d of this.dirs) d.model.timeline?.advance(now, d.model);
    const m = sampleUdpSockets([this.dirs[0].procLocal, this.dirs[1].procLocal]);
    for (const d of this.dirs) {
      const s = m.get(d.procLocal);
      if (!s) continue;
      d.samples++;
      d.rxQueueLast = s.rxQueue;
      if (s.rxQueue > 0) d.samplesBacklogged++;
      if (s.rxQueue > d.rxQueueMax) d.rxQueueMax = s.rxQueue;
      d.kernelDropsLast = s.drops;
    }
  }

  /** Replace the link model of one or both directions (fresh queue and random state). */
  set(forward: LinkImpairment | undefined, reverse: LinkImpairment | undefined, seed?: number): void {
    const s = seed ?? this.cfg.seed;
    const upd = (d: Direction, imp: LinkImpairment | undefined) => {
      if (imp === undefined) return;
      const m = new LinkModel(imp, s, d.index);
      // keep the interval's counters
      m.counters = d.model.counters;
      m.queueDelay.counts.set(d.model.queueDelay.counts);
      m.queueDelay.sum = d.model.queueDelay.sum;
      m.queueDelay.max = d.model.queueDelay.max;
      d.model = m;
    };
    upd(this.dirs[0], forward);
    upd(this.dirs[1], reverse);
  }

  private resetInterval(): void {
    this.intervalStartNs = this.now();
    this.cpuBase = process.cpuUsage();
    this.eluBase = performance.eventLoopUtilization();
    this.wBase.set(this.v.wstats);
    Atomics.exchange(this.v.ctrl, C_LATE_MAX, 0);
    Atomics.exchange(this.v.ctrl, C_LATE_MAX + 1, 0);
    this.maxInUse = (this.allocs - Atomics.load(this.v.ctrl, C_FREE_TAIL)) | 0;
    for (const d of this.dirs) {
      d.model.resetCounters();
      d.packetsIn = d.bytesIn = d.foreign = d.relayDrops = 0;
      d.rxQueueMax = d.rxQueueLast;
      d.samples = d.samplesBacklogged = 0;
      d.kernelDropsBase = d.kernelDropsLast;
      d.changes.length = 0;
      d.delivered.length = 0;
      d.armedNs = d.armRequestNs = null;
    }
  }

  /** Telemetry since the last reset; with reset=true a new interval starts. */
  stats(reset = false): RelayStats {
    this.sample();
    const intervalMs = (this.now() - this.intervalStartNs) / 1e6;
    const cpu = process.cpuUsage(this.cpuBase);
    const w = this.v.wstats;
    const warnings: string[] = [];
    const dirStats = (d: Direction) => directionStats(d, w, this.wBase, this.v.ctrl, warnings);
    const out: RelayStats = {
      kind: 'relay',
      intervalMs,
      forward: dirStats(this.dirs[0]),
      reverse: dirStats(this.dirs[1]),
      cpu: {
        userMs: cpu.user / 1000,
        systemMs: cpu.system / 1000,
        coreShare: intervalMs > 0 ? (cpu.user + cpu.system) / 1000 / intervalMs : 0,
      },
      pool: { slots: this.shared.nSlots, maxInUse: this.maxInUse },
      threads: {
        receiveBusy: performance.eventLoopUtilization(this.eluBase).utilization,
        senderBusy: intervalMs > 0 ? Math.max(0, 1 - (w[W_G_WAIT_NS]! - this.wBase[W_G_WAIT_NS]!) / 1e6 / intervalMs) : 0,
        senderSpin: intervalMs > 0 ? (w[W_G_SPIN_NS]! - this.wBase[W_G_SPIN_NS]!) / 1e6 / intervalMs : 0,
        senderLeadUs: w[W_G_LEAD_NS]! / 1e3,
        senderWakeups: w[W_G_WAITS]! - this.wBase[W_G_WAITS]!,
      },
      scheduling: this.scheduling(),
      warnings,
    };
    if (reset) this.resetInterval();
    return out;
  }

  /** Stop the sender thread and close the sockets. */
  async stop(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler);
    const w = this.worker;
    this.worker = null;
    Atomics.store(this.v.ctrl, C_STOP, 1);
    Atomics.notify(this.v.ctrl, C_SEQ);
    for (const s of this.sockets) {
      try {
        s.close();
      } catch {
        /* already closed */
      }
    }
    if (w) await w.terminate();
  }
}
