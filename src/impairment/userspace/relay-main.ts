/**
 * Entry point of the userspace impairment relay:
 *
 *   ip netns exec <L> node dist/impairment/userspace/relay-main.js '<RelayConfig JSON>'
 *
 * (or without the argument: the first stdin line is the config). Protocol in ./protocol.ts.
 * The process never outlives its parent: it exits when stdin closes, on SIGTERM/SIGINT/SIGHUP,
 * and on {"cmd":"stop"}.
 */
import { createInterface } from 'node:readline';
import { parseRelayConfig, readyLine, validateImpairment, type RelayCommand } from './protocol.js';
import { Relay } from './relay.js';

let relay: Relay | null = null;
let exiting = false;

function out(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function exit(code: number): void {
  if (exiting) return;
  exiting = true;
  const r = relay;
  relay = null;
  const done = () => process.exit(code);
  if (!r) {
    done();
    return;
  }
  // give the sender thread a moment to stop cleanly, but never hang
  setTimeout(done, 500).unref();
  r.stop().then(done, done);
}

function fatal(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`relay: ${err instanceof Error ? (err.stack ?? message) : message}\n`);
  out({ event: 'error', message });
  exit(1);
}

process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => exit(0));
process.stdout.on('error', () => exit(0)); // parent gone (EPIPE)

function handle(line: string): void {
  const text = line.trim();
  if (!text) return;
  let cmd: RelayCommand;
  try {
    cmd = JSON.parse(text) as RelayCommand;
  } catch {
    out({ id: null, error: 'command is not JSON' });
    return;
  }
  const id = cmd && typeof cmd === 'object' && 'id' in cmd ? (cmd.id ?? null) : null;
  try {
    switch (cmd?.cmd) {
      case 'stats':
        out({ id, stats: relay!.stats(cmd.reset === true) });
        return;
      case 'set': {
        const f = cmd.forward === undefined ? undefined : validateImpairment(cmd.forward, 'forward');
        const r = cmd.reverse === undefined ? undefined : validateImpairment(cmd.reverse, 'reverse');
        if (cmd.seed !== undefined && !Number.isInteger(cmd.seed)) throw new Error('seed must be an integer');
        relay!.set(f, r, cmd.seed);
        out({ id, ok: true });
        return;
      }
      case 'schedule':
        if (cmd.action !== 'start' && cmd.action !== 'stop') throw new Error('schedule action must be "start" or "stop"');
        if (cmd.trigger !== undefined && cmd.trigger !== 'now' && cmd.trigger !== 'data')
          throw new Error('schedule trigger must be "now" or "data"');
        relay!.schedule(cmd.action, cmd.trigger ?? 'now');
        out({ id, ok: true });
        return;
      case 'stop':
        exit(0);
        return;
      default:
        out({ id, error: `unknown command ${JSON.stringify((cmd as { cmd?: unknown })?.cmd)}` });
    }
  } catch (e) {
    out({ id, error: (e as Error).message });
  }
}

async function main(): Promise<void> {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  // stdin closing means the parent is gone (or asked us to go)
  rl.on('close', () => exit(0));
  let configText = process.argv[2];
  const pending: string[] = [];
  let started = false;
  const firstLine = new Promise<string>((resolve) => {
    rl.on('line', (line) => {
      if (configText === undefined) {
        // stopped before it was configured (the set-up failed or was interrupted): go quietly
        if (line.trim() === '{"cmd":"stop"}') exit(0);
        configText = line;
        resolve(line);
        return;
      }
      if (started) handle(line);
      else pending.push(line);
    });
  });
  const cfg = parseRelayConfig(configText ?? (await firstLine));
  relay = new Relay(cfg);
  await relay.start(fatal);
  if (exiting) return;
  started = true;
  process.stdout.write(readyLine(relay.threadIds()) + '\n');
  for (const l of pending.splice(0)) handle(l);
}

main().catch(fatal);
