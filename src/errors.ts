/**
 * netab's errors and exit codes, in one place. Every module throws one of these (or lets a foreign
 * error through, which the CLI reports as an internal error in one line, the stack behind --debug).
 */

export const EXIT = { promote: 0, rollback: 1, usage: 2, env: 3, hold: 4, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** One located problem in the user's input: file, line, column and field path. */
export interface InputProblem {
  file: string;
  line?: number;
  col?: number;
  /** dotted field path, e.g. links.bottleneck.delay */
  path: string;
  message: string;
}

export function formatProblem(p: InputProblem): string {
  const where = p.line !== undefined ? `${p.file}:${p.line}:${p.col ?? 1}` : p.file;
  const field = p.path ? `${p.path}: ` : '';
  return where ? `${where}: ${field}${p.message}` : `${field}${p.message}`;
}

/** Base class: a message meant for the user (one or two lines) and the exit code it ends with. */
export class NetabError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The user's input is wrong (scenario, suite, flags, run directory): exit 2. */
export class InputError extends NetabError {
  readonly problems: InputProblem[];
  constructor(problems: InputProblem[] | string) {
    const list = typeof problems === 'string' ? [{ file: '', path: '', message: problems }] : problems;
    super(list.map(formatProblem).join('\n'), EXIT.usage);
    this.problems = list;
  }
}

/** The machine cannot do it (not root, a tool missing, set-up failed): exit 3. */
export class EnvError extends NetabError {
  constructor(message: string) {
    super(message, EXIT.env);
  }
}

/** Ctrl+C / SIGTERM: exit 130. */
export class InterruptedError extends NetabError {
  constructor(message = 'interrupted') {
    super(message, EXIT.interrupted);
  }
}
