/**
 * Deferred series (src/results/series.ts, jsonscan.ts): the judge and the report read results.jsonl
 * leaving each record's "series" in the file. They must see the same records, the same series when
 * they ask for them, and the same errors as a whole-line JSON.parse; a file changed under them is an
 * InputError naming the line, never other numbers.
 */
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatProblem, type InputError } from '../../src/errors.js';
import { judgeRecords, judgeRun } from '../../src/judge/index.js';
import { splitSeries } from '../../src/results/jsonscan.js';
import { ResultsParser, readResults, readRunDir } from '../../src/results/records.js';
import { loadSeries, seriesLength, seriesShape } from '../../src/results/series.js';
import type { TrialRecord } from '../../src/results/types.js';
import { scratchRuns } from '../helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURE = join(here, '../fixtures/report/run');

const { runCopy } = scratchRuns('netab-series-');

/** a record without its series, for comparing */
function bare(r: TrialRecord): Omit<TrialRecord, 'series'> {
  const { series: _, ...rest } = r;
  return JSON.parse(JSON.stringify(rest));
}

function sameAsFull(full: TrialRecord[], deferred: TrialRecord[]): void {
  expect(deferred.map(bare)).toEqual(full.map(bare));
  expect(loadSeries(deferred)).toEqual(full.map((r) => r.series));
  expect(deferred.map((r) => (seriesShape(r) ? [...seriesShape(r)!] : null))).toEqual(
    full.map((r) => (r.series ? Object.entries(r.series).map(([k, v]) => [k, Array.isArray(v) ? v.length : -1]) : null)),
  );
}

describe('results.jsonl with the series left in the file', () => {
  it('the fixture: the same records, the same series on demand, the same verdict', () => {
    const d = runCopy();
    const full = readRunDir(d);
    const deferred = readRunDir(d, { deferSeries: true });
    expect(deferred.records.some((r) => r.series !== undefined)).toBe(false);
    sameAsFull(full.records, deferred.records);
    expect(seriesLength(deferred.records[0]!, 'goodput')).toBe(full.records[0]!.series!.goodput!.length);
    expect(seriesLength(deferred.records[0]!, 'nope')).toBe(-1);
    const now = { now: '2025-01-01T00:00:00.000Z' };
    expect(judgeRun(d, now)).toEqual({ ...judgeRecords(full.manifest, full.records, now), reasons: expect.any(Array) });
  });

  it('odd but valid lines read the same as JSON.parse reads them', () => {
    const base = { type: 'trial', scenario: 'a', pair: 0, arm: 'control', status: 'ok', metrics: { x: 1 } };
    const rec = (pair: number, extra: string, before = false) => {
      const body = JSON.stringify({ ...base, pair }).slice(1, -1);
      return before ? `{${extra},${body}}` : `{${body},${extra}}`;
    };
    const lines = [
      rec(0, '"series":{"t":[1,2],"v":[3,4]}', true),
      rec(1, ' "series" : { "t" : [ 1 , 2 ] , "v" : [ ] } '.trim()),
      rec(2, '"series":{"t":[1,[2,3],{"x":[1]}],"u":{"v":[1]},"w":5,"s":"}]\\"["}'),
      rec(3, '"series":{"a":[1]},"series":{"b":[2,3]}'),
      rec(4, '"series":5,"series":{"b":[2,3]}'),
      rec(5, '"series":{"b":[1]},"\\u0073eries":{"c":[2]}'),
      rec(6, '"series":[1,2]'),
      rec(7, '"series":null'),
      rec(8, '"series":{"é":[1,2,3],"\\u00e9x":[1],"__proto__":[1,2],"constructor":[7]}'),
      rec(9, '"note":"\\"series\\":{}","series":{"k\\"q":[1e5,-0.5E-3,0,-0]}'),
      rec(10, '"series":{}'),
      rec(11, '"extra":{"series":{"z":[1]}}'),
    ];
    const d = runCopy();
    const text = `${lines.join('\n')}\n`;
    writeFileSync(join(d, 'results.jsonl'), text);
    const full = readResults(d).records;
    const deferred = readResults(d, { deferSeries: true }).records;
    expect(full).toHaveLength(lines.length);
    sameAsFull(full, deferred);
    // the same when the file arrives one byte at a time (offsets across chunks)
    const st = statSync(join(d, 'results.jsonl'));
    const p = new ResultsParser({ deferSeries: { path: join(d, 'results.jsonl'), dev: st.dev, ino: st.ino } });
    const b = Buffer.from(text);
    for (let i = 0; i < b.length; i++) p.feed(b.subarray(i, i + 1));
    sameAsFull(full, p.end().records);
  });

  it('the scanner agrees with JSON.parse on mutated lines: never accepts what JSON.parse refuses', () => {
    const src = readFileSync(join(FIXTURE, 'results.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, 20);
    const bits = [
      '{',
      '}',
      '[',
      ']',
      ',',
      ':',
      '"',
      '\\',
      ' ',
      '0',
      '-',
      '.',
      'e',
      '+',
      't',
      'n',
      'x',
      '"series":{}',
      '\\u0073',
      'é',
      '\u0001',
    ];
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    let split = 0;
    for (let it = 0; it < 20000; it++) {
      let s = src[Math.floor(rnd() * src.length)]!;
      for (let m = 0; m < 1 + Math.floor(rnd() * 3); m++) {
        const at = Math.floor(rnd() * (s.length + 1));
        const bit = bits[Math.floor(rnd() * bits.length)]!;
        const r = rnd();
        s =
          r < 0.33
            ? s.slice(0, at) + s.slice(at + 1)
            : r < 0.66
              ? s.slice(0, at) + bit + s.slice(at)
              : s.slice(0, at) + bit + s.slice(at + 1);
      }
      const b = Buffer.from(s);
      const cut = splitSeries(b, 0, b.length);
      // the reader scans a line where it lies in a chunk: what follows it must change nothing
      const tail = Buffer.from(bits[Math.floor(rnd() * bits.length)]!);
      const inChunk = Buffer.concat([Buffer.from('\n{'), b, tail, Buffer.from('\n')]);
      expect(splitSeries(inChunk, 2, 2 + b.length)).toEqual(
        cut && {
          ...cut,
          cutStart: cut.cutStart + 2,
          cutEnd: cut.cutEnd + 2,
          valueStart: cut.valueStart + 2,
          valueEnd: cut.valueEnd + 2,
          keys: cut.keys.map((k, q) => (q % 3 === 2 ? k : k + 2)),
        },
      );
      if (!cut) continue;
      let whole: Record<string, unknown>;
      try {
        whole = JSON.parse(s);
      } catch {
        throw new Error(`accepted a line JSON.parse refuses: ${s}`);
      }
      const rest = JSON.parse(b.toString('utf8', 0, cut.cutStart) + b.toString('utf8', cut.cutEnd));
      if (Object.hasOwn(rest, 'series')) continue; // the reader leaves this one to JSON.parse
      split++;
      expect({ ...rest, series: JSON.parse(b.toString('utf8', cut.valueStart, cut.valueEnd)) }).toEqual(whole);
    }
    expect(split).toBeGreaterThan(1000);
  });

  it('a damaged line is the same located error as before', () => {
    const d = runCopy();
    const lines = readFileSync(join(d, 'results.jsonl'), 'utf8').split('\n');
    lines[3] = lines[3]!.replace('"series":{', '"series":{,');
    writeFileSync(join(d, 'results.jsonl'), lines.join('\n'));
    const message = (o: { deferSeries?: boolean }) => {
      try {
        readRunDir(d, o);
      } catch (e) {
        return (e as InputError).problems.map(formatProblem).join('\n');
      }
      return 'no error';
    };
    expect(message({ deferSeries: true })).toBe(message({}));
    expect(message({})).toMatch(/results\.jsonl:4:1: not valid JSON/);
  });

  it('results.jsonl changed after the read: appended is fine, rewritten or replaced is an InputError naming the line', () => {
    const d = runCopy();
    const file = join(d, 'results.jsonl');
    const text = readFileSync(file, 'utf8');
    const recs = readRunDir(d, { deferSeries: true }).records;
    writeFileSync(file, text + text.split('\n')[0]!.replace('"attempt":1', '"attempt":2') + '\n');
    expect(loadSeries(recs.slice(0, 2))[1]).toEqual(JSON.parse(text.split('\n')[1]!).series);
    // the same bytes shifted by one: the series of line 1 no longer parse
    writeFileSync(file, ` ${text}`);
    expect(() => loadSeries(recs.slice(0, 1))).toThrow(/results\.jsonl:1:1: was rewritten while netab was reading it/);
    const other = join(d, 'other.jsonl');
    writeFileSync(other, text);
    renameSync(other, file);
    expect(() => loadSeries(recs.slice(3, 4))).toThrow(/results\.jsonl:4:1: was replaced while netab was reading it/);
  });

  it('judge then report in one process parse results.jsonl once; a rewrite in between is read afresh', () => {
    const d = runCopy();
    const file = join(d, 'results.jsonl');
    const first = readRunDir(d, { deferSeries: true }).records;
    const second = readRunDir(d, { deferSeries: true }).records;
    expect(second[0]).toBe(first[0]); // handed over, not parsed again
    expect(second).not.toBe(first);
    expect(readRunDir(d, { deferSeries: true }).records[0]).not.toBe(first[0]); // handed over once only
    // the same size, one metric changed in place: parsed again
    const text = readFileSync(file, 'utf8');
    const v = first[0]!.metrics.goodput!;
    readRunDir(d, { deferSeries: true });
    const changed = text.replace(`"goodput":${v}`, `"goodput":${String(v).replace(/\d$/, (x) => String((Number(x) + 1) % 10))}`);
    expect(changed.length).toBe(text.length);
    expect(changed).not.toBe(text);
    writeFileSync(file, changed);
    expect(readRunDir(d, { deferSeries: true }).records[0]!.metrics.goodput).not.toBe(v);
  });

  it('a file last changed over 2 s before the read is handed over by its stamp; a same-size rewrite is read afresh', () => {
    const d = runCopy();
    const file = join(d, 'results.jsonl');
    const text = readFileSync(file, 'utf8');
    // older than RACY_NS (2 s): the stamp alone decides (the sha-256 pass is for fresher files)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2100);
    const first = readRunDir(d, { deferSeries: true }).records;
    expect(readRunDir(d, { deferSeries: true }).records[0]).toBe(first[0]);
    readRunDir(d, { deferSeries: true });
    const v = first[0]!.metrics.goodput!;
    const changed = text.replace(`"goodput":${v}`, `"goodput":${String(v).replace(/\d$/, (x) => String((Number(x) + 1) % 10))}`);
    expect(changed.length).toBe(text.length);
    writeFileSync(file, changed);
    const again = readRunDir(d, { deferSeries: true }).records;
    expect(again[0]).not.toBe(first[0]);
    expect(again[0]!.metrics.goodput).not.toBe(v);
  });
});
