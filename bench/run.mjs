#!/usr/bin/env zx
// `npm run bench`: every benchmark, each printing its numbers. Targets live here, not in timed tests.
import { existsSync } from 'node:fs';

$.verbose = false;
const benches = ['topology', 'relay', 'overhead', 'transfer', 'judge', 'sequential', 'bigrun', 'report', 'docker', 'vm'];
const only = argv._.length ? argv._ : benches;
let failed = 0;
for (const b of only) {
  const f = `bench/${b}.mjs`;
  if (!existsSync(f)) continue;
  echo(`\n=== bench ${b}`);
  const r = await $`zx ${f}`.nothrow().pipe(process.stdout);
  if (r.exitCode !== 0) {
    failed++;
    echo(`bench ${b} failed (exit ${r.exitCode})`);
  }
}
process.exit(failed ? 1 : 0);
