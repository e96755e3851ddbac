/** The API's own error types, apart from the pipeline so that importing the API stays cheap. */
import { EnvError, EXIT, NetabError } from '../errors.js';

/** The machine cannot run trials (not root, tools missing): each problem one sentence. */
export class HostNotReady extends EnvError {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

/** A run that started and failed: partial results are in `runDir`; `failure` is what went wrong. */
export class RunFailed extends NetabError {
  constructor(
    readonly runDir: string,
    readonly failure: unknown,
  ) {
    super(failure instanceof Error ? failure.message : String(failure), failure instanceof NetabError ? failure.exitCode : EXIT.env);
  }
}
