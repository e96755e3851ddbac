// VM runner bench: how long does `netab run --vm` spend booting, and how slow is the guest?
//   npx tsc -p tsconfig.json && node bench/vm.mjs [--runs 3] [--cpus 1] [--accel tcg|kvm] [--json out.json]
// Needs a prepared cache (`netab vm setup`, or the integration test). Each run boots the VM once:
// run 1..N execute `true` (boot + power-off cost); one more run times, inside the guest, node's
// start (cold, then warm), 20 fork+exec of /bin/true, and a netem-delayed ping between two namespaces.
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
  console.log(JSON.stringify(out, null, 2));
  if (JSON_OUT) await writeFile(JSON_OUT, JSON.stringify(out, null, 2) + '\n');
} finally {
  await rm(work, { recursive: true, force: true });
}
