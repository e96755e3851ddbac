/**
 * The run directory layer (src/results): one format check and one results.jsonl policy for run,
 * resume, judge, report and merge; atomic writes that never follow a link; new run directories
 * created exclusively inside the output folder. The last block spawns the built CLI on damaged run
 * directories: exit 2, a one-line message naming the file (and line), no stack trace.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { EnvError, formatProblem, InputError } from '../../src/errors.js';
import { judgeRun, readRun } from '../../src/judge/index.js';
import { loadRunDir } from '../../src/report/load.js';
import { writeFileAtomic } from '../../src/results/files.js';
import { mergeRuns } from '../../src/results/merge.js';
import { LIMITS, readManifest, readVerdict } from '../../src/results/rundir.js';
import { parseResultsText, readResults, readRunDir } from '../../src/results/records.js';
import { checkMergeOutput, checkOutDir, createRunDir, runDirPath, runDirStem, safeName } from '../../src/results/create.js';
import { readRecords, RunStore } from '../../src/results/store.js';
import type { RunManifest, TrialRecord } from '../../src/results/types.js';
import { netabCli, scratchRuns } from '../helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURE = join(here, '../fixtures/report/run');
const ROOT = join(process.cwd());

const { tmp, runCopy } = scratchRuns('netab-results-');
let n = 0;
function fresh(name = 'd'): string {
  const d = join(tmp, `${name}${++n}`);
  mkdirSync(d);
  return d;
}

/** The one-line message of a NetabError thrown by fn (fails the test if nothing or something else is thrown). */
function thrown(fn: () => unknown): { cls: string; text: string; problems: InputError['problems'] } {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return { cls: 'InputError', text: e.problems.map(formatProblem).join('\n'), problems: e.problems };
    if (e instanceof EnvError) return { cls: 'EnvError', text: e.message, problems: [] };
    throw e;
  }
  throw new Error('expected an error, nothing was thrown');
}

const fixtureLines = readFileSync(join(FIXTURE, 'results.jsonl'), 'utf8').split('\n').filter(Boolean);
const L1 = fixtureLines[0]!;
const L2 = fixtureLines[1]!;
const L3 = fixtureLines[2]!;

describe('manifest.json: one format check', () => {
  const cases: Array<[string, (d: string) => void, RegExp]> = [
    ['missing', (d) => unlinkSync(join(d, 'manifest.json')), /manifest\.json: not found: .* is not a netab run directory$/],
    ['empty', (d) => writeFileSync(join(d, 'manifest.json'), ''), /manifest\.json: is empty: it should hold the run manifest$/],
    ['whitespace only', (d) => writeFileSync(join(d, 'manifest.json'), ' \n\t\n'), /manifest\.json: is empty/],
    ['null', (d) => writeFileSync(join(d, 'manifest.json'), 'null'), /manifest\.json: holds null, not the run manifest \(a JSON object\)$/],
    ['an array', (d) => writeFileSync(join(d, 'manifest.json'), '[1]'), /manifest\.json: holds an array, not the run manifest/],
    ['a string', (d) => writeFileSync(join(d, 'manifest.json'), '"netab-run/1"'), /manifest\.json: holds a string, not the run manifest/],
    [
      'no format',
      (d) => writeFileSync(join(d, 'manifest.json'), '{"runId":"r"}'),
      /manifest\.json: format: missing: not a netab run manifest \(expected "netab-run\/1"\)$/,
    ],
    [
      'another format version',
      (d) => writeFileSync(join(d, 'manifest.json'), '{"format":"netab-run/2"}'),
      /manifest\.json: format: "netab-run\/2" is not a format this netab reads \(netab-run\/1\)/,
    ],
    [
      'a directory',
      (d) => (unlinkSync(join(d, 'manifest.json')), mkdirSync(join(d, 'manifest.json'))),
      /manifest\.json: is a directory, not a file$/,
    ],
    [
      'scenarios not a list',
      (d) => writeFileSync(join(d, 'manifest.json'), JSON.stringify({ format: 'netab-run/1', runId: 'r', seed: 1, scenarios: null })),
      /manifest\.json: scenarios: must be a list of scenarios \(got null\)$/,
    ],
    [
      'a scenario without an id',
      (d) =>
        writeFileSync(
          join(d, 'manifest.json'),
          JSON.stringify({ format: 'netab-run/1', runId: 'r', seed: 1, scenarios: [{ id: 'a' }, { name: 'b' }] }),
        ),
      /manifest\.json: scenarios\[1\]\.id: must be a non-empty string \(got undefined\)$/,
    ],
    [
      'judge.metrics not a list',
      (d) =>
        writeFileSync(
          join(d, 'manifest.json'),
          JSON.stringify({ format: 'netab-run/1', runId: 'r', seed: 1, scenarios: [{ id: 'a', judge: { metrics: 'goodput' } }] }),
        ),
      /manifest\.json: scenarios\[0\]\.judge\.metrics: must be a list \(got a string\)$/,
    ],
    [
      'seed missing',
      (d) => writeFileSync(join(d, 'manifest.json'), JSON.stringify({ format: 'netab-run/1', runId: 'r', scenarios: [] })),
      /manifest\.json: seed: must be a number \(got undefined\)$/,
    ],
  ];
  for (const [name, damage, re] of cases) {
    it(`${name}: InputError naming manifest.json`, () => {
      const d = runCopy();
      damage(d);
      const e = thrown(() => readManifest(d));
      expect(e.cls).toBe('InputError');
      expect(e.text.split('\n')).toHaveLength(1);
      expect(e.text).toMatch(re);
      expect(e.problems[0]!.file).toBe(join(d, 'manifest.json'));
    });
  }

  it('invalid JSON: located at line:col, without the file text in the message', () => {
    const d = runCopy();
    writeFileSync(join(d, 'manifest.json'), '{\n  "format": "netab-run/1",\n  "seed": 1,\n}\n');
    const e = thrown(() => readManifest(d));
    expect(e.text).toBe(`${join(d, 'manifest.json')}:4:1: is not valid JSON (Expected double-quoted property name)`);
  });

  it('a symbolic link is not followed, even to a valid manifest', () => {
    const d = runCopy();
    const real = join(tmp, `real-manifest${++n}.json`);
    cpSync(join(d, 'manifest.json'), real);
    unlinkSync(join(d, 'manifest.json'));
    symlinkSync(real, join(d, 'manifest.json'));
    expect(thrown(() => readManifest(d)).text).toMatch(
      /manifest\.json: is a symbolic link; netab does not follow links inside a run directory/,
    );
  });

  it('a FIFO does not hang the reader', () => {
    const d = runCopy();
    unlinkSync(join(d, 'manifest.json'));
    execFileSync('mkfifo', [join(d, 'manifest.json')]);
    const t0 = Date.now();
    expect(thrown(() => readManifest(d)).text).toMatch(/manifest\.json: is a FIFO, not a regular file$/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('larger than the limit: refused before reading it', () => {
    const d = runCopy();
    const keep = LIMITS.manifestBytes;
    LIMITS.manifestBytes = 1000;
    try {
      expect(thrown(() => readManifest(d)).text).toMatch(
        /manifest\.json: is 8834 bytes, more than the 1000 bytes netab reads for this file$/,
      );
    } finally {
      LIMITS.manifestBytes = keep;
    }
  });

  it('the run directory itself: missing, or a file', () => {
    expect(thrown(() => readManifest(join(tmp, 'nope'))).text).toBe(`${join(tmp, 'nope')}: no such run directory`);
    const f = join(tmp, `file${++n}`);
    writeFileSync(f, 'x');
    expect(thrown(() => readManifest(f)).text).toBe(`${f}: is not a directory: give a run directory (it holds manifest.json)`);
  });

  it('a link to a run directory is fine (the user named it); the fixture reads', () => {
    const d = runCopy();
    const link = join(tmp, `link${++n}`);
    symlinkSync(d, link);
    expect(readManifest(link).scenarios).toHaveLength(3);
  });
});

describe('results.jsonl: one policy', () => {
  const src = 'results.jsonl';

  it('a cut-short last line is skipped with a warning; everything before it is kept', () => {
    const r = parseResultsText(`${L1}\n${L2}\n{"type":"trial","scen`);
    expect(r.records.map((x) => x.trial)).toEqual([JSON.parse(L1).trial, JSON.parse(L2).trial]);
    expect(r.warnings).toEqual(['results.jsonl: ignored a truncated last line (21 bytes), left by an interrupted write.']);
  });

  it('a complete last record without its newline is kept (no warning)', () => {
    const r = parseResultsText(`${L1}\n${L2}`);
    expect(r.records).toHaveLength(2);
    expect(r.warnings).toEqual([]);
  });

  it('blank lines are ignored', () => {
    expect(parseResultsText(`\n${L1}\n\n  \n${L2}\n\n`).records).toHaveLength(2);
  });

  const bad: Array<[string, string, string]> = [
    [
      'garbage mid-file',
      `${L1}\nnot json\n${L2}\n`,
      `${src}:2:1: not valid JSON (Unexpected token 'o'); only a cut-short last line is tolerated: remove or repair line 2`,
    ],
    [
      'garbage on the last line, newline-terminated (not a torn write)',
      `${L1}\n${L2}\n{"type":\n`,
      `${src}:3:1: not valid JSON (it ends in the middle of a value (cut short?)); only a cut-short last line is tolerated: remove or repair line 3`,
    ],
    [
      'a torn line followed by more appends',
      `${L1}\n{"type":"tri${L2}\n`,
      `${src}:2:1: not valid JSON (Expected ',' or '}' after property value); only a cut-short last line is tolerated: remove or repair line 2`,
    ],
    ['null', `${L1}\nnull\n`, `${src}:2:1: holds null, not a trial record (a JSON object)`],
    ['an array', `[1,2]\n${L1}\n`, `${src}:1:1: holds an array, not a trial record (a JSON object)`],
    ['no type', `${L1}\n{"scenario":"a"}\n`, `${src}:2:1: has no "type": not a netab record`],
    [
      'a bad arm',
      `${L1.replace('"arm":"canary"', '"arm":"both"')}\n`,
      `${src}:1:1: bad trial record: arm must be "control" or "canary" (got "both")`,
    ],
    ['a bad pair', `${L1.replace('"pair":0', '"pair":-1')}\n`, `${src}:1:1: bad trial record: pair must be a whole number ≥ 0 (got -1)`],
    ['no status', `${L1.replace('"status":"ok",', '')}\n`, `${src}:1:1: bad trial record: status must be "ok" or "failed" (got nothing)`],
    [
      'a metric as a string',
      `${L1.replace('"goodput":99.3568', '"goodput":"fast"')}\n`,
      `${src}:1:1: bad trial record: metric "goodput" must be a number or null (got a string)`,
    ],
    [
      'the same trial twice in one attempt',
      `${L1}\n${L2}\n${L1}\n`,
      `${src}:3:1: repeats trial grid[delay=10ms,loss=0%]#0-canary of line 1 in the same attempt (results appended twice?)`,
    ],
  ];
  for (const [name, text, msg] of bad) {
    it(`${name}: InputError naming the line`, () => {
      const e = thrown(() => parseResultsText(text));
      expect(e.cls).toBe('InputError');
      expect(e.text).toBe(msg);
    });
  }

  it('a later attempt or a replacement round may repeat a trial (the judge keeps the latest)', () => {
    const again = JSON.stringify({ ...JSON.parse(L1), attempt: 2 });
    const r1 = JSON.stringify({ ...JSON.parse(L1), extra: { replacement: { round: 1, reason: 'x' } } });
    const r2 = JSON.stringify({ ...JSON.parse(L1), extra: { replacement: { round: 2, reason: 'x' } } });
    expect(parseResultsText(`${L1}\n${again}\n${r1}\n${r2}\n`).records).toHaveLength(4);
    expect(thrown(() => parseResultsText(`${L1}\n${r1}\n${r1}\n`)).text).toBe(
      'results.jsonl:3:1: repeats trial grid[delay=10ms,loss=0%]#0-canary of line 2 in the same attempt (results appended twice?)',
    );
  });

  it('other record kinds are ignored (room for them), trial records normalised', () => {
    const noWarm = JSON.stringify({ ...JSON.parse(L1), warmup: undefined, metrics: undefined });
    const r = parseResultsText(`{"type":"note","text":"hi"}\n${noWarm}\n`);
    expect(r.records).toHaveLength(1);
    expect(r.records[0]!.warmup).toBe(false);
    expect(r.records[0]!.metrics).toEqual({});
  });

  it('a line longer than the limit is refused while reading, not after', () => {
    expect(thrown(() => parseResultsText(`{"type":"note"}\n${'x'.repeat(300)}\n`, { lineBytes: 200 })).text).toBe(
      `${src}:2:1: longer than 200 bytes: not a trial record netab wrote`,
    );
  });

  it('the same records whether fed at once or one byte at a time (stream boundaries)', async () => {
    const { ResultsParser } = await import('../../src/results/records.js');
    const text = `${L1}\n${L2}\n${L3}\n{"type":"tr`;
    const p = new ResultsParser();
    const b = Buffer.from(text);
    for (let i = 0; i < b.length; i++) p.feed(b.subarray(i, i + 1));
    const r = p.end();
    expect(r.records).toEqual(parseResultsText(text).records);
    expect(r.warnings).toEqual(['results.jsonl: ignored a truncated last line (11 bytes), left by an interrupted write.']);
  });

  it('in a run directory: file:line in the message, a trial of an unknown scenario refused', () => {
    const d = runCopy();
    const lines = readFileSync(join(d, 'results.jsonl'), 'utf8').split('\n');
    lines[5] = lines[5]!
      .replace('"scenario":"grid[delay=10ms,loss=0%]"', '"scenario":"other"')
      .replace(/"trial":"[^"]*"/, '"trial":"other#2-canary"');
    writeFileSync(join(d, 'results.jsonl'), lines.join('\n'));
    expect(thrown(() => readRunDir(d)).text).toBe(
      `${join(d, 'results.jsonl')}:6:1: a trial of scenario "other", which manifest.json does not list`,
    );
  });

  it('in a run directory: missing is a warning, a directory or a link is an error', () => {
    const d = runCopy();
    unlinkSync(join(d, 'results.jsonl'));
    expect(readRunDir(d).warnings).toEqual(['results.jsonl is missing: no trial was recorded.']);
    mkdirSync(join(d, 'results.jsonl'));
    expect(thrown(() => readRunDir(d)).text).toBe(`${join(d, 'results.jsonl')}: is a directory, not a file`);
    rmSync(join(d, 'results.jsonl'), { recursive: true });
    symlinkSync(join(FIXTURE, 'results.jsonl'), join(d, 'results.jsonl'));
    expect(thrown(() => readRunDir(d)).text).toMatch(/results\.jsonl: is a symbolic link; netab does not follow links/);
  });

  it('judge, report, resume and merge read the same: a mid-file garbage line stops each of them', async () => {
    const d = runCopy();
    const lines = readFileSync(join(d, 'results.jsonl'), 'utf8').split('\n');
    lines.splice(10, 0, '{"garbage"');
    writeFileSync(join(d, 'results.jsonl'), lines.join('\n'));
    const expected = `${join(d, 'results.jsonl')}:11:1: not valid JSON (Expected ':' after property name); only a cut-short last line is tolerated: remove or repair line 11`;
    expect(thrown(() => readRun(d)).text).toBe(expected);
    expect(thrown(() => judgeRun(d)).text).toBe(expected);
    expect(thrown(() => readRecords(d)).text).toBe(expected);
    expect(thrown(() => readResults(d)).text).toBe(expected);
    await expect(loadRunDir(d)).rejects.toThrow(expected);
  });

  it('judge and report name a torn last line the same way', async () => {
    const d = runCopy();
    writeFileSync(join(d, 'results.jsonl'), readFileSync(join(d, 'results.jsonl'), 'utf8') + '{"type":"trial","sc');
    const w = 'results.jsonl: ignored a truncated last line (19 bytes), left by an interrupted write.';
    expect(readRun(d).warnings).toEqual([w]);
    expect((await loadRunDir(d)).warnings).toEqual([w]);
    expect(readRun(d).records).toHaveLength(126);
  });
});

describe('verdict.json', () => {
  it('missing: judge the run first; null / other format: refused', () => {
    const d = runCopy();
    expect(readVerdict(d).decision).toBe('rollback');
    writeFileSync(join(d, 'verdict.json'), 'null');
    expect(thrown(() => readVerdict(d)).text).toBe(`${join(d, 'verdict.json')}: holds null, not the verdict (a JSON object)`);
    writeFileSync(join(d, 'verdict.json'), '{"format":"netab-verdict/0"}');
    expect(thrown(() => readVerdict(d)).text).toMatch(
      /verdict\.json: format: "netab-verdict\/0" is not a format this netab reads \(netab-verdict\/1\); re-judge the run/,
    );
    writeFileSync(join(d, 'verdict.json'), '{"format":"netab-verdict/1","decision":"ship it"}');
    expect(thrown(() => readVerdict(d)).text).toBe(`${join(d, 'verdict.json')}: decision: must be promote, hold or rollback`);
    unlinkSync(join(d, 'verdict.json'));
    expect(thrown(() => readVerdict(d)).text).toBe(`${join(d, 'verdict.json')}: not found: judge the run first (\`netab judge DIR\`)`);
  });
});

describe('writing: atomic, never through a link', () => {
  it('writeFileAtomic replaces the content and leaves no temp file', () => {
    const d = fresh();
    writeFileAtomic(join(d, 'a.json'), 'one');
    writeFileAtomic(join(d, 'a.json'), 'two');
    expect(readFileSync(join(d, 'a.json'), 'utf8')).toBe('two');
    expect(readdirSync(d)).toEqual(['a.json']);
  });

  it('refuses a symlinked target; the link target is untouched', () => {
    const d = fresh();
    const victim = join(tmp, `victim${++n}`);
    writeFileSync(victim, 'precious');
    symlinkSync(victim, join(d, 'verdict.json'));
    expect(thrown(() => writeFileAtomic(join(d, 'verdict.json'), 'x')).text).toMatch(
      /verdict\.json: is a symbolic link; .*: netab will not replace it$/,
    );
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(lstatSync(join(d, 'verdict.json')).isSymbolicLink()).toBe(true);
    expect(readdirSync(d)).toEqual(['verdict.json']);
  });

  it('refuses a directory as the target', () => {
    const d = fresh();
    mkdirSync(join(d, 'report.html'));
    expect(thrown(() => writeFileAtomic(join(d, 'report.html'), 'x')).text).toBe(
      `${join(d, 'report.html')}: is a directory, not a file: netab will not replace it`,
    );
  });

  it('RunStore.append refuses a symlinked results.jsonl; the target is untouched', () => {
    const d = fresh();
    const victim = join(tmp, `victim${++n}`);
    writeFileSync(victim, 'precious\n');
    const store = RunStore.create(d);
    symlinkSync(victim, join(d, 'results.jsonl'));
    expect(thrown(() => store.append(JSON.parse(L1) as TrialRecord)).text).toMatch(/results\.jsonl: is a symbolic link/);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    store.close();
  });

  it('RunStore writes manifest, records and telemetry that the reader accepts', () => {
    const d = join(tmp, `new${++n}`);
    const store = RunStore.create(d);
    const m = JSON.parse(readFileSync(join(FIXTURE, 'manifest.json'), 'utf8')) as RunManifest;
    store.writeManifest(m);
    for (const l of fixtureLines.slice(0, 4)) store.append(JSON.parse(l) as TrialRecord);
    store.writeTelemetry('a/../../b#1-canary', { x: 1 });
    store.close();
    expect(readRunDir(d).records).toHaveLength(4);
    expect(readdirSync(join(d, 'telemetry'))).toEqual(['a_.._.._b#1-canary.json']);
    expect(readdirSync(d).sort()).toEqual(['manifest.json', 'results.jsonl', 'telemetry']);
  });
});

describe('run directories: created exclusively, always inside the output folder', () => {
  it('safeName keeps one safe path segment', () => {
    expect(safeName('../../../../tmp/x')).toBe('tmp_x');
    expect(safeName('quickstart')).toBe('quickstart');
    expect(safeName('edge suite: β')).toBe('edge_suite');
    expect(safeName('..')).toBe('run');
    expect(safeName('')).toBe('run');
    expect(safeName('.hidden')).toBe('hidden');
    expect(safeName('a'.repeat(100))).toHaveLength(64);
    expect(runDirStem({ name: '../evil', shard: { index: 2, count: 3 } })).toBe('evil-shard2of3');
    expect(runDirPath('reports', '../../../../tmp/x', new Date('2025-01-02T03:04:05.678Z'))).toBe('reports/tmp_x-20250102-030405');
  });

  it('createRunDir: a hostile suite name stays inside the root; the same second gets -2', () => {
    const root = join(tmp, `reports${++n}`);
    const when = new Date('2025-01-02T03:04:05Z');
    const a = createRunDir(root, '../../../../tmp/x', when);
    const b = createRunDir(root, '../../../../tmp/x', when);
    const realRoot = realpathSync(root);
    expect(a).toBe(join(realRoot, 'tmp_x-20250102-030405'));
    expect(b).toBe(join(realRoot, 'tmp_x-20250102-030405-2'));
    expect(readdirSync(realRoot).sort()).toEqual(['tmp_x-20250102-030405', 'tmp_x-20250102-030405-2']);
    expect(existsSync('/tmp/x-20250102-030405')).toBe(false);
  });

  it('--out: missing is created, empty is accepted, non-empty / a file / a link refused', () => {
    const d = fresh();
    checkOutDir(join(d, 'new'));
    expect(existsSync(join(d, 'new'))).toBe(false); // the check creates nothing
    expect(RunStore.create(join(d, 'new', 'deeper')).dir).toBe(join(realpathSync(d), 'new', 'deeper'));
    mkdirSync(join(d, 'empty'));
    expect(RunStore.create(join(d, 'empty')).dir).toBe(join(realpathSync(d), 'empty'));
    const full = runCopy();
    const msg = `${full}: is not empty: use --resume DIR to continue it or choose another folder`;
    expect(thrown(() => checkOutDir(full)).text).toBe(msg);
    expect(thrown(() => RunStore.create(full)).text).toBe(msg);
    writeFileSync(join(d, 'file'), 'x');
    expect(thrown(() => RunStore.create(join(d, 'file'))).text).toBe(
      `${join(d, 'file')}: exists and is not a directory: choose another folder`,
    );
    symlinkSync(join(d, 'empty'), join(d, 'link'));
    expect(thrown(() => RunStore.create(join(d, 'link'))).text).toBe(`${join(d, 'link')}: is a symbolic link: give the folder itself`);
  });

  it('resume cuts a torn last line before appending, so the next read is clean', () => {
    const d = runCopy();
    const good = readFileSync(join(d, 'results.jsonl'), 'utf8');
    writeFileSync(join(d, 'results.jsonl'), good + '{"type":"trial","sc');
    const store = RunStore.resume(d);
    expect(store.repaired).toBe('results.jsonl: removed a truncated last line (19 bytes) left by the interrupted attempt');
    expect(readFileSync(join(d, 'results.jsonl'), 'utf8')).toBe(good);
    store.append({ ...(JSON.parse(L1) as TrialRecord), attempt: 2 });
    store.close();
    const r = readRunDir(d);
    expect(r.records).toHaveLength(127);
    expect(r.warnings).toEqual([]);
  });

  it('resume keeps a complete last record that only lost its newline', () => {
    const d = runCopy();
    const good = readFileSync(join(d, 'results.jsonl'), 'utf8');
    writeFileSync(join(d, 'results.jsonl'), good.slice(0, -1));
    const store = RunStore.resume(d);
    expect(store.repaired).toBe(null);
    expect(readFileSync(join(d, 'results.jsonl'), 'utf8')).toBe(good);
    store.close();
  });
});

function shard(dir: string, index: number, count: number, ids: string[], all: string[], extraLines = ''): void {
  mkdirSync(join(dir, 'telemetry'), { recursive: true });
  const m = {
    format: 'netab-run/1',
    runId: `r${index}`,
    netabVersion: '0.1.0',
    createdAt: 'x',
    command: [],
    sourceFile: 's',
    seed: 1,
    backend: 'netns',
    aa: false,
    environment: { kernel: 'k', hostname: 'h', node: 'v20', netem: false },
    scenarios: ids.map((id) => ({ id, name: id, params: {}, hash: `h-${id}`, scenario: {}, judge: { alpha: 0.05, metrics: [] } })),
    suite: { name: 'x', hash: 'H', files: [], scenarioIds: all, shard: { index, count } },
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
  const recs = ids.map((id) => ({
    type: 'trial',
    scenario: id,
    trial: `${id}#0-control`,
    pair: 0,
    arm: 'control',
    status: 'ok',
    attempt: 1,
  }));
  writeFileSync(join(dir, 'results.jsonl'), recs.map((r) => JSON.stringify(r)).join('\n') + '\n' + extraLines);
  for (const id of ids) writeFileSync(join(dir, 'telemetry', `${id}#0-control.json`), '{}\n');
}

describe('merge through the layer', () => {
  function two(): { root: string; s1: string; s2: string } {
    const root = fresh('merge');
    shard(join(root, 's1'), 1, 2, ['a', 'c'], ['a', 'b', 'c']);
    shard(join(root, 's2'), 2, 2, ['b'], ['a', 'b', 'c']);
    return { root, s1: join(root, 's1'), s2: join(root, 's2') };
  }

  it('an output that is an input, a link to one, or inside one is refused; nothing is written', () => {
    const { root, s1, s2 } = two();
    const before = readFileSync(join(s1, 'results.jsonl'), 'utf8');
    expect(thrown(() => mergeRuns([s1, s2], s1)).text).toBe(`${s1}: is one of the inputs ${s1}: merge into a new folder`);
    symlinkSync(s2, join(root, 'alias'));
    expect(thrown(() => mergeRuns([s1, s2], join(root, 'alias'))).text).toBe(
      `${join(root, 'alias')}: is one of the inputs ${s2}: merge into a new folder`,
    );
    expect(thrown(() => mergeRuns([s1, s2], join(root, 'alias', 'sub'))).text).toBe(
      `${join(root, 'alias', 'sub')}: is inside the input ${s2}: merge into a new folder`,
    );
    expect(thrown(() => checkMergeOutput([join(root, 'alias')], s2)).cls).toBe('InputError');
    expect(readFileSync(join(s1, 'results.jsonl'), 'utf8')).toBe(before);
    expect(existsSync(join(s2, 'sub'))).toBe(false);
  });

  it('a non-empty output is refused (appending would double the results)', () => {
    const { root, s1, s2 } = two();
    mergeRuns([s1, s2], join(root, 'out'));
    expect(thrown(() => mergeRuns([s1, s2], join(root, 'out'))).text).toBe(
      `${join(root, 'out')}: is not empty: use --resume DIR to continue it or choose another folder`,
    );
    expect(readRecords(join(root, 'out'))).toHaveLength(3);
  });

  it('a garbage line mid-file in a shard: refused, naming shard file and line; no output created', () => {
    const { root, s1, s2 } = two();
    const lines = readFileSync(join(s2, 'results.jsonl'), 'utf8');
    writeFileSync(join(s2, 'results.jsonl'), `garbage\n${lines}`);
    expect(thrown(() => mergeRuns([s1, s2], join(root, 'out'))).text).toBe(
      `${join(s2, 'results.jsonl')}:1:1: not valid JSON (Unexpected token 'g'); only a cut-short last line is tolerated: remove or repair line 1`,
    );
    expect(existsSync(join(root, 'out'))).toBe(false);
  });

  it('a torn last line in a shard is carried into the merged run and named by the judge', () => {
    const root = fresh('merge');
    shard(join(root, 's1'), 1, 2, ['a', 'c'], ['a', 'b', 'c'], '{"type":"tri');
    shard(join(root, 's2'), 2, 2, ['b'], ['a', 'b', 'c']);
    const m = mergeRuns([join(root, 's2'), join(root, 's1')], join(root, 'out'));
    const w = 'shard 1/2: results.jsonl: ignored a truncated last line (12 bytes), left by an interrupted write.';
    expect(m.suite!.mergeWarnings).toEqual([w]);
    const r = readRunDir(join(root, 'out'));
    expect(r.warnings).toEqual([w]);
    expect(r.records.map((x) => x.scenario)).toEqual(['a', 'c', 'b']);
    expect(readdirSync(join(root, 'out', 'telemetry')).sort()).toEqual(['a#0-control.json', 'b#0-control.json', 'c#0-control.json']);
  });

  it('a symlinked telemetry file in a shard is refused, not copied', () => {
    const { root, s1, s2 } = two();
    symlinkSync('/etc/hostname', join(s2, 'telemetry', 'z.json'));
    expect(thrown(() => mergeRuns([s1, s2], join(root, 'out'))).text).toMatch(
      /telemetry\/z\.json: is a symbolic link; netab does not follow links/,
    );
    expect(existsSync(join(root, 'out'))).toBe(false);
  });
});

// ------------------------------------------------------------------------------------------------
// The built CLI on damaged run directories

const BUILT = existsSync(join(ROOT, 'dist', 'results', 'rundir.js'));

describe('CLI on damaged run directories: exit 2, one line naming the file, no stack trace', () => {
  beforeAll(() => {
    if (!BUILT) throw new Error('dist/ is missing or predates src/results/rundir.ts: run `npx tsc -p tsconfig.json` first');
  });

  type Case = { name: string; damage: (d: string) => void; first: (d: string) => RegExp };
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // run --resume prints its one line as "netab: <message>"
  const at = (d: string, f: string, rest: string) => new RegExp(`^(netab: )?${esc(join(d, f))}${rest}`);
  const damaged: Case[] = [
    { name: 'missing manifest', damage: (d) => unlinkSync(join(d, 'manifest.json')), first: (d) => at(d, 'manifest.json', ': not found') },
    {
      name: 'empty manifest',
      damage: (d) => writeFileSync(join(d, 'manifest.json'), ''),
      first: (d) => at(d, 'manifest.json', ': is empty'),
    },
    {
      name: 'null manifest',
      damage: (d) => writeFileSync(join(d, 'manifest.json'), 'null'),
      first: (d) => at(d, 'manifest.json', ': holds null'),
    },
    {
      name: 'other format version',
      damage: (d) => writeFileSync(join(d, 'manifest.json'), '{"format":"netab-run/9"}'),
      first: (d) => at(d, 'manifest.json', ': format: "netab-run/9" is not a format'),
    },
    {
      name: 'manifest is a directory',
      damage: (d) => (unlinkSync(join(d, 'manifest.json')), mkdirSync(join(d, 'manifest.json'))),
      first: (d) => at(d, 'manifest.json', ': is a directory, not a file'),
    },
    {
      name: 'manifest is a symlink',
      damage: (d) => (unlinkSync(join(d, 'manifest.json')), symlinkSync(join(FIXTURE, 'manifest.json'), join(d, 'manifest.json'))),
      first: (d) => at(d, 'manifest.json', ': is a symbolic link'),
    },
    {
      name: 'garbage line mid-file',
      damage: (d) => writeFileSync(join(d, 'results.jsonl'), `${L1}\n%%garbage%%\n${L2}\n`),
      first: (d) => at(d, 'results.jsonl', ':2:1: not valid JSON'),
    },
    {
      name: 'results.jsonl is a directory',
      damage: (d) => (unlinkSync(join(d, 'results.jsonl')), mkdirSync(join(d, 'results.jsonl'))),
      first: (d) => at(d, 'results.jsonl', ': is a directory, not a file'),
    },
    {
      name: 'results.jsonl is a symlink',
      damage: (d) => (unlinkSync(join(d, 'results.jsonl')), symlinkSync(join(FIXTURE, 'results.jsonl'), join(d, 'results.jsonl'))),
      first: (d) => at(d, 'results.jsonl', ': is a symbolic link'),
    },
    {
      name: 'results appended twice',
      damage: (d) => writeFileSync(join(d, 'results.jsonl'), readFileSync(join(FIXTURE, 'results.jsonl'), 'utf8').repeat(2)),
      first: (d) => at(d, 'results.jsonl', ':127:1: repeats trial'),
    },
  ];
  const reportOnly: Case[] = [
    {
      name: 'missing verdict',
      damage: (d) => unlinkSync(join(d, 'verdict.json')),
      first: (d) => at(d, 'verdict.json', ': not found: judge the run first'),
    },
    {
      name: 'null verdict',
      damage: (d) => writeFileSync(join(d, 'verdict.json'), 'null'),
      first: (d) => at(d, 'verdict.json', ': holds null'),
    },
    {
      name: 'verdict is a directory',
      damage: (d) => (unlinkSync(join(d, 'verdict.json')), mkdirSync(join(d, 'verdict.json'))),
      first: (d) => at(d, 'verdict.json', ': is a directory, not a file'),
    },
  ];
  reportOnly.push({
    name: 'report.html is a symlink (the report writes it)',
    damage: (d) => {
      const victim = join(tmp, `victim${++n}`);
      writeFileSync(victim, 'precious');
      symlinkSync(victim, join(d, 'report.html'));
    },
    first: (d) => at(d, 'report.html', ': is a symbolic link'),
  });
  const judgeOnly: Case[] = [
    {
      name: 'verdict.json is a symlink (judge writes it)',
      damage: (d) => {
        const victim = join(tmp, `victim${++n}`);
        writeFileSync(victim, 'precious');
        unlinkSync(join(d, 'verdict.json'));
        symlinkSync(victim, join(d, 'verdict.json'));
      },
      first: (d) => at(d, 'verdict.json', ': is a symbolic link'),
    },
  ];

  async function expectClean(args: string[], first: RegExp): Promise<void> {
    const r = await netabCli(args, { timeoutMs: 30_000, env: { ...process.env, NETAB_IN_VM: '' } });
    const lines = r.stderr.trim().split('\n');
    expect({ status: r.status, first: lines[0] }).toEqual({ status: 2, first: expect.stringMatching(first) });
    expect(lines.length).toBeLessThanOrEqual(2); // the message, and at most one summary line
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }

  for (const c of [...damaged, ...judgeOnly]) {
    it(`judge: ${c.name}`, async () => {
      const d = runCopy();
      c.damage(d);
      await expectClean(['judge', d], c.first(d));
    });
  }
  for (const c of [...damaged, ...reportOnly]) {
    it(`report: ${c.name}`, async () => {
      const d = runCopy();
      c.damage(d);
      await expectClean(['report', d], c.first(d));
    });
  }
  for (const c of damaged) {
    it(`run --resume: ${c.name}`, async () => {
      const d = runCopy();
      c.damage(d);
      await expectClean(['run', '--resume', d], c.first(d));
    });
  }
  for (const c of damaged) {
    it(`merge: ${c.name} in a shard`, async () => {
      const d = runCopy();
      c.damage(d);
      const out = join(tmp, `mout${++n}`);
      await expectClean(['merge', d, '--out', out], c.first(d));
      expect(existsSync(out)).toBe(false);
    });
  }

  it('merge X --out X, and via a link: refused', async () => {
    const root = fresh('merge');
    shard(join(root, 's1'), 1, 1, ['a'], ['a']);
    await expectClean(
      ['merge', join(root, 's1'), '--out', join(root, 's1')],
      new RegExp(`^${esc(join(root, 's1'))}: is one of the inputs`),
    );
    symlinkSync(join(root, 's1'), join(root, 'l'));
    await expectClean(['merge', join(root, 's1'), '--out', join(root, 'l')], new RegExp(`^${esc(join(root, 'l'))}: is one of the inputs`));
    expect(readFileSync(join(root, 's1', 'results.jsonl'), 'utf8').split('\n')).toHaveLength(2);
  });

  it('judge / report on a missing folder or a file', async () => {
    await expectClean(['judge', join(tmp, 'nowhere')], new RegExp(`^${esc(join(tmp, 'nowhere'))}: no such run directory$`));
    const f = join(tmp, `plain${++n}`);
    writeFileSync(f, 'x');
    await expectClean(['report', f], new RegExp(`^${esc(f)}: is not a directory`));
  });
});
