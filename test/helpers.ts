/**
 * Prerequisites of integration tests. Outside CI a missing prerequisite skips the suite (a laptop
 * without root can still run the unit tests); under CI=true it fails the suite instead.
 */
import { execFileSync } from 'node:child_process';

export function missingPrereqs(tools: string[] = ['ip', 'tc', 'iperf3', 'ethtool', 'ss']): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  for (const t of tools) {
    try {
      execFileSync('sh', ['-c', 'command -v "$1"', 'sh', t], { stdio: 'ignore' });
    } catch {
      missing.push(t);
    }
  }
  return missing;
}

/** true = run the suite; throws under CI when something is missing. */
export function requirePrereqs(tools?: string[]): boolean {
  const m = missingPrereqs(tools);
  if (m.length === 0) return true;
  if (process.env.CI) throw new Error(`integration prerequisites missing under CI: ${m.join(', ')}`);
  return false;
}

export function netabNamespaces(): string[] {
  const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.split(/\s+/)[0]!)
    .filter((n) => /^nb-[0-9a-f]{6}-/.test(n));
}
