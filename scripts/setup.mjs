#!/usr/bin/env zx
// Installs what netab needs on a Debian/Ubuntu machine (idempotent) and builds it.
//   zx scripts/setup.mjs          runtime: iproute2, iperf3, ethtool, nftables, procps, iputils-ping
//   zx scripts/setup.mjs --test   + what the test suite needs: chromium (report browser test), a running
//                                 Docker engine (docker.io, dockerd; see scripts/docker-engine.mjs)
import { existsSync } from 'node:fs';

$.verbose = false;
const wantTest = argv.test;
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
if (wantTest) packages.chromium = 'chromium';

const missing = new Set();
for (const [bin, pkg] of Object.entries(packages)) {
  const found = await $`sh -c ${'command -v ' + bin}`.nothrow();
  if (found.exitCode !== 0) missing.add(pkg);
}
if (missing.size) {
  if (process.getuid() !== 0) {
    echo(`netab setup: missing Debian packages: ${[...missing].join(' ')} (run as root to install them)`);
    process.exit(3);
  }
  echo(`netab setup: installing ${[...missing].join(' ')}`);
  await $`apt-get update -qq`;
  await $({ env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })`apt-get install -y -qq --no-install-recommends ${[...missing]}`.pipe(process.stderr);
}
if (!existsSync('node_modules/.bin/tsc')) await $`npm install --no-audit --no-fund`;
// the test suite runs the docker backend against a real engine: install and start one if needed
if (wantTest) await $`zx scripts/docker-engine.mjs`.pipe(process.stderr);
echo('netab setup: building');
await $`npx tsc -p tsconfig.json`;
