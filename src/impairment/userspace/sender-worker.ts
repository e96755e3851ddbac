/**
 * The relay's sender thread: keeps every scheduled packet in a binary min-heap keyed by release
 * time and sends each one when it is due, sleeping in between with Atomics.wait (fractional ms).
 *
 * Node timers are too coarse for this (setTimeout sends 0.3-1.5 ms late); Atomics.wait on a futex
 * wakes within the kernel's timer slack (~50 us). To shave that off, the thread learns how late it
 * wakes (a running estimate of oversleep), asks to wake that much early, and spins the remaining
 * few microseconds. Every packet's lateness (send time - release time) is recorded.
 *
 * It sends with its own connected UDP sockets (no per-packet address lookup; dgram then tries a
 * synchronous sendmsg first). A slot goes back to the main thread as soon as its datagram has
 * left; if the kernel send buffer was full and dgram had to queue the send, the slot is held until
 * the socket's send queue has drained. The thread yields to its event loop every few ms so queued
 * sends, callbacks and GC housekeeping run.
 */
import { parentPort, workerData } from 'node:worker_threads';
import dgram from 'node:dgram';
import os from 'node:os';
import { once } from 'node:events';
import { readlinkSync } from 'node:fs';
import { bucketOf } from './histogram.js';
import {
  C_FREE_TAIL,
  C_LATE_MAX,
  C_SEQ,
  C_SLEEPING,
  C_STOP,
  C_SUB_TAIL,
  SLOT_BYTES,
  W_BYTES,
  W_DIR_STRIDE,
  W_EARLY,
  W_G_LEAD_NS,
  W_G_SPIN_NS,
  W_G_WAITS,
  W_G_WAIT_NS,
  W_HIST,
  W_LATE_SUM_MS,
  W_PACKETS,
  W_QUEUED_SENDS,
  nowFrom,
  views,
  type SenderInit,
} from './shared.js';

const init = workerData as SenderInit;
const v = views(init.shared);
const now = nowFrom(BigInt(init.originNs));
const nSlots = init.shared.nSlots;
const mask = init.shared.ringMask;

/** how long the thread may run without returning to its event loop */
const YIELD_NS = 5e6;
/** longest sleep when idle (so it still yields regularly) */
const IDLE_MS = 20;
/**
 * Long sleeps oversleep more (on this 2-vCPU VM: p99 ~0.15 ms after a 1 ms sleep, ~0.9 ms after
 * 20 ms). A release further away than FINE_NS is approached in two steps: a coarse sleep that ends
 * COARSE_GUARD_NS early, then a short fine sleep that ends `lead` early, then a spin to the
 * release time.
 */
const FINE_NS = 1.5e6;
const COARSE_GUARD_NS = 1e6;
/**
 * Spinning is rationed: at most SPIN_SHARE of the thread's time (token bucket, burst SPIN_BURST_NS).
 * Beyond that a packet due within the lead is sent at once, up to `lead` early (counted as an early
 * send): at high packet rates the sender is awake anyway, and a spinning real-time thread would
 * take the CPU that the kernel and the endpoints need.
 */
const SPIN_SHARE = 0.05;
const SPIN_BURST_NS = 2e6;
/**
 * Bounds for the learned wake-up lead (about the median oversleep of a fine sleep). The cap keeps
 * spinning cheap: oversleeps beyond it are CPU contention, not timer slack, and chasing them with
 * longer spins only makes the contention worse (a spinning SCHED_FIFO thread starves ordinary
 * tasks until the kernel's fair-server throttles it for tens of ms).
 */
const LEAD_MIN_NS = 10e3;
const LEAD_MAX_NS = 60e3;
/** aim for a timed wake-up this much before the release; the rest is spun */
const WAKE_MARGIN_NS = 5e3;

// ---- min-heap of slots keyed by (release time, arrival sequence) ----
const hKey = new Float64Array(nSlots);
const hSeq = new Float64Array(nSlots);
const hSlot = new Int32Array(nSlots);
let hN = 0;
let seqNo = 0;

function less(i: number, j: number): boolean {
  const a = hKey[i]!;
  const b = hKey[j]!;
  return a < b || (a === b && hSeq[i]! < hSeq[j]!);
}
function swap(i: number, j: number): void {
  const k = hKey[i]!;
  hKey[i] = hKey[j]!;
  hKey[j] = k;
  const s = hSeq[i]!;
  hSeq[i] = hSeq[j]!;
  hSeq[j] = s;
  const t = hSlot[i]!;
  hSlot[i] = hSlot[j]!;
  hSlot[j] = t;
}
function heapPush(key: number, slot: number): void {
  let i = hN++;
  hKey[i] = key;
  hSeq[i] = seqNo++;
  hSlot[i] = slot;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!less(i, p)) break;
    swap(i, p);
    i = p;
  }
}
function heapPop(): number {
  const top = hSlot[0]!;
  hN--;
  if (hN > 0) {
    hKey[0] = hKey[hN]!;
    hSeq[0] = hSeq[hN]!;
    hSlot[0] = hSlot[hN]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= hN) break;
      const r = l + 1;
      const m = r < hN && less(r, l) ? r : l;
      if (!less(m, i)) break;
      swap(m, i);
      i = m;
    }
  }
  return top;
}

// ---- rings ----
let subHead = 0;
let freeTail = 0;
let freeDirty = false;

function drainSubmit(): void {
  const tail = Atomics.load(v.ctrl, C_SUB_TAIL);
  while (subHead !== tail) {
    const slot = v.submit[subHead & mask]!;
    subHead = (subHead + 1) | 0;
    heapPush(v.release[slot]!, slot);
  }
}

function freeSlot(slot: number): void {
  v.free[freeTail & mask] = slot;
  freeTail = (freeTail + 1) | 0;
  freeDirty = true;
}

function publishFree(): void {
  if (freeDirty) {
    Atomics.store(v.ctrl, C_FREE_TAIL, freeTail);
    freeDirty = false;
  }
}

// ---- sockets ----
const sockets: dgram.Socket[] = [];
/** slots whose send was queued by dgram, per socket */
const held: number[][] = [[], []];

async function openSockets(): Promise<void> {
  for (const s of init.sockets) {
    const sock = dgram.createSocket({ type: 'udp4', sendBufferSize: init.sendBufferBytes, recvBufferSize: 65536 });
    sock.on('error', (err) => {
      parentPort?.postMessage({ type: 'error', message: `sender socket: ${err.message}` });
    });
    sock.bind({ address: s.bindAddress, port: 0, exclusive: true });
    await once(sock, 'listening');
    sock.connect(s.port, s.peer);
    await once(sock, 'connect');
    try {
      sock.setSendBufferSize(init.sendBufferBytes);
    } catch {
      /* capped by wmem_max; keep what we got */
    }
    sockets.push(sock);
  }
}

function releaseHeld(): void {
  for (let d = 0; d < 2; d++) {
    const h = held[d]!;
    if (h.length > 0 && sockets[d]!.getSendQueueCount() === 0) {
      for (const slot of h) freeSlot(slot);
      h.length = 0;
    }
  }
}

function send(slot: number, t: number): void {
  const d = v.dir[slot]!;
  const len = v.length[slot]!;
  const sock = sockets[d]!;
  sock.send(new Uint8Array(init.shared.pool, slot * SLOT_BYTES, len));
  const late = t - v.release[slot]!;
  const base = d * W_DIR_STRIDE;
  const w = v.wstats;
  w[base + W_PACKETS] += 1;
  w[base + W_BYTES] += len - 8;
  w[base + W_LATE_SUM_MS] += late / 1e6;
  w[base + W_HIST + bucketOf(late / 1e6)] += 1;
  const l = Math.round(late / 100);
  const li = C_LATE_MAX + d;
  if (l > Atomics.load(v.ctrl, li)) Atomics.store(v.ctrl, li, l > 0x7fffffff ? 0x7fffffff : l);
  if (sock.getSendQueueCount() > 0) {
    held[d]!.push(slot);
    w[base + W_QUEUED_SENDS] += 1;
  } else {
    freeSlot(slot);
  }
}

const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

async function run(): Promise<void> {
  let lastYield = now();
  /** learned oversleep of Atomics.wait, ns */
  let lead = 40e3;
  // spin budget (token bucket, ns of spinning)
  let spinTokens = SPIN_BURST_NS;
  let spinRefill = now();
  for (;;) {
    if (Atomics.load(v.ctrl, C_STOP) !== 0) break;
    drainSubmit();
    let t = now();
    while (hN > 0 && hKey[0]! <= t) {
      send(heapPop(), t);
      t = now();
    }
    publishFree();
    if (held[0]!.length + held[1]!.length > 0 || t - lastYield > YIELD_NS) {
      await yieldToLoop();
      releaseHeld();
      publishFree();
      lastYield = now();
      continue;
    }
    if (hN > 0 && hKey[0]! - t <= lead) {
      // due within the wake-up lead: a sleep would overshoot it
      const due = hKey[0]!;
      spinTokens = Math.min(SPIN_BURST_NS, spinTokens + (t - spinRefill) * SPIN_SHARE);
      spinRefill = t;
      if (spinTokens >= due - t) {
        // spin to the release time (stop as soon as main publishes something: it may be due earlier)
        const s0 = t;
        while ((t = now()) < due && Atomics.load(v.ctrl, C_SUB_TAIL) === subHead) {
          /* spin */
        }
        spinTokens -= t - s0;
        spinRefill = t;
        v.wstats[W_G_SPIN_NS] += t - s0;
      } else {
        // spin budget used up (high packet rate): send it now, at most `lead` early
        const slot = heapPop();
        v.wstats[v.dir[slot]! * W_DIR_STRIDE + W_EARLY] += 1;
        send(slot, t);
      }
      continue;
    }
    // sleep until the next release (minus the learned lead) or until main has something earlier
    const seq = Atomics.load(v.ctrl, C_SEQ);
    let waitNs: number;
    let fine = false;
    if (hN === 0) waitNs = IDLE_MS * 1e6;
    else {
      const dt = hKey[0]! - t;
      if (dt > FINE_NS) waitNs = dt - COARSE_GUARD_NS;
      else {
        waitNs = dt - lead;
        fine = true;
      }
    }
    if (waitNs > IDLE_MS * 1e6) waitNs = IDLE_MS * 1e6;
    if (waitNs <= 0) continue;
    v.wakeAt[0] = t + waitNs;
    Atomics.store(v.ctrl, C_SLEEPING, 1);
    if (Atomics.load(v.ctrl, C_SUB_TAIL) === subHead) {
      const r = Atomics.wait(v.ctrl, C_SEQ, seq, waitNs / 1e6);
      const woke = now();
      v.wstats[W_G_WAIT_NS] += woke - t;
      v.wstats[W_G_WAITS] += 1;
      if (fine && r === 'timed-out') {
        // track the typical oversleep (EWMA 1/16), clamped to [LEAD_MIN_NS, LEAD_MAX_NS]
        const over = woke - (t + waitNs) + WAKE_MARGIN_NS;
        lead += (over - lead) / 16;
        if (lead < LEAD_MIN_NS) lead = LEAD_MIN_NS;
        else if (lead > LEAD_MAX_NS) lead = LEAD_MAX_NS;
        v.wstats[W_G_LEAD_NS] = lead;
      }
    }
    Atomics.store(v.ctrl, C_SLEEPING, 0);
  }
}

async function main(): Promise<void> {
  if (init.nice !== null) {
    try {
      os.setPriority(0, init.nice); // pid 0: this thread only
    } catch {
      /* not permitted: run at the inherited priority */
    }
  }
  await openSockets();
  let tid: number | undefined;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop()); // "<pid>/task/<tid>"
  } catch {
    tid = undefined;
  }
  parentPort?.postMessage({ type: 'ready', tid });
  await run();
  for (const s of sockets) s.close();
}

main().catch((err: unknown) => {
  parentPort?.postMessage({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
});
