#!/usr/bin/env zx
// The README's first command: install what is missing, build, run scenarios/quickstart.yaml.
$.verbose = false;
await $`zx scripts/setup.mjs`.pipe(process.stderr);
const r = await $`node bin/netab.js run scenarios/quickstart.yaml ${process.argv.slice(3)}`.nothrow().pipe(process.stdout);
process.exit(r.exitCode ?? 3);
