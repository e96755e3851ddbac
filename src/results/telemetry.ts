/**
 * Reading one trial's telemetry side file (telemetry/<trial>.json) for the report: a regular file
 * (never through a link), bounded in size, parsed as JSON. What is inside is the writer's business
 * (relay / netem telemetry); callers take the parts they know.
 */
import { join } from 'node:path';
import { lstatOrNull, readRegularFile } from './files.js';
import { LIMITS, RUN_FILES } from './rundir.js';
import { telemetryName } from './store.js';

/** The parsed file, `missing` when the trial has none, or a one-line problem (bad JSON, a link, too big). */
export function readTrialTelemetry(dir: string, trialId: string): { value: unknown } | { problem: string } | 'missing' {
  const file = join(dir, RUN_FILES.telemetry, telemetryName(trialId));
  if (!lstatOrNull(file)) return 'missing';
  try {
    return { value: JSON.parse(readRegularFile(file, LIMITS.telemetryBytes).toString('utf8')) as unknown };
  } catch (e) {
    return {
      problem: `telemetry/${telemetryName(trialId)}: ${String((e as Error)?.message ?? e)
        .split('\n')[0]!
        .slice(0, 120)}`,
    };
  }
}
