/**
 * `netab run ... --vm`: the same command, re-run inside a stock Debian kernel under qemu (netns
 * backend, real netem), with the run directory shared read-write, output streamed, Ctrl+C and
 * timeouts forwarded, and the guest's exit code returned.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { EXIT } from '../errors.js';
import { projectRoot } from '../paths.js';
import { runDirFor } from '../trial/runner.js';
import { vmSetup, vmRun, VmError } from '../vm/index.js';

/** argv for the guest: --vm dropped, --out forced to the shared run directory (pure; unit-tested). */
export function guestArgs(argv: string[], outDir: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--vm') continue;
    if (a === '--out') {
      i++;
      continue;
    }
    if (a.startsWith('--out=')) continue;
    out.push(a);
  }
  return [...out, '--out', outDir];
}

export async function vmRunCommand(paths: string[], o: { out?: string; resume?: string }, argv: string[]): Promise<number> {
  const say = (s: string) => process.stderr.write(`netab vm: ${s}\n`);
  // --resume DIR: the interrupted run's directory is the shared one; the guest resumes it in place
  const outDir = o.resume
    ? resolve(o.resume)
    : resolve(o.out ?? runDirFor('reports', paths.length === 1 ? basename(paths[0]!, extname(paths[0]!)) : 'suite'));
  if (o.resume && !existsSync(outDir)) {
    process.stderr.write(`netab: --resume ${o.resume}: no such run directory\n`);
    return EXIT.usage;
  }
  mkdirSync(outDir, { recursive: true });
  const ac = new AbortController();
  const onSig = () => ac.abort(new Error('interrupted'));
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  try {
    const image = await vmSetup({ log: say });
    say(`booting kernel ${image.kernelVersion} (${image.accelerator}); run directory ${outDir}`);
    const args = o.resume ? argv.filter((a) => a !== '--vm') : guestArgs(argv, outDir);
    const r = await vmRun(image, [process.execPath, join(projectRoot(), 'bin', 'netab.js'), ...args], {
      workDir: outDir,
      cwd: process.cwd(),
      env: { NETAB_VM_ACCELERATOR: image.accelerator, CI: process.env.CI ?? '' },
      onOutput: (s) => process.stderr.write(s),
      signal: ac.signal,
      timeoutMs: Number(process.env.NETAB_VM_TIMEOUT_MS ?? 6 * 3600_000),
    });
    say(`guest exited ${r.exitCode} (boot ${(r.bootMs / 1000).toFixed(1)} s, total ${(r.totalMs / 1000).toFixed(1)} s)`);
    return r.exitCode;
  } catch (e) {
    if (ac.signal.aborted) {
      say('interrupted: the VM was powered off');
      return EXIT.interrupted;
    }
    if (e instanceof VmError) {
      say(`${e.message}`);
      return EXIT.env;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
  }
}
