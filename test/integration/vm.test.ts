/**
 * The VM runner end to end: setup (first run downloads the ~70 MB kernel package; cached after),
 * then three boots: one runs a whole script of checks (real netem, bbr, netns + veth RTT, argv/env/cwd,
 * exit status), one is aborted, one times out. Outside CI a machine that can't run the VM (not root,
 * no apt) skips; with CI=true it fails.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vmDoctor, vmRun, vmSetup, VmError, type VmImage } from '../../src/vm/index.js';

const CI = process.env.CI === 'true';

/** pids whose command line mentions `needle` (e.g. a qemu sharing our work dir) */
function processesMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle)) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

const GUEST_CHECKS = `#!/bin/sh
# runs inside the VM (one boot); results go to results.txt in the shared work dir
W=$(dirname "$0")
out="$W/results.txt"
: > "$out"
rec() { printf '%s=%s\\n' "$1" "$2" >> "$out"; }
printf '%s\\0' "$@" > "$W/argv.bin"
printf '%s' "$FOO" > "$W/foo.txt"
rec pwd "$PWD"
rec in_vm "\${NETAB_IN_VM:-}"
rec kernel "$(uname -r)"
rec hostname "$(cat /proc/sys/kernel/hostname)"
rec rmem "$(cat /proc/sys/net/ipv4/tcp_rmem)"
if tc qdisc add dev lo root netem delay 1ms; then rec netem_lo ok; else rec netem_lo fail; fi
rec netem_show "$(tc qdisc show dev lo | head -n1)"
if sysctl -w net.ipv4.tcp_congestion_control=bbr; then rec bbr "$(cat /proc/sys/net/ipv4/tcp_congestion_control)"; else rec bbr fail; fi
ip netns add vmt_a && ip netns add vmt_b &&
  ip link add va netns vmt_a type veth peer name vb netns vmt_b &&
  ip -n vmt_a addr add 198.18.77.1/24 dev va && ip -n vmt_b addr add 198.18.77.2/24 dev vb &&
  ip -n vmt_a link set va up && ip -n vmt_b link set vb up &&
  ip netns exec vmt_a tc qdisc add dev va root netem delay 20ms &&
  ip netns exec vmt_b tc qdisc add dev vb root netem delay 20ms &&
  rec netns ok || rec netns fail
ip netns exec vmt_a ping -n -c 8 -i 0.2 -W 2 198.18.77.2 > "$W/ping.txt" 2>&1
rec ping_exit $?
# a plain modprobe (netab's tuning code runs one) finds the guest kernel's modules
if modprobe tcp_westwood && grep -qw westwood /proc/sys/net/ipv4/tcp_available_congestion_control; then rec modprobe ok; else rec modprobe fail; fi
if touch /usr/netab-vm-ro-test 2>/dev/null; then rec host_root ro_violated; else rec host_root ro; fi
echo vm-test > /etc/netab-vm-overlay-test && rec etc_overlay ok || rec etc_overlay fail
read -r t0 _ < /proc/uptime
node -e 'process.exit(0)'
read -r t1 _ < /proc/uptime
rec node_start "$t0 $t1"
echo "guest checks done"
exit 3
`;

describe('netab run --vm (qemu, stock Debian kernel)', () => {
  let image: VmImage | null = null;
  let work: string;
  const bootSnapshot = existsSync('/boot') ? readdirSync('/boot').sort() : [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'netab-vm-it-'));
    try {
      if (process.getuid?.() !== 0) throw new Error('not root');
      image = await vmSetup({ log: (s) => console.log(`[vm setup] ${s}`) });
    } catch (e) {
      if (CI) throw e;
      console.warn(`skipping VM tests: ${(e as Error).message}`);
    }
  }, 20 * 60_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('runs a script of checks in one boot: real netem, bbr, veth RTT, argv/env/cwd, exit code', async (ctx) => {
    if (!image) return ctx.skip();
    await writeFile(join(work, 'checks.sh'), GUEST_CHECKS);
    const cwd = join(work, 'a dir');
    await mkdir(cwd);
    const args = ['a b', "it's", '$(touch /tmp/netab-pwned)', 'line1\nline2\n', '', '*'];
    let output = '';
    const r = await vmRun(image, ['sh', join(work, 'checks.sh'), ...args], {
      workDir: work,
      cwd,
      env: { FOO: 'x "y" $HOME' },
      timeoutMs: 150_000,
      onOutput: (c) => (output += c),
    });
    const results = Object.fromEntries(
      (await readFile(join(work, 'results.txt'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const ping = await readFile(join(work, 'ping.txt'), 'utf8');
    const [t0, t1] = (results.node_start ?? '0 0').split(' ').map(Number);
    console.log(
      `[vm] boot ${r.bootMs} ms, total ${r.totalMs} ms, accelerator ${r.accelerator}, node start in guest ${Math.round((t1! - t0!) * 1000)} ms`,
    );
    expect(r.exitCode).toBe(3);
    expect(r.kernel).toBe(image.kernelVersion);
    expect(output).toContain('guest checks done');
    expect(results).toMatchObject({
      in_vm: '1',
      kernel: image.kernelVersion,
      hostname: 'netab-vm',
      rmem: '4096\t131072\t33554432',
      netem_lo: 'ok',
      bbr: 'bbr',
      netns: 'ok',
      ping_exit: '0',
      host_root: 'ro',
      etc_overlay: 'ok',
      modprobe: 'ok',
      pwd: cwd,
    });
    expect(results.netem_show).toMatch(/qdisc netem .* delay 1ms/);
    // argv arrive intact (no shell ever sees them), env too
    expect((await readFile(join(work, 'argv.bin'), 'utf8')).split('\0').slice(0, -1)).toEqual(args);
    expect(await readFile(join(work, 'foo.txt'), 'utf8')).toBe('x "y" $HOME');
    expect(existsSync('/tmp/netab-pwned')).toBe(false);
    expect(existsSync('/etc/netab-vm-overlay-test')).toBe(false);
    // 20 ms netem each way: ~40 ms RTT (the first ping pays for ARP and cold caches)
    const rtts = [...ping.matchAll(/time=([\d.]+) ms/g)]
      .map((m) => Number(m[1]))
      .slice(1)
      .sort((a, b) => a - b);
    expect(rtts.length).toBeGreaterThanOrEqual(5);
    const median = rtts[Math.floor(rtts.length / 2)]!;
    console.log(`[vm] veth+netem 20ms/20ms RTTs: ${rtts.join(' ')} (median ${median})`);
    expect(rtts[0]!).toBeGreaterThanOrEqual(39.5);
    expect(rtts[0]!).toBeLessThan(48);
    expect(median).toBeLessThan(55);
  }, 180_000);

  it('abort powers the VM off: no qemu left, nothing mounted, /boot untouched', async (ctx) => {
    if (!image) return ctx.skip();
    const ac = new AbortController();
    const p = vmRun(image, ['sh', '-c', 'echo ready; exec sleep 600'], {
      workDir: work,
      signal: ac.signal,
      timeoutMs: 150_000,
      onOutput: (c) => {
        if (c.includes('ready')) ac.abort(new Error('test abort'));
      },
    });
    await expect(p).rejects.toThrow('test abort');
    expect(processesMentioning(work)).toEqual([]);
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(work);
    expect(existsSync('/boot') ? readdirSync('/boot').sort() : []).toEqual(bootSnapshot);
  }, 180_000);

  it('SIGKILL of `netab run --vm` takes the VM with it (no guest run goes on unattended)', async (ctx) => {
    if (!image) return ctx.skip();
    const out = join(work, 'killed');
    const child = spawn(process.execPath, ['bin/netab.js', 'run', 'scenarios/quickstart.yaml', '--vm', '--out', out], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error('the VM did not start booting')), 60_000);
      child.stderr!.setEncoding('utf8').on('data', (d: string) => {
        if (d.includes('booting kernel')) {
          clearTimeout(t);
          res();
        }
      });
    });
    // qemu is up (its argv names the run directory it shares)
    const qemus = () =>
      processesMentioning(out).filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('qemu-system');
        } catch {
          return false;
        }
      });
    const until = Date.now() + 10_000;
    while (qemus().length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(qemus().length).toBeGreaterThan(0);
    child.kill('SIGKILL');
    const gone = Date.now() + 10_000;
    while (processesMentioning(out).length > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
    expect(processesMentioning(out)).toEqual([]);
  }, 120_000);

  it('enforces the timeout', async (ctx) => {
    if (!image) return ctx.skip();
    const p = vmRun(image, ['sleep', '600'], { workDir: work, timeoutMs: 10_000 });
    await expect(p).rejects.toSatisfy((e: unknown) => e instanceof VmError && e.code === 'timeout');
    expect(processesMentioning(work)).toEqual([]);
  }, 120_000);

  it('doctor reports a ready cache', async (ctx) => {
    if (!image) return ctx.skip();
    const d = await vmDoctor({ cacheDir: image.cacheDir });
    expect(d.ready).toBe(true);
    expect(d.kernelVersion).toBe(image.kernelVersion);
    expect(d.kvm.works).not.toBeNull();
  });
});
