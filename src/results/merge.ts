/**
 * `netab merge`: combine shard run directories of one suite into one run directory, refusing shards
 * of different suites, scenario hashes or netab versions, and missing or duplicated shards.
 * Every shard is read (and checked) in full before anything is written; the output must be a new or
 * empty folder that is not one of the inputs. What was tolerated while reading a shard (a cut-short
 * last line) is carried into the merged manifest (suite.mergeWarnings) so the judge names it.
 */
import { join, resolve } from 'node:path';
import { InputError, type InputProblem } from '../errors.js';
import { readRegularFile, writeFileExclusive } from './files.js';
import { LIMITS, listTelemetry, RUN_FILES } from './rundir.js';
import { readRunDir, type RunDirData } from './records.js';
import { checkMergeOutput, checkOutDir } from './create.js';
import { RunStore } from './store.js';
import type { ManifestScenario, RunManifest } from './types.js';

// Long by design: every shard is checked against the others before anything is written.
export function mergeRuns(dirs: string[], out: string): RunManifest {
  if (dirs.length === 0) throw new InputError([{ file: 'merge', path: '', message: 'no run directories given' }]);
  checkMergeOutput(dirs, out);
  checkOutDir(out);
  const problems: InputProblem[] = [];
  const bad = (dir: string, message: string) => problems.push({ file: dir, path: '', message });
  const runs: (RunDirData & { m: RunManifest; telemetry: string[] })[] = [];
  for (const d of dirs) {
    try {
      const data = readRunDir(d);
      runs.push({ ...data, dir: d, m: data.manifest, telemetry: listTelemetry(d) });
    } catch (e) {
      if (e instanceof InputError) problems.push(...e.problems);
      else throw e;
    }
  }
  if (problems.length) throw new InputError(problems);
  const first = runs[0]!;
  for (const r of runs) {
    if (!r.m.suite) bad(r.dir, 'not part of a suite run (no suite block in manifest.json)');
    else if (r.m.suite.hash !== first.m.suite?.hash)
      bad(
        r.dir,
        `belongs to suite "${r.m.suite.name}" (hash ${r.m.suite.hash}), not "${first.m.suite?.name}" (hash ${first.m.suite?.hash}) of ${first.dir}`,
      );
    if (r.m.netabVersion !== first.m.netabVersion)
      bad(r.dir, `was run by netab ${r.m.netabVersion}, ${first.dir} by ${first.m.netabVersion}`);
    if (r.m.aa !== first.m.aa) bad(r.dir, 'A/A and A/B runs cannot be merged');
  }
  if (problems.length) throw new InputError(problems);
  // shards: 1..N exactly once each
  const count = first.m.suite!.shard?.count ?? 1;
  const seen = new Map<number, string>();
  for (const r of runs) {
    const sh = r.m.suite!.shard ?? { index: 1, count: 1 };
    if (sh.count !== count) bad(r.dir, `is shard ${sh.index}/${sh.count}, the others are of ${count}`);
    else if (seen.has(sh.index)) bad(r.dir, `shard ${sh.index}/${count} is already given by ${seen.get(sh.index)}`);
    else seen.set(sh.index, r.dir);
  }
  for (let i = 1; i <= count; i++) if (!seen.has(i) && problems.length === 0) bad('merge', `shard ${i}/${count} is missing`);
  // scenarios: each suite scenario exactly once, with the same hash wherever it appears
  const byId = new Map<string, { s: ManifestScenario; dir: string }>();
  for (const r of runs) {
    for (const s of r.m.scenarios) {
      const prev = byId.get(s.id);
      if (prev && prev.s.hash !== s.hash) bad(r.dir, `scenario ${s.id} has hash ${s.hash} here and ${prev.s.hash} in ${prev.dir}`);
      else if (prev) bad(r.dir, `scenario ${s.id} also ran in ${prev.dir}`);
      else byId.set(s.id, { s, dir: r.dir });
    }
  }
  for (const id of first.m.suite!.scenarioIds) if (!byId.has(id) && problems.length === 0) bad('merge', `no shard ran scenario ${id}`);
  // telemetry side files must not collide (they are named by trial id)
  const tele = new Map<string, string>();
  for (const r of runs)
    for (const f of r.telemetry) {
      if (tele.has(f)) bad(r.dir, `telemetry/${f} is also in ${tele.get(f)}`);
      else tele.set(f, r.dir);
    }
  if (problems.length) throw new InputError(problems);

  const ordered = [...runs].sort((a, b) => (a.m.suite!.shard?.index ?? 1) - (b.m.suite!.shard?.index ?? 1));
  const mergeWarnings = [
    ...ordered.flatMap((r) => r.m.suite?.mergeWarnings ?? []),
    ...ordered.flatMap((r) => r.warnings.map((w) => `shard ${r.m.suite!.shard?.index ?? 1}/${count}: ${w}`)),
  ];
  const merged: RunManifest = {
    ...first.m,
    createdAt: new Date().toISOString(),
    scenarios: first.m.suite!.scenarioIds.map((id) => byId.get(id)!.s),
    suite: {
      ...first.m.suite!,
      shard: undefined,
      mergedFrom: runs.map((r) => resolve(r.dir)),
      mergeWarnings: mergeWarnings.length ? mergeWarnings : undefined,
    },
    attempts: runs.flatMap((r) => r.m.attempts ?? []),
    interrupted: runs.some((r) => r.m.interrupted),
    finishedAt: runs
      .map((r) => r.m.finishedAt ?? '')
      .sort()
      .pop(),
  };
  const store = RunStore.create(out);
  try {
    store.writeManifest(merged);
    for (const r of ordered) {
      store.appendAll(r.records);
      for (const f of r.telemetry)
        writeFileExclusive(
          join(store.dir, RUN_FILES.telemetry, f),
          readRegularFile(join(r.dir, RUN_FILES.telemetry, f), LIMITS.telemetryBytes),
        );
    }
  } finally {
    store.close();
  }
  return merged;
}
