/**
 * netab's command line: a thin layer over the run pipeline, the judge and the report.
 * Exit codes: 0 promote, 1 rollback, 2 invalid input or usage, 3 environment or infrastructure
 * error, 4 hold, 130 interrupted.
 */
import { Command, Option } from 'commander';
import * as api from '../api.js';
import { EXIT, InputError } from '../errors.js';
import type { Scenario } from '../scenario/model.js';
import { NETAB_VERSION } from '../version.js';
import { debugWanted, reportError } from './errors.js';
import { parseAlphaFlag, parseMarginFlag } from './flags.js';

interface RunFlags {
  out?: string;
  engine?: 'auto' | 'netem' | 'userspace';
  backend?: 'netns' | 'docker';
  trials?: number;
  seed?: number;
  filter?: string;
  shard?: string;
  resume?: string;
  aa?: boolean;
  vm?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export { EXIT };

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
          x.rateBps ? `rate ${api.formatRate(x.rateBps)}` : '',
          x.bufferBytes ? `buffer ${x.bufferBytes}B` : '',
          x.schedule ? `schedule ${x.schedule.steps.length} step(s)${x.schedule.repeatMs ? ` every ${x.schedule.repeatMs}ms` : ''}` : '',
          x.trace ? `trace ${x.trace.file.split('/').pop()}` : '',
        ]
          .filter(Boolean)
          .join(' ') || 'none';
      return `${name}: fwd ${d(l.forward)} | rev ${d(l.reverse)}`;
    })
    .join('; ');
}

function intArg(name: string) {
  return (v: string) => {
    if (!/^\d{1,9}$/.test(v)) throw new InputError(`${name} must be a whole number below 1e9 (got "${v}")`);
    return Number(v);
  };
}

/** Set by the command's action: the process's exit code (a decision's, or 0). */
let exitCode: number = EXIT.promote;
function exitWith(code: number): void {
  exitCode = code;
}

// Long by design: one declarative commander block per command; each action is a call into src/api.
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('netab')
    .description('Is this TCP tuning safe to roll out? Canary vs control over emulated paths, judged statistically.')
    .version(NETAB_VERSION)
    .option('--debug', 'print the stack of an unexpected error')
    .exitOverride()
    .configureOutput({
      // commander's own usage errors ("error: unknown option '--x'"): one line, netab's prefix, where to look
      writeErr: (s) =>
        process.stderr.write(/^error: /.test(s) ? `netab: ${s.slice(7).trimEnd()} (\`netab help <command>\` lists its options)\n` : s),
    })
    .addHelpText(
      'after',
      `
Exit codes: 0 promote, 1 rollback, 2 invalid input or usage, 3 environment or infrastructure error,
            4 hold (inconclusive), 130 interrupted.`,
    );

  program
    .command('run')
    .description('run scenario files, folders or a suite: build the testbed, run the trials, judge, write the reports')
    .argument('[paths...]', 'scenario files, folders (every *.yaml), globs, or a suite.yaml')
    .option('--out <dir>', 'run directory (default: reports/<scenario or suite>-<timestamp>)')
    .addOption(new Option('--engine <engine>', 'impairment engine').choices(['auto', 'netem', 'userspace']))
    .addOption(new Option('--backend <backend>', 'testbed backend (overrides the scenario)').choices(['netns', 'docker']))
    .option('--trials <n>', 'measured pairs per scenario (overrides trials.pairs)', intArg('--trials'))
    .option(
      '--seed <n>',
      "seed of every scenario: pair order and impairment randomness (default: each scenario's own seed:, else random; recorded per scenario)",
      intArg('--seed'),
    )
    .option('--filter <regex>', 'only scenarios whose id or name matches')
    .option('--shard <i/n>', 'run only shard i of n (deterministic, balanced by estimated duration); combine with `netab merge`')
    .option('--resume <dir>', 'continue an interrupted run in DIR: finished trials are kept, only missing ones run')
    .option('--aa', 'A/A calibration: run control against itself (the false-alarm check)')
    .option('--vm', 'run inside a stock Debian kernel under qemu (real netem where this kernel has none); see `netab vm setup`')
    .option('--json', 'print verdict.json to stdout')
    .option('-q, --quiet', 'no progress output')
    .action(async (paths: string[], o: RunFlags) => {
      if (o.vm && !api.inVm()) return exitWith(await api.runInVm(paths, o, process.argv.slice(2)));
      const { runCommand, resumeCommand } = await import('./run.js');
      const printing = { json: Boolean(o.json), quiet: Boolean(o.quiet), argv: process.argv.slice(2) };
      if (o.resume) {
        if (paths.length) throw new InputError('--resume takes the run directory only, not scenario files');
        return exitWith(await resumeCommand(o.resume, printing));
      }
      const { out, engine, backend, trials, seed, filter, shard, aa } = o;
      exitWith(await runCommand(paths, { out, engine, backend, trials, seed, filter, shard, aa: Boolean(aa) }, printing));
    });

  program
    .command('plan')
    .description('estimate a run before starting it: scenarios, trials, expected wall time (per shard with --shards)')
    .argument('<paths...>', 'scenario files, folders, globs, or a suite.yaml')
    .option('--trials <n>', 'measured pairs per scenario (overrides trials.pairs)', intArg('--trials'))
    .option('--filter <regex>', 'only scenarios whose id or name matches')
    .option('--shards <n>', 'show how N shards would split the suite', intArg('--shards'))
    .action((paths: string[], o: { trials?: number; filter?: string; shards?: number }) => {
      const p = api.plan(paths, o);
      const fmt = (sec: number) => `${Math.floor(sec / 60)}m${String(Math.round(sec % 60)).padStart(2, '0')}s`;
      const line = (label: string, e: api.PlanEstimate) =>
        out(`${label}: ${e.scenarios} scenario${e.scenarios === 1 ? '' : 's'}, ${e.trials} trials, about ${fmt(e.seconds)}`);
      out(`suite ${p.suite.name} (${p.suite.files.length} file${p.suite.files.length === 1 ? '' : 's'}, hash ${p.suite.hash})`);
      for (const s of p.scenarios) out(`  ${s.id}: ${s.pairs} pairs + ${s.warmup} warm-up, about ${fmt(s.seconds)}`);
      line('total', p.total);
      for (const [i, e] of p.shards.entries()) line(`  shard ${i + 1}/${p.shards.length}`, e);
    });

  program
    .command('merge')
    .description('combine shard run directories of one suite into one run directory, then judge and report it')
    .argument('<dirs...>', 'shard run directories')
    .requiredOption('--out <dir>', 'the merged run directory')
    .option('--json', 'print verdict.json to stdout')
    .action(async (dirs: string[], o: { out: string; json?: boolean }) => {
      const { mergeCommand } = await import('./run.js');
      exitWith(await mergeCommand(dirs, o.out, Boolean(o.json)));
    });

  program
    .command('validate')
    .description('check scenario files (or folders, globs, suites) and print the expanded scenario list')
    .argument('<paths...>', 'scenario files, folders, globs, or a suite.yaml')
    .option('--json', 'print the expanded scenarios as JSON')
    .option('--no-kernel', 'skip checking sysctls against this kernel (a fresh network namespace)')
    .action(async (paths: string[], o: { json?: boolean; kernel: boolean }) => {
      const scenarios = await api.validate(paths, { kernel: o.kernel, warn: err });
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
    .option('--alpha <a>', 'significance level, above 0 and below 0.5', parseAlphaFlag)
    .option('--margin <m>', 'override every metric margin: "2%" (relative, below 100%) or a number above 0 (absolute)', parseMarginFlag)
    .option('--json', 'print verdict.json to stdout')
    .action(async (dir: string, o: { alpha?: number; margin?: api.MarginOverride; json?: boolean }) => {
      const { judgeCommand } = await import('./run.js');
      exitWith(await judgeCommand(dir, o));
    });

  program
    .command('report')
    .description('re-render report.html, junit.xml, summary.md (and sweep.csv) of a stored run directory')
    .argument('<dir>', 'run directory')
    .action(async (dir: string) => {
      const { reportCommand } = await import('./run.js');
      await reportCommand(dir);
    });

  program
    .command('doctor')
    .description('check this machine: root, iproute2, iperf3, ethtool, netem, congestion controls, docker, leftovers')
    .action(async () => {
      const checks = await api.doctor();
      for (const c of checks) out(`${c.ok ? 'ok  ' : c.required ? 'FAIL' : 'warn'}  ${c.name.padEnd(19)} ${c.detail}`);
      if (checks.some((c) => c.required && !c.ok)) exitWith(EXIT.env);
    });

  program
    .command('gc')
    .description('remove leftovers (namespaces, processes, containers, networks, sysctl changes) of crashed or killed runs')
    .option('--force', 'also remove resources of runs whose process still seems alive')
    .action(async (o: { force?: boolean }) => {
      const removed = await api.gc({ force: o.force, log: out });
      if (removed.length === 0) out('nothing to remove');
    });

  program
    .command('export')
    .description('deployable artifacts of a PROMOTE run: sysctl.d, apply.sh/rollback.sh, networkd drop-in, profile.json')
    .argument('<dir>', 'run directory')
    .option('--out <dir>', 'output folder (default DIR/export)')
    .option('--force', 'export even when the decision is not PROMOTE (recorded in every file)')
    .action(async (dir: string, o: { out?: string; force?: boolean }) => {
      exitWith(await api.exportRun(dir, o));
    });

  const rollout = program.command('rollout').description('staged production rollout of a promoted profile');
  rollout
    .command('plan')
    .description('stages with guardrails, the lab effect as expectation and samples per arm (YAML and Markdown)')
    .argument('<dir>', 'run directory')
    .option('--stages <list>', 'percent of hosts per stage', '1,10,50,100')
    .option('--bake <duration>', 'bake time per stage (s, m, h, d)', '1h')
    .option('--out <dir>', 'output folder (default DIR/rollout)')
    .action(async (dir: string, o: { stages: string; bake: string; out?: string }) => {
      exitWith(await api.rolloutPlan(dir, { stages: o.stages, bake: o.bake, out: o.out }));
    });

  program
    .command('gate')
    .description('judge a production stage with the lab judge: ADVANCE 0 / HOLD 4 / ROLLBACK 1 (docs/rollout.md)')
    .requiredOption('--control <file|selector>', 'control samples (CSV/JSONL) or, with --prometheus, label matchers')
    .requiredOption('--canary <file|selector>', 'canary samples (CSV/JSONL) or, with --prometheus, label matchers')
    .option('--prometheus <url>', 'query this Prometheus server (HTTP API, range queries)')
    .option('--spec <file>', 'guardrails: a gate spec or the plan.yaml of `netab rollout plan`')
    .option('--metric <name>', 'metric to judge (repeatable)', (v: string, a: string[] = []) => [...a, v])
    .option('--alpha <a>', 'significance level, above 0 and below 0.5', parseAlphaFlag)
    .option('--min-samples <n>', 'minimum usable samples per arm', intArg('--min-samples'))
    .option('--range <d>', 'Prometheus window', '10m')
    .option('--step <d>', 'sample interval', '15s')
    .option('--timeout <d>', 'Prometheus request timeout', '10s')
    .option('--out <dir>', 'output folder')
    .action(
      async (o: {
        control: string;
        canary: string;
        prometheus?: string;
        spec?: string;
        metric?: string[];
        alpha?: number;
        minSamples?: number;
        range: string;
        step: string;
        timeout: string;
        out?: string;
      }) => {
        exitWith(await api.gate({ ...o, metrics: o.metric }));
      },
    );

  const vmCmd = program.command('vm').description('the qemu VM with a stock Debian kernel (real netem) for `run --vm`');
  vmCmd
    .command('setup')
    .description('prepare the kernel and initramfs in the cache (idempotent; installs qemu and friends from Debian)')
    .option('--force', 'rebuild and re-test even when up to date')
    .action(async (o: { force?: boolean }) => {
      const img = await api.vmSetup({ force: o.force, log: out });
      out(`vm ready: kernel ${img.kernelVersion} (${img.kernelFormat}), accelerator ${img.accelerator}, cache ${img.cacheDir}`);
    });
  vmCmd
    .command('doctor')
    .description('is the VM cache ready, which kernel, does KVM work')
    .option('--live', 'also boot it once')
    .action(async (o: { live?: boolean }) => {
      out(await api.vmDoctor({ live: o.live }));
    });

  const dockerCmd = program.command('docker').description('docker backend helpers');
  dockerCmd
    .command('build-image')
    .description("(re)build netab's endpoint image locally from host binaries (no registry needed)")
    .option('--force', 'rebuild even when the image exists')
    .action(async (o: { force?: boolean }) => {
      exitWith(await api.dockerBuildImage({ force: o.force, log: out }));
    });

  program
    .command('schema')
    .description('print the scenario JSON Schema (for editor autocompletion)')
    .action(() => out(JSON.stringify(api.schema(), null, 2)));

  return program;
}

export async function main(argv = process.argv): Promise<number> {
  const program = buildProgram();
  exitCode = EXIT.promote;
  const debug = debugWanted(argv);
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (e) {
    return reportError(e, debug);
  }
}
