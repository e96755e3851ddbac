/** Progress on a TTY (one live status line) or plain lines otherwise (CI logs). */
import type { Progress } from '../api.js';
import type { Scenario } from '../scenario/model.js';
import type { TrialRecord } from '../results/types.js';

function fmt(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function makeProgress(stream: NodeJS.WriteStream = process.stderr, quiet = false): Progress {
  const tty = Boolean(stream.isTTY) && !process.env.CI;
  const t0 = Date.now();
  let label = '';
  let trialStart = Date.now();
  let scenarioStart = Date.now();
  let live = false;
  const clear = () => {
    if (tty && live) {
      stream.write('\r\x1b[2K');
      live = false;
    }
  };
  const line = (s: string) => {
    if (quiet) return;
    clear();
    stream.write(s + '\n');
  };
  const status = (s: string) => {
    if (quiet) return;
    if (tty) {
      stream.write('\r\x1b[2K' + s.slice(0, (stream.columns ?? 120) - 1));
      live = true;
    } else stream.write(s + '\n');
  };
  return {
    scenario(i: number, n: number, s: Scenario) {
      label = `[${i + 1}/${n} ${s.id}]`;
      scenarioStart = Date.now();
      line(`${label} ${s.description ?? s.name}`);
    },
    step(msg: string) {
      trialStart = Date.now();
      status(`${label} ${msg}`);
    },
    trial(done: number, total: number, rec: TrialRecord) {
      const elapsed = Date.now() - scenarioStart;
      const eta = done > 0 ? (elapsed / done) * (total - done) : 0;
      const m = rec.metrics;
      const v =
        rec.status === 'ok'
          ? Object.entries(m)
              .filter(([, x]) => x !== null && x !== undefined)
              .slice(0, 3)
              .map(([k, x]) => `${k}=${+(x as number).toPrecision(4)}`)
              .join(' ')
          : `FAILED: ${rec.reason}`;
      const msg = `${label} trial ${done}/${total} pair ${rec.pair}${rec.warmup ? ' (warm-up)' : ''} ${rec.arm}: ${v}${rec.suspect ? ` [suspect: ${rec.suspect}]` : ''}  elapsed ${fmt(Date.now() - t0)} ETA ${fmt(eta)}`;
      if (tty) status(msg);
      else line(msg);
      trialStart = Date.now();
      void trialStart;
    },
    warn(msg: string) {
      line(`${label} ${msg}`);
    },
  };
}
