/**
 * Pure TCP physics for the report's theory block and for anything that wants an expected value for a
 * cell (the sweep tables): no I/O, no manifest. Rates in Mbit/s (10^6 bit/s), times in ms, sizes in
 * bytes (KB = 1000 B, as in scenario files and the seed documents).
 *
 * Hard caps (a measurement above them, beyond a margin, is a fidelity alarm):
 *   - the bottleneck rate;
 *   - the receive-window cap: a flow cannot have more than the receiver's window in flight, so its
 *     goodput is at most window / RTT. The absolute cap is the receive buffer itself
 *     (tcp_rmem max / RTT: the seed's "a 100ms link with a 32KB receive buffer caps the throughput
 *     at 2.56Mbps"); the kernel offers only a share of the buffer as window (effectiveWindowBytes).
 * References (response functions of a congestion control in a loss model; never called a ceiling):
 *   - Reno: Mathis et al. (1997), MSS/RTT · √(3/(2p));
 *   - CUBIC: RFC 9438 §5.1, average window (C·(3+β)/(4·(1−β)))^(1/4) · RTT^(3/4) / p^(3/4) segments
 *     (RTT in seconds), with C = 0.4, β = 0.7, i.e. 1.054 · RTT^(3/4)/p^(3/4); CUBIC never does
 *     worse than its Reno-friendly region, so the reference is the larger of that and Reno's window;
 *   - BBR: none (its model is the bottleneck rate).
 */

/** Default MSS of an IPv4 path with timestamps over a 1500-byte MTU. */
export const DEFAULT_MSS = 1448;
/** Linux TCP_INIT_CWND: the initial congestion window without a route `initcwnd`. */
export const LINUX_INIT_CWND = 10;
/** A measured goodput this far above a hard cap is a fidelity alarm (timing of the counters, tbf burst). */
export const HARD_CAP_MARGIN = 0.05;

const mbitPerS = (bytes: number, ms: number) => (bytes * 8) / (ms / 1000) / 1e6;

/** Bandwidth-delay product, bytes. */
export function bdpBytes(rateMbit: number, rttMs: number): number | null {
  if (!(rateMbit > 0) || !(rttMs > 0)) return null;
  return ((rateMbit * 1e6) / 8) * (rttMs / 1000);
}

/** The buffer-sizing rule C·RTT/√n (n concurrent flows; n = 1 is the BDP rule of thumb), bytes. */
export function bufferRuleBytes(rateMbit: number, rttMs: number, flows: number): number | null {
  const bdp = bdpBytes(rateMbit, rttMs);
  if (bdp === null || !(flows >= 1)) return null;
  return bdp / Math.sqrt(flows);
}

/** A window of W bytes per RTT: W·8/RTT, Mbit/s. */
export function windowCapMbit(windowBytes: number, rttMs: number): number | null {
  if (!(windowBytes > 0) || !(rttMs > 0)) return null;
  return mbitPerS(windowBytes, rttMs);
}

/** Mathis et al. (1997): Reno's goodput at random loss p, MSS/RTT·√(3/(2p)), Mbit/s. */
export function mathisMbit(mssBytes: number, rttMs: number, loss: number): number | null {
  if (!(mssBytes > 0) || !(rttMs > 0) || !(loss > 0)) return null;
  return mbitPerS(mssBytes * Math.sqrt(3 / (2 * loss)), rttMs);
}

/** RFC 9438 constants. */
const CUBIC_C = 0.4;
const CUBIC_BETA = 0.7;

/**
 * CUBIC's response function (RFC 9438 §5.1, the deterministic loss model): average window
 * (C·(3+β)/(4·(1−β)))^(1/4) · (RTT/s)^(3/4) / p^(3/4) segments, C = 0.4, β = 0.7 (coefficient
 * 1.0538), or Reno's √(3/(2p)) when larger (the Reno-friendly region), times MSS/RTT. Mbit/s.
 */
export function cubicMbit(mssBytes: number, rttMs: number, loss: number): number | null {
  if (!(mssBytes > 0) || !(rttMs > 0) || !(loss > 0)) return null;
  const k = ((CUBIC_C * (3 + CUBIC_BETA)) / (4 * (1 - CUBIC_BETA))) ** 0.25;
  const wCubic = (k * (rttMs / 1000) ** 0.75) / loss ** 0.75;
  const wReno = Math.sqrt(3 / (2 * loss));
  return mbitPerS(Math.max(wCubic, wReno) * mssBytes, rttMs);
}

/** The response function of a congestion control by name, with its label; null for BBR and unknown ones. */
export function responseFunction(
  cc: string | null | undefined,
  mssBytes: number,
  rttMs: number,
  loss: number | null,
): { label: string; short: string; mbit: number; formula: string } | null {
  if (loss === null || !(loss > 0)) return null;
  if (cc === 'reno') {
    const v = mathisMbit(mssBytes, rttMs, loss);
    return v === null ? null : { label: 'Reno response (Mathis)', short: 'Reno ref.', mbit: v, formula: 'MSS/RTT·√(3/(2p))' };
  }
  if (cc === 'cubic') {
    const v = cubicMbit(mssBytes, rttMs, loss);
    return v === null
      ? null
      : {
          label: 'CUBIC response (RFC 9438)',
          short: 'CUBIC ref.',
          mbit: v,
          formula: 'MSS/RTT·max(1.054·RTT^¾/p^¾, √(3/(2p))), C=0.4, β=0.7',
        };
  }
  return null;
}

/**
 * How much of a receive buffer the kernel offers as window. Two rules, by kernel:
 *  - before Linux 6.6: tcp_win_from_space() with net.ipv4.tcp_adv_win_scale (default 1 = half the
 *    buffer): scale > 0 → space − space/2^scale; scale ≤ 0 → space/2^−scale;
 *  - Linux 6.6 and later (commit dfa2f0483360, "tcp: get rid of sysctl_tcp_adv_win_scale"): window =
 *    space · scaling_ratio/256, where scaling_ratio is skb->len/skb->truesize of the segments received
 *    (measured per socket in tcp_measure_rcv_mss). It starts at 50 % (TCP_DEFAULT_SCALING_RATIO since
 *    6.13 and the stable kernels it was backported to); for full-size 1448-byte segments in 2 KiB
 *    receive buffers (truesize 2304 B: veth, and most drivers) it settles at ⌊1448·256/2304⌋ = 160, 62.5 %.
 * Returns the share used (0..1) and a sentence naming the rule.
 */
export function receiveWindowShare(
  kernel: string | null | undefined,
  advWinScale: number | null | undefined,
  mssBytes: number = DEFAULT_MSS,
): { share: number; lowShare: number; rule: string } {
  const v = kernelVersion(kernel);
  if (v !== null && (v[0] > 6 || (v[0] === 6 && v[1] >= 6))) {
    // a segment of up to 1728 B fits a 2 KiB kmalloc'd skb: truesize 1728 + 256 (sk_buff) + 320 (shinfo)
    const ratio = Math.min(255, Math.floor((mssBytes * 256) / 2304));
    return {
      share: ratio / 256,
      lowShare: 0.5,
      rule: `Linux ≥ 6.6: buffer × skb len/truesize = ${ratio}/256 for ${mssBytes} B segments in 2304 B skbs (50 % until the first full segment)`,
    };
  }
  const s = Number.isInteger(advWinScale) ? advWinScale! : 1;
  const share = s > 0 ? 1 - 2 ** -s : 2 ** s;
  const rule = `${v ? `Linux ${v[0]}.${v[1]}` : 'kernel unknown'}: tcp_adv_win_scale ${s}${Number.isInteger(advWinScale) ? '' : ' (default)'} → ${+(share * 100).toFixed(1)} % of the buffer`;
  return { share, lowShare: share, rule };
}

/** "6.18.44-fc-v1045" → [6, 18]; null when unreadable. */
export function kernelVersion(release: string | null | undefined): [number, number] | null {
  const m = /^(\d+)\.(\d+)/.exec(release ?? '');
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/**
 * Slow-start flights to deliver `bytes` (request → last byte, the fct the transfer tool measures):
 * the sender sends min(initcwnd, initial receive window) segments in the first round trip and
 * doubles each round trip after (no loss, every segment ACKed: Linux counts ACKed segments, so
 * delayed ACKs do not slow the doubling); the response needs ⌈bytes/MSS⌉ segments.
 */
export function slowStartFlights(bytes: number, initcwndSegments: number, mss: number = DEFAULT_MSS, rwndSegments?: number): number {
  if (!(bytes > 0)) return 0;
  if (!(initcwndSegments >= 1) || !(mss > 0)) return NaN;
  const segments = Math.ceil(bytes / mss);
  let w = rwndSegments && rwndSegments >= 1 ? Math.min(initcwndSegments, rwndSegments) : initcwndSegments;
  let sent = 0;
  let flights = 0;
  while (sent < segments) {
    sent += w;
    w *= 2;
    flights++;
  }
  return flights;
}

/**
 * Round trips of a short transfer on a fresh connection: one for the handshake (SYN, SYN-ACK) plus
 * the slow-start flights of the response (slowStartFlights). 45 KB at MSS 1448 = 32 segments:
 * IW10 → 1 + 3 (10 + 20 + 2), IW30 → 1 + 2 (30 + 2).
 */
export function expectedRoundTrips(bytes: number, initcwndSegments: number, mss: number = DEFAULT_MSS, rwndSegments?: number): number {
  return 1 + slowStartFlights(bytes, initcwndSegments, mss, rwndSegments);
}

/**
 * Expected fct (request written → last byte received), ms: one round trip per slow-start flight plus
 * the time to serialise the response at the bottleneck rate (when known); no queueing, no loss.
 */
export function expectedFctMs(
  bytes: number,
  o: { initcwnd: number; rttMs: number; mss?: number; rateMbit?: number | null; rwndSegments?: number },
): number {
  const flights = slowStartFlights(bytes, o.initcwnd, o.mss ?? DEFAULT_MSS, o.rwndSegments);
  const serial = o.rateMbit && o.rateMbit > 0 ? ((bytes * 8) / (o.rateMbit * 1e6)) * 1000 : 0;
  return flights * o.rttMs + serial;
}

/** The p-quantile of a weighted discrete distribution (values with weights; weights > 0). */
export function weightedQuantile(items: { value: number; weight: number }[], p: number): number | null {
  const xs = items.filter((x) => Number.isFinite(x.value) && x.weight > 0).sort((a, b) => a.value - b.value);
  const total = xs.reduce((a, x) => a + x.weight, 0);
  if (!xs.length || !(total > 0)) return null;
  let acc = 0;
  for (const x of xs) {
    acc += x.weight;
    if (acc >= p * total - 1e-9) return x.value;
  }
  return xs[xs.length - 1]!.value;
}

/** Expected change of canary against control in percent ((canary/control − 1)·100); null without both. */
export function expectedChangePct(control: number | null | undefined, canary: number | null | undefined): number | null {
  if (typeof control !== 'number' || typeof canary !== 'number' || !(control > 0) || !Number.isFinite(canary)) return null;
  return (canary / control - 1) * 100;
}
