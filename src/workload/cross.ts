/**
 * Cross traffic: independent on/off sources through the bottleneck, in the data direction (server
 * in a sender-side namespace, client in a receiver-side one, like every transfer-tool flow). Each on
 * period is a fresh TCP connection that receives as fast as the path lets it until the period ends;
 * on periods are Pareto-distributed (heavy-tailed, shape α, given mean), off periods exponential.
 * The schedule is drawn up front from a seed (pure, unit-tested), so both arms of a pair can get the
 * identical background.
 */
import { spawn } from '../exec/index.js';
import type { CrossTraffic } from '../scenario/workloads.js';
import { mulberry32 } from '../stats/random.js';
import type { OnPeriod } from './transfer-protocol.js';
import { startTransferServer, transferScript } from './transfer-server.js';
import type { TransferEndpoints } from './transfer.js';

export const CROSS_PORT = 5402;

/** Inverse CDF of Pareto(xm, α) with mean m: xm = m(α-1)/α, x = xm / (1-u)^(1/α), u in [0, 1). */
export function paretoSample(u: number, mean: number, shape: number): number {
  const xm = (mean * (shape - 1)) / shape;
  return xm / (1 - u) ** (1 / shape);
}

/**
 * On periods of every source within [0, durationMs) (pure; unit-tested). Each source starts in an
 * off period; draws alternate off (exponential), on (Pareto, cut at the end of the schedule). One
 * mulberry32 stream per source: seed + source index.
 */
export function onOffSchedule(
  c: Pick<CrossTraffic, 'sources' | 'meanOnMs' | 'shape' | 'meanOffMs'>,
  durationMs: number,
  seed: number,
): OnPeriod[][] {
  if (!(c.shape > 1)) throw new Error(`cross traffic: Pareto shape must be > 1, got ${c.shape}`);
  const out: OnPeriod[][] = [];
  for (let s = 0; s < c.sources; s++) {
    const rng = mulberry32((seed + s) >>> 0);
    const periods: OnPeriod[] = [];
    let t = 0;
    for (;;) {
      t += -c.meanOffMs * Math.log(1 - rng());
      if (t >= durationMs) break;
      const on = paretoSample(rng(), c.meanOnMs, c.shape);
      const dur = Math.min(on, durationMs - t);
      periods.push({ atMs: Math.round(t * 1000) / 1000, durMs: Math.round(dur * 1000) / 1000 });
      t += on;
      if (t >= durationMs) break;
    }
    out.push(periods);
  }
  return out;
}

export interface CrossHandle {
  /** stop the background (whatever is left of the schedule) and report what ran */
  stop(): Promise<{ periods: number; bytes: number; sources: number } | null>;
}

/**
 * Start cross traffic between `ep` (server = sending side) for up to `durationMs`; stop() ends it
 * early. Uses its own port, so it can run beside a trial's transfer server in the same namespace.
 */
export async function startCrossTraffic(
  ep: TransferEndpoints,
  c: CrossTraffic,
  durationMs: number,
  seed: number,
  signal?: AbortSignal,
  port = CROSS_PORT,
): Promise<CrossHandle> {
  const schedule = onOffSchedule(c, durationMs, seed);
  const server = await startTransferServer(ep.serverNs, ep.serverAddr, port, signal);
  let result: { periods: number; bytes: number; sources: number } | null = null;
  const client = spawn(
    [
      process.execPath,
      transferScript(),
      'client',
      JSON.stringify({ mode: 'onoff', addr: ep.serverAddr, port, requestBytes: Math.max(16, c.requestBytes), schedule }),
    ],
    {
      netns: ep.clientNs,
      signal,
      onLine: (line) => {
        try {
          const m = JSON.parse(line) as { cross?: typeof result };
          if (m.cross) result = m.cross;
        } catch {
          /* not ours */
        }
      },
    },
  );
  return {
    async stop() {
      client.closeStdin();
      const t = setTimeout(() => void client.stop(500), 3000);
      await client.wait();
      clearTimeout(t);
      await server.stop();
      return result;
    },
  };
}
