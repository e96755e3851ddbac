/**
 * Checks that run after loading and before anything is created: every decision reachable with the
 * planned pairs (judge/plan) and every sysctl accepted by this kernel in a fresh namespace (tuning).
 */
import { InputError, type InputProblem } from '../errors.js';
import { reachability } from '../judge/index.js';
import type { Scenario } from '../scenario/model.js';
import { workloadMs } from '../scenario/schedule-events.js';
import { scheduleWarnings } from '../scenario/schedule.js';
import { checkSysctls } from '../tuning/index.js';

/**
 * Problems of decisions that the planned pairs cannot reach. With `pairsFromCli` (an explicit
 * `--trials N`) they are warnings: the user chose a short run on purpose (mechanics, smoke tests),
 * and such a run can only end HOLD on the side it cannot reach; a scenario file is refused.
 */
export function reachabilityProblems(scenarios: readonly Scenario[]): InputProblem[] {
  const problems: InputProblem[] = [];
  const seen = new Set<string>();
  for (const s of scenarios) {
    const r = reachability(s.judge, s.trials.pairs, { scenarios: scenarios.length });
    for (const message of r.problems) {
      const key = `${s.file}\0${message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      problems.push({ file: s.file, path: 'trials.pairs', message: `${s.id}: ${message}` });
    }
  }
  return problems;
}

export interface PreflightOptions {
  /** `--trials N` given: unreachable decisions are warned about, not refused */
  pairsFromCli?: boolean;
  /** the kernel check (needs root for the fresh-namespace part); validate runs it too */
  kernel?: boolean;
  warn: (line: string) => void;
}

export async function preflight(scenarios: readonly Scenario[], o: PreflightOptions): Promise<void> {
  const reach = reachabilityProblems(scenarios);
  if (reach.length && !o.pairsFromCli) throw new InputError(reach);
  for (const p of reach) o.warn(`netab: warning: ${p.message} (this run can only HOLD on that side)`);
  for (const s of scenarios) for (const w of scheduleWarnings(s.links, workloadMs(s))) o.warn(`netab: warning: ${s.file}: ${s.id}: ${w}`);
  if (o.kernel) {
    const sys = await checkSysctls(scenarios, { note: (m) => o.warn(`netab: ${m}`) });
    if (sys.length) throw new InputError(sys);
  }
}
