/**
 * How the CLI reports an error: one or two lines (what is wrong, where, what to do) and an exit code:
 * 2 for the user's input, 3 for the environment. An error netab did not expect says so in one line;
 * `--debug` prints its stack.
 */
import { isProblemSummary } from '../api.js';
import { CommanderError } from 'commander';
import { EXIT, formatProblem, InputError, NetabError } from '../errors.js';

function err(s: string): void {
  process.stderr.write(s + '\n');
}

/** Exit code of an error thrown by a module that predates src/errors.ts (an `exitCode` field, or its class). */
function legacyExitCode(e: Error): number | null {
  const c = (e as { exitCode?: unknown }).exitCode;
  if (c === EXIT.usage || c === EXIT.env || c === EXIT.interrupted) return c;
  switch (e.name) {
    case 'ReportInputError':
      return EXIT.usage;
    case 'DockerError':
    case 'EngineUnavailable':
      return EXIT.env;
  }
  return null;
}

/** A file-system error on a path the user named: exit 2 when it is missing or of the wrong kind, else 3. */
function fsError(e: NodeJS.ErrnoException): { code: number; message: string } | null {
  if (typeof e.code !== 'string' || !/^E[A-Z]+$/.test(e.code) || typeof e.syscall !== 'string') return null;
  const where = e.path ? `${e.path}: ` : '';
  const what: Record<string, [number, string]> = {
    ENOENT: [EXIT.usage, 'no such file or directory'],
    ENOTDIR: [EXIT.usage, 'not a directory (a path component is a file)'],
    EISDIR: [EXIT.usage, 'is a directory, expected a file'],
    ELOOP: [EXIT.usage, 'too many symbolic links'],
    ENAMETOOLONG: [EXIT.usage, 'file name too long'],
    EACCES: [EXIT.env, 'permission denied'],
    EPERM: [EXIT.env, 'operation not permitted'],
    ENOSPC: [EXIT.env, 'no space left on the device'],
    EROFS: [EXIT.env, 'read-only file system'],
    EMFILE: [EXIT.env, 'too many open files'],
  };
  const m = what[e.code];
  if (!m) return null;
  return { code: m[0], message: `${where}${m[1]} (${e.syscall})` };
}

/** One or two lines: the first two of the message; the rest is behind --debug. */
function twoLines(message: string, debug: boolean): string[] {
  const lines = message.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return ['(no message)'];
  if (debug || lines.length <= 2) return lines;
  return [lines[0]!, `${lines[1]} [${lines.length - 2} more line${lines.length === 3 ? '' : 's'} with --debug]`];
}

/** The exit code an error ends the process with: 2 the user's input, 3 the environment (and the unexpected). */
export function errorExitCode(e: unknown): number {
  if (e instanceof CommanderError) return EXIT.usage;
  if (e instanceof NetabError) return e.exitCode;
  if (e instanceof Error) return legacyExitCode(e) ?? fsError(e as NodeJS.ErrnoException)?.code ?? EXIT.env;
  return EXIT.env;
}

/** --debug on the command line (or NETAB_DEBUG=1): stacks and full messages. */
export function debugWanted(argv: string[] = process.argv): boolean {
  return argv.slice(2).includes('--debug') || process.env.NETAB_DEBUG === '1';
}

/** A failed run's message in at most two lines: the first two of the message (all of it with --debug). */
export function briefMessage(e: unknown, debug = debugWanted()): string[] {
  const msg = e instanceof Error ? e.message : String(e);
  const lines = twoLines(msg, debug);
  if (debug && e instanceof Error && e.stack) lines.push(e.stack);
  return lines;
}

/** Print an error the way the CLI does and return its exit code. */
export function reportError(e: unknown, debug: boolean, write: (s: string) => void = err): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    return EXIT.usage; // commander printed its one-line message already
  }
  if (e instanceof InputError) {
    if (e.problems.length === 1 && !e.problems[0]!.file) write(`netab: ${formatProblem(e.problems[0]!)}`);
    else {
      for (const p of e.problems) write(formatProblem(p));
      const capped = e.problems.some(isProblemSummary);
      const n = e.problems.length;
      write(capped ? 'netab: nothing was run' : `netab: ${n} problem${n === 1 ? '' : 's'} in the input; nothing was run`);
    }
    if (debug) write(e.stack ?? '');
    return EXIT.usage;
  }
  if (e instanceof NetabError) {
    for (const l of twoLines(e.message, debug)) write(`netab: ${l}`);
    if (debug) write(e.stack ?? '');
    return e.exitCode;
  }
  if (e instanceof Error) {
    const legacy = legacyExitCode(e);
    if (legacy !== null) {
      for (const l of twoLines(e.message, debug)) write(`netab: ${l}`);
      if (debug) write(e.stack ?? '');
      return legacy;
    }
    const fe = fsError(e as NodeJS.ErrnoException);
    if (fe) {
      write(`netab: ${fe.message}`);
      if (debug) write(e.stack ?? '');
      return fe.code;
    }
  }
  const msg = e instanceof Error ? e.message : String(e);
  const first = msg.split('\n').find((l) => l.trim() !== '') ?? String(e);
  if (debug) {
    write(`netab: internal error: ${msg}`);
    write(e instanceof Error ? (e.stack ?? '') : '');
  } else write(`netab: internal error: ${first} (run with --debug for the stack)`);
  return EXIT.env;
}
