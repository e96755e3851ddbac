#!/usr/bin/env zx
// Makes a Docker engine answer on /var/run/docker.sock (idempotent), for the docker backend and its tests:
//   1. the socket already answers (GET /_ping)        -> nothing to do
//   2. no dockerd on PATH                             -> apt-get install -y docker.io (root only)
//      no busybox on PATH (netab's endpoint image is built from it) -> apt-get install -y busybox-static
//   3. start dockerd in the background, logging to /var/log/netab-dockerd.log, and wait for the socket
//      (60 s at most).
// Exit 0 when the engine answers, 3 otherwise (with the tail of the daemon's log).
//   zx scripts/docker-engine.mjs [--timeout 60] [--quiet]
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { spawn as spawnChild } from 'node:child_process';

$.verbose = false;
const SOCKET = process.env.NETAB_DOCKER_SOCKET ?? '/var/run/docker.sock';
const LOG = '/var/log/netab-dockerd.log';
const timeoutS = Number(argv.timeout ?? 60);
const say = (m) => {
  if (!argv.quiet) echo(`netab docker-engine: ${m}`);
};
const fail = (m) => {
  echo(`netab docker-engine: ${m}`);
  process.exit(3);
};

/** true when the daemon answers /_ping on the socket within 2 s */
function ping() {
  if (!existsSync(SOCKET)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = request({ socketPath: SOCKET, path: '/_ping', method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function onPath(bin) {
  return (await $`sh -c ${'command -v ' + bin}`.nothrow()).exitCode === 0;
}

async function aptInstall(pkgs) {
  say(`installing ${pkgs.join(' ')}`);
  await $`apt-get update -qq`.nothrow();
  const r = await $({
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })`apt-get install -y -qq --no-install-recommends ${pkgs}`.nothrow();
  if (r.exitCode !== 0)
    fail(`apt-get install ${pkgs.join(' ')} failed (exit ${r.exitCode}):\n${r.stderr.trim().split('\n').slice(-10).join('\n')}`);
}

const needBusybox = !(await onPath('busybox'));
if (await ping()) {
  if (needBusybox && process.getuid?.() === 0) await aptInstall(['busybox-static']);
  say(`engine answers on ${SOCKET}`);
  process.exit(0);
}
if (process.getuid?.() !== 0) fail(`no engine answers on ${SOCKET} and starting one needs root`);

const pkgs = [];
if (!(await onPath('dockerd'))) pkgs.push('docker.io');
if (needBusybox) pkgs.push('busybox-static');
if (pkgs.length) {
  await aptInstall(pkgs);
  if (!(await onPath('dockerd'))) fail('docker.io installed but dockerd is still not on PATH');
}

// Another dockerd may be starting (a parallel setup): give it the timeout before starting our own.
const running = (await $`pgrep -x dockerd`.nothrow()).exitCode === 0;
if (!running) {
  say(`starting dockerd (log: ${LOG})`);
  const fd = openSync(LOG, 'a');
  // --bridge=none: no default docker0 bridge (172.17.0.0/16); netab only uses its own --internal networks
  // in 198.18.0.0/15. Set NETAB_DOCKERD_ARGS to override (e.g. an empty string keeps Docker's defaults).
  const extra = (process.env.NETAB_DOCKERD_ARGS ?? '--bridge=none').split(/\s+/).filter(Boolean);
  const child = spawnChild('dockerd', ['--host', `unix://${SOCKET}`, ...extra], { detached: true, stdio: ['ignore', fd, fd] });
  child.unref();
  closeSync(fd);
} else {
  say('dockerd is running but not answering yet: waiting');
}

const until = Date.now() + timeoutS * 1000;
while (Date.now() < until) {
  if (await ping()) {
    say(`engine answers on ${SOCKET}`);
    process.exit(0);
  }
  await sleep(500);
}
let tail = '';
try {
  tail = readFileSync(LOG, 'utf8').trim().split('\n').slice(-15).join('\n');
} catch {
  /* no log */
}
fail(`dockerd did not answer on ${SOCKET} within ${timeoutS} s; last lines of ${LOG}:\n${tail}`);
