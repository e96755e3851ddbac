// VM runner bench: how long does `netab run --vm` spend booting, and how slow is the guest?
//   npx tsc -p tsconfig.json && node bench/vm.mjs [--runs 3] [--cpus 1] [--accel tcg|kvm] [--json out.json]
//                                                 [--no-quickstart] [--fresh-setup]
// Needs a prepared cache (`netab vm setup`, or the integration test). Each run boots the VM once:
// run 1..N execute `true` (boot + power-off cost); one more run times, inside the guest, node's
// start (cold, then warm), 20 fork+exec of /bin/true, and a netem-delayed ping between two namespaces.
// Then (unless --no-quickstart) the acceptance number: `netab run scenarios/quickstart.yaml --vm`
// end to end, with the time of each phase. --fresh-setup first times `netab vm setup` into an empty
// cache directory (downloads the kernel package again; the apt packages stay installed).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadVmImage, vmRun } from '../dist/vm/index.js';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const RUNS = Number(arg('--runs', 3));
const CPUS = arg('--cpus', null);
const ACCEL = arg('--accel', null);
const JSON_OUT = arg('--json', null);

const GUEST = `#!/bin/sh
W=$(dirname "$0")
t() { read -r x _ < /proc/uptime; echo "$x"; }
a=$(t); node -e 0; b=$(t); node -e 0; c=$(t)
i=0; while [ $i -lt 20 ]; do /bin/true; i=$((i+1)); done; d=$(t)
ip netns add vb_a; ip netns add vb_b
ip link add va netns vb_a type veth peer name vb netns vb_b
ip -n vb_a addr add 198.18.78.1/24 dev va; ip -n vb_b addr add 198.18.78.2/24 dev vb
ip -n vb_a link set va up; ip -n vb_b link set vb up
ip netns exec vb_a tc qdisc add dev va root netem delay 20ms
ip netns exec vb_b tc qdisc add dev vb root netem delay 20ms
rtt=$(ip netns exec vb_a ping -n -c 11 -i 0.2 198.18.78.2 | sed -n 's/.*= \\([0-9.]*\\)\\/\\([0-9.]*\\)\\/.*/\\1 \\2/p')
echo "$a $b $c $d $rtt" > "$W/guest.txt"
`;

const img = await loadVmImage();
const work = await mkdtemp(join(tmpdir(), 'netab-vm-bench-'));
const opts = { workDir: work, timeoutMs: 300_000, ...(CPUS ? { cpus: Number(CPUS) } : {}), ...(ACCEL ? { accelerator: ACCEL } : {}) };
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  const boots = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await vmRun(img, ['true'], opts);
    boots.push(r);
    console.log(`run ${i + 1}: boot ${r.bootMs} ms, total ${r.totalMs} ms (${r.accelerator}, ${img.kernelFormat})`);
  }
  await writeFile(join(work, 'guest.sh'), GUEST);
  const r = await vmRun(img, ['sh', join(work, 'guest.sh')], opts);
  const [a, b, c, d, rttMin, rttAvg] = (await readFile(join(work, 'guest.txt'), 'utf8')).trim().split(/\s+/).map(Number);
  const out = {
    kernel: img.kernelVersion,
    kernelFormat: img.kernelFormat,
    accelerator: r.accelerator,
    bootMsMedian: med(boots.map((x) => x.bootMs)),
    totalMsMedian: med(boots.map((x) => x.totalMs)),
    nodeStartColdMs: Math.round((b - a) * 1000),
    nodeStartWarmMs: Math.round((c - b) * 1000),
    forkExecMs: Math.round(((d - c) * 1000) / 20),
    netem20x2RttMinMs: rttMin,
    netem20x2RttAvgMs: rttAvg,
  };
  if (!process.argv.includes('--no-quickstart')) out.quickstart = await quickstart();
  if (process.argv.includes('--fresh-setup')) out.freshSetupMs = await freshSetup();
  console.log(JSON.stringify(out, null, 2));
  if (JSON_OUT) await writeFile(JSON_OUT, JSON.stringify(out, null, 2) + '\n');
} finally {
  await rm(work, { recursive: true, force: true });
}

/** `node bin/netab.js ARGS`, each output line time-stamped (ms since start); resolves with them. */
function netab(args, env = {}) {
  return new Promise((res, rej) => {
    const t0 = Date.now();
    const lines = [];
    const p = spawn(process.execPath, ['bin/netab.js', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    const onData = (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push({ ms: Date.now() - t0, line: buf.slice(0, i) });
        buf = buf.slice(i + 1);
      }
    };
    p.stdout.setEncoding('utf8').on('data', onData);
    p.stderr.setEncoding('utf8').on('data', onData);
    p.on('error', rej);
    p.on('close', (code) => res({ code, ms: Date.now() - t0, lines }));
  });
}

async function quickstart() {
  const out = await mkdtemp(join(tmpdir(), 'netab-vm-bench-qs-'));
  try {
    const r = await netab(['run', 'scenarios/quickstart.yaml', '--vm', '--seed', '2', '--out', out]);
    const at = (re) => r.lines.find((l) => re.test(l.line))?.ms ?? null;
    const s = (ms) => (ms === null ? null : +(ms / 1000).toFixed(1));
    const phases = {
      guestNetabStartedS: s(at(/^netab: run directory/)),
      topologyS: s(at(/applying tunings/)),
      tuningsS: s(at(/probing path fidelity/)),
      fidelityDoneS: s(at(/trial 1\//)),
      trialsDoneS: s(at(/tearing down/)),
      decisionS: s(at(/^decision:/)),
    };
    const trials = r.lines.filter((l) => /trial \d+\/\d+/.test(l.line)).map((l) => l.ms);
    const per = trials.length > 1 ? (trials.at(-1) - trials[0]) / (trials.length - 1) / 1000 : null;
    const decision = r.lines.find((l) => /^decision:/.test(l.line))?.line ?? null;
    console.log(
      `quickstart --vm: ${(r.ms / 1000).toFixed(1)} s, exit ${r.code}, ${decision}; ${trials.length} trials, ${per?.toFixed(2)} s each`,
    );
    return {
      totalS: +(r.ms / 1000).toFixed(1),
      exitCode: r.code,
      decision,
      trials: trials.length,
      perTrialS: per && +per.toFixed(2),
      phases,
    };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

async function freshSetup() {
  const cache = await mkdtemp(join(tmpdir(), 'netab-vm-bench-cache-'));
  try {
    const r = await netab(['vm', 'setup'], { NETAB_VM_CACHE: cache });
    console.log(`netab vm setup into an empty cache: ${(r.ms / 1000).toFixed(1)} s (exit ${r.code})`);
    return r.ms;
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
}
