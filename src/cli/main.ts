/**
 * netab's command line: a thin layer over the run pipeline, the judge and the report.
 * Exit codes: 0 promote, 1 rollback, 2 invalid input or usage, 3 environment or infrastructure
 * error, 4 hold, 130 interrupted.
 */
import { Command, CommanderError, Option } from 'commander';
import { formatProblem, InputError } from '../scenario/errors.js';
import { loadScenarioFile } from '../scenario/load.js';
import { jsonSchema } from '../scenario/schema.js';
import { formatRate } from '../scenario/units.js';
import type { Scenario } from '../scenario/model.js';
import { NETAB_VERSION } from '../version.js';

export const EXIT = { promote: 0, rollback: 1, usage: 2, env: 3, hold: 4, interrupted: 130 } as const;

class Exit extends Error {
  constructor(
    public readonly code: number,
    message = '',
  ) {
    super(message);
  }
}

function out(s: string): void {
  process.stdout.write(s + '\n');
}
function err(s: string): void {
  process.stderr.write(s + '\n');
}

function describeLink(s: Scenario): string {
  return Object.entries(s.links)
    .map(([name, l]) => {
      const d = (x: typeof l.forward) =>
        [
          x.delayMs !== undefined ? `delay ${x.delayMs}ms` : '',
          x.jitterMs ? `jitter ${x.jitterMs}ms` : '',
          x.loss ? `loss ${+(x.loss * 100).toFixed(4)}%` : '',
          x.gemodel ? `ge-loss p=${x.gemodel.p} r=${x.gemodel.r}` : '',
          x.reorder ? `reorder ${+(x.reorder * 100).toFixed(4)}%` : '',
          x.duplicate ? `dup ${+(x.duplicate * 100).toFixed(4)}%` : '',
          x.corrupt ? `corrupt ${+(x.corrupt * 100).toFixed(4)}%` : '',
          x.rateBps ? `rate ${formatRate(x.rateBps)}` : '',
          x.bufferBytes ? `buffer ${x.bufferBytes}B` : '',
        ]
          .filter(Boolean)
          .join(' ') || 'none';
      return `${name}: fwd ${d(l.forward)} | rev ${d(l.reverse)}`;
    })
    .join('; ');
}

function loadAll(files: string[], opts: Parameters<typeof loadScenarioFile>[1]): Scenario[] {
  const problems: InputError['problems'] = [];
  const all: Scenario[] = [];
  for (const f of files) {
    try {
      all.push(...loadScenarioFile(f, opts));
    } catch (e) {
      if (e instanceof InputError) problems.push(...e.problems);
      else throw e;
    }
  }
  if (problems.length) throw new InputError(problems);
  return all;
}

function intArg(name: string) {
  return (v: string) => {
    if (!/^\d+$/.test(v)) throw new Exit(EXIT.usage, `${name} must be a whole number (got "${v}")`);
    return Number(v);
  };
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('netab')
    .description('Is this TCP tuning safe to roll out? Canary vs control over emulated paths, judged statistically.')
    .version(NETAB_VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .addHelpText(
      'after',
      `
Exit codes: 0 promote, 1 rollback, 2 invalid input or usage, 3 environment or infrastructure error,
            4 hold (inconclusive), 130 interrupted.`,
    );

  program
    .command('run')
    .description('run a scenario file: build the testbed, run the trials, judge, write the report')
    .argument('<file>', 'scenario file (YAML)')
    .option('--out <dir>', 'run directory (default: reports/<scenario>-<timestamp>)')
    .addOption(new Option('--engine <engine>', 'impairment engine').choices(['auto', 'netem', 'userspace']))
    .option('--trials <n>', 'measured pairs per scenario (overrides trials.pairs)', intArg('--trials'))
    .option('--seed <n>', 'seed for pair order and impairment randomness (default: random, recorded)', intArg('--seed'))
    .option('--aa', 'A/A calibration: run control against itself (the false-alarm check)')
    .option('--json', 'print verdict.json to stdout')
    .option('-q, --quiet', 'no progress output')
    .action(async (file: string, o: { out?: string; engine?: 'auto' | 'netem' | 'userspace'; trials?: number; seed?: number; aa?: boolean; json?: boolean; quiet?: boolean }) => {
      const scenarios = loadAll([file], { pairs: o.trials, engine: o.engine });
      const { runCommand } = await import('./run.js');
      const code = await runCommand(scenarios, {
        file,
        out: o.out,
        seed: o.seed ?? scenarios[0]?.seed,
        aa: Boolean(o.aa),
        json: Boolean(o.json),
        quiet: Boolean(o.quiet),
        argv: process.argv.slice(2),
      });
      throw new Exit(code);
    });

  program
    .command('validate')
    .description('check scenario files and print the expanded scenario list')
    .argument('<files...>', 'scenario files')
    .option('--json', 'print the expanded scenarios as JSON')
    .action((files: string[], o: { json?: boolean }) => {
      const scenarios = loadAll(files, {});
      if (o.json) out(JSON.stringify(scenarios, null, 2));
      else {
        for (const s of scenarios) {
          out(`${s.id}  (${s.topology.name}, ${s.workload.type}, ${s.trials.pairs} pairs + ${s.trials.warmup} warm-up, hash ${s.hash})`);
          out(`  control: ${s.control.name}  canary: ${s.canary.name}`);
          out(`  ${describeLink(s)}`);
        }
        out(`${scenarios.length} scenario${scenarios.length === 1 ? '' : 's'} OK`);
      }
    });

  program
    .command('judge')
    .description('re-judge a stored run directory offline (writes verdict.json)')
    .argument('<dir>', 'run directory')
    .option('--alpha <a>', 'significance level', parseFloat)
    .option('--margin <m>', 'override every metric margin: "2%" (relative) or a number (absolute)')
    .option('--json', 'print verdict.json to stdout')
    .action(async (dir: string, o: { alpha?: number; margin?: string; json?: boolean }) => {
      const { judgeCommand } = await import('./run.js');
      throw new Exit(await judgeCommand(dir, o));
    });

  program
    .command('report')
    .description('re-render report.html, junit.xml and summary.md of a stored run directory')
    .argument('<dir>', 'run directory')
    .action(async (dir: string) => {
      const { reportCommand } = await import('./run.js');
      await reportCommand(dir);
    });

  program
    .command('doctor')
    .description('check this machine: root, iproute2, iperf3, ethtool, netem, congestion controls, docker, leftovers')
    .action(async () => {
      const { doctor } = await import('./doctor.js');
      const checks = await doctor();
      for (const c of checks) out(`${c.ok ? 'ok  ' : c.required ? 'FAIL' : 'warn'}  ${c.name.padEnd(19)} ${c.detail}`);
      if (checks.some((c) => c.required && !c.ok)) throw new Exit(EXIT.env);
    });

  program
    .command('gc')
    .description('remove leftovers (namespaces, processes, sysctl changes) of crashed or killed runs')
    .option('--force', 'also remove resources of runs whose process still seems alive')
    .action(async (o: { force?: boolean }) => {
      const { gc } = await import('../topology/netns/gc.js');
      const removed = await gc({ force: o.force, log: out });
      if (removed.length === 0) out('nothing to remove');
    });

  program
    .command('schema')
    .description('print the scenario JSON Schema (for editor autocompletion)')
    .action(() => out(JSON.stringify(jsonSchema(), null, 2)));

  return program;
}

export async function main(argv = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof Exit) {
      if (e.message) err(`netab: ${e.message}`);
      return e.code;
    }
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return EXIT.usage;
    }
    if (e instanceof InputError) {
      for (const p of e.problems) err(formatProblem(p));
      err(`netab: ${e.problems.length} problem${e.problems.length === 1 ? '' : 's'} in the input; nothing was run`);
      return EXIT.usage;
    }
    err(`netab: ${(e as Error).stack ?? String(e)}`);
    return EXIT.env;
  }
}
