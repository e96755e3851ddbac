/**
 * Shared-memory layout between the relay's main thread (receive + model) and its sender thread
 * (time-ordered release). Single producer / single consumer in each direction:
 *
 *   pool       nSlots x SLOT_BYTES packet buffers (main writes a packet into a free slot)
 *   submit     ring of slot numbers, main -> sender; per-slot metadata (release time, length,
 *              direction) is written before the slot number is published with Atomics.store
 *   free       ring of slot numbers, sender -> main, after the datagram has left
 *   ctrl       Int32 control words (ring tails, wake-up sequence, sleeping flag, stop flag, max lateness)
 *   wakeAt     Float64: when the sleeping sender will wake by itself (ns); main only notifies it for
 *              packets due earlier, so a delayed packet costs no futex wake-up
 *   wstats     Float64 counters written only by the sender (main reads them, never writes)
 *
 * Both rings have capacity >= nSlots and there are only nSlots packets, so they cannot overflow.
 * Times are ns since `originNs` (process.hrtime.bigint(), CLOCK_MONOTONIC, the same in both threads).
 */
import { HIST_BUCKETS } from './histogram.js';

/** Largest datagram carried (the underlay MTU of 1550 gives at most 1522 bytes of VXLAN payload). */
export const SLOT_BYTES = 2048;

export const C_SUB_TAIL = 0;
export const C_FREE_TAIL = 1;
export const C_SEQ = 2;
export const C_SLEEPING = 3;
export const C_STOP = 4;
/** max lateness per direction, units of 0.1 us (Atomics.exchange to read-and-reset) */
export const C_LATE_MAX = 5; // 5, 6
export const C_WORDS = 8;

/** per-direction sender counters in wstats */
export const W_PACKETS = 0;
export const W_BYTES = 1;
export const W_ERRORS = 2;
export const W_LATE_SUM_MS = 3;
export const W_QUEUED_SENDS = 4;
/** packets sent before their release time (spin budget exhausted), at most the wake-up lead early */
export const W_EARLY = 5;
export const W_HIST = 8;
export const W_DIR_STRIDE = W_HIST + HIST_BUCKETS;
/** sender-wide values after the two direction blocks */
export const W_G = 2 * W_DIR_STRIDE;
/** ns spent blocked in Atomics.wait */
export const W_G_WAIT_NS = W_G + 0;
/** ns spent spinning towards a release time */
export const W_G_SPIN_NS = W_G + 1;
/** current learned wake-up lead, ns */
export const W_G_LEAD_NS = W_G + 2;
/** Atomics.wait calls */
export const W_G_WAITS = W_G + 3;
export const W_WORDS = W_G + 4;

export interface SharedBuffers {
  nSlots: number;
  ringMask: number;
  pool: SharedArrayBuffer;
  submit: SharedArrayBuffer;
  free: SharedArrayBuffer;
  release: SharedArrayBuffer;
  length: SharedArrayBuffer;
  dir: SharedArrayBuffer;
  ctrl: SharedArrayBuffer;
  wakeAt: SharedArrayBuffer;
  wstats: SharedArrayBuffer;
}

export interface SharedViews {
  pool: Uint8Array;
  submit: Int32Array;
  free: Int32Array;
  release: Float64Array;
  length: Int32Array;
  dir: Uint8Array;
  ctrl: Int32Array;
  wakeAt: Float64Array;
  wstats: Float64Array;
}

export function allocShared(nSlots: number): SharedBuffers {
  let cap = 1;
  while (cap < nSlots) cap <<= 1;
  return {
    nSlots,
    ringMask: cap - 1,
    pool: new SharedArrayBuffer(nSlots * SLOT_BYTES),
    submit: new SharedArrayBuffer(cap * 4),
    free: new SharedArrayBuffer(cap * 4),
    release: new SharedArrayBuffer(nSlots * 8),
    length: new SharedArrayBuffer(nSlots * 4),
    dir: new SharedArrayBuffer(nSlots),
    ctrl: new SharedArrayBuffer(C_WORDS * 4),
    wakeAt: new SharedArrayBuffer(8),
    wstats: new SharedArrayBuffer(W_WORDS * 8),
  };
}

export function views(b: SharedBuffers): SharedViews {
  return {
    pool: new Uint8Array(b.pool),
    submit: new Int32Array(b.submit),
    free: new Int32Array(b.free),
    release: new Float64Array(b.release),
    length: new Int32Array(b.length),
    dir: new Uint8Array(b.dir),
    ctrl: new Int32Array(b.ctrl),
    wakeAt: new Float64Array(b.wakeAt),
    wstats: new Float64Array(b.wstats),
  };
}

export interface SenderInit {
  shared: SharedBuffers;
  /** process.hrtime.bigint() origin as a decimal string */
  originNs: string;
  /** sockets: index 0 sends the forward direction (to b.peer), index 1 the reverse (to a.peer) */
  sockets: Array<{ bindAddress: string; peer: string; port: number }>;
  sendBufferBytes: number;
  nice: number | null;
}

export const nowFrom = (origin: bigint) => (): number => Number(process.hrtime.bigint() - origin);
