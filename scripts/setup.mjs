#!/usr/bin/env node
// Installs what netab needs on a Debian/Ubuntu machine (idempotent) and builds it. Plain Node, so it
// works on a fresh clone before any npm package is installed:
//   node scripts/setup.mjs          npm packages (npm ci, when node_modules is missing or stale), Debian
//                                   packages iproute2, iperf3, ethtool, nftables, procps, iputils-ping,
//                                   then the build (when dist/ is older than src/)
//   node scripts/setup.mjs --test   + what the test suite needs: chromium (report browser test), prometheus
//                                   and prometheus-node-exporter (gate tests), a running
//                                   Docker engine (docker.io, dockerd; see scripts/docker-engine.mjs)
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, ensureNodeModules, must } from './npm-deps.mjs';

const wantTest = process.argv.includes('--test');
const say = (m) => process.stderr.write(`netab setup: ${m}\n`);

ensureNodeModules(say);

const packages = {
  ip: 'iproute2',
  iperf3: 'iperf3',
  ethtool: 'ethtool',
  nft: 'nftables',
  sysctl: 'procps',
  ping: 'iputils-ping',
  ss: 'iproute2',
  xz: 'xz-utils',
};
if (wantTest) {
  packages.chromium = 'chromium';
  // the production stand-in of the `netab gate` tests (test/integration/rollout-gate.test.ts)
  packages.prometheus = 'prometheus';
  packages['prometheus-node-exporter'] = 'prometheus-node-exporter';
}

/** An executable file on PATH (in-process: no shell per lookup). */
function onPath(bin) {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (!dir) continue;
    try {
      accessSync(join(dir, bin), constants.X_OK);
      if (statSync(join(dir, bin)).isFile()) return true;
    } catch {
      /* not here */
    }
  }
  return false;
}

const missing = [
  ...new Set(
    Object.entries(packages)
      .filter(([bin]) => !onPath(bin))
      .map(([, pkg]) => pkg),
  ),
];
if (missing.length) {
  if (process.getuid?.() !== 0) {
    say(`missing Debian packages: ${missing.join(' ')} (run as root to install them)`);
    process.exit(3);
  }
  say(`installing ${missing.join(' ')}`);
  must(['apt-get', 'update', '-qq']);
  must(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}
// the test suite runs the docker backend against a real engine: install and start one if needed
if (wantTest) must([process.execPath, join('node_modules', 'zx', 'build', 'cli.js'), 'scripts/docker-engine.mjs']);
ensureBuilt(say, process.argv.includes('--build'));
