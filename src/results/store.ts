/** The run directory: manifest.json (atomic rewrites) and results.jsonl (append + fsync per trial). */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { RunManifest, TrialRecord } from './types.js';

export class RunStore {
  private fd: number | null = null;

  constructor(public readonly dir: string) {
    mkdirSync(join(dir, 'telemetry'), { recursive: true });
  }

  writeManifest(m: RunManifest): void {
    const f = join(this.dir, 'manifest.json');
    writeFileSync(f + '.tmp', JSON.stringify(m, null, 2) + '\n');
    renameSync(f + '.tmp', f);
  }

  append(rec: TrialRecord): void {
    this.fd ??= openSync(join(this.dir, 'results.jsonl'), 'a');
    writeSync(this.fd, JSON.stringify(rec) + '\n');
    fsyncSync(this.fd);
  }

  writeTelemetry(trialId: string, data: unknown): void {
    const safe = trialId.replace(/[^\w.#=,[\]-]+/g, '_');
    writeFileSync(join(this.dir, 'telemetry', `${safe}.json`), JSON.stringify(data) + '\n');
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

export function readManifest(dir: string): RunManifest {
  const f = join(dir, 'manifest.json');
  if (!existsSync(f)) throw new Error(`${dir} is not a netab run directory (no manifest.json)`);
  return JSON.parse(readFileSync(f, 'utf8')) as RunManifest;
}

/** Records of a run; a torn last line (crash mid-write) is ignored. */
export function readRecords(dir: string): TrialRecord[] {
  const f = join(dir, 'results.jsonl');
  if (!existsSync(f)) return [];
  const out: TrialRecord[] = [];
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as TrialRecord);
    } catch {
      /* torn line */
    }
  }
  return out;
}
