#!/usr/bin/env node
// The README's first command: install what is missing, build, run scenarios/quickstart.yaml, exit with
// the decision's code. Plain Node, so it works on a fresh clone before any npm package is installed.
//
// Ctrl+C: a terminal sends SIGINT to the whole process group (npm, this script, netab and netab's
// children). netab handles it (stops the trial, tears the testbed down, exits 130). This script must
// outlive netab meanwhile, so it ignores SIGINT/SIGTERM while netab runs and exits with netab's code;
// netab writes straight to the terminal (inherited stdio), so no pipe of ours can break under it.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const setup = spawnSync(process.execPath, ['scripts/setup.mjs'], { stdio: 'inherit', cwd: root });
if (setup.status !== 0) process.exit(setup.status ?? 3);

const child = spawn(process.execPath, ['bin/netab.js', 'run', 'scenarios/quickstart.yaml', ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: root,
});
const ignore = () => {};
process.on('SIGINT', ignore);
process.on('SIGTERM', ignore);
child.on('error', (e) => {
  process.stderr.write(`netab quickstart: cannot start netab: ${e.message}\n`);
  process.exit(3);
});
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 130 : 3));
});
