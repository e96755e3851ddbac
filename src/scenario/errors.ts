/** Input errors: each names file, line, column and field path. The CLI prints them and exits 2. */

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
  return `${where}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

export class InputError extends Error {
  readonly exitCode = 2;
  constructor(public readonly problems: InputProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'InputError';
  }
}
