/**
 * A strict JSON validator over the bytes of one results.jsonl line that also finds the line's
 * top-level "series" member, so the reader can parse the record without it (the per-trial series
 * are most of a record's bytes, parse time and heap, and the judge never reads them; the report
 * draws a few). It builds nothing from the input: it only answers where the member lies and the
 * shape of its value (each key's array length). Anything it is not sure about returns null and the
 * caller parses the whole line with JSON.parse as before, so errors and edge cases stay JSON.parse's.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
/** what splitSeries expects next: a value, a key (with its colon), or what follows a value (, ] }) */
const VALUE = 0;
const KEY = 1;
const AFTER = 2;
/** `"series"` as bytes */
const SERIES_KEY = [0x22, 0x73, 0x65, 0x72, 0x69, 0x65, 0x73, 0x22];

export interface SeriesSplit {
  /** the member to cut out (with one adjacent comma), as offsets in the line */
  cutStart: number;
  cutEnd: number;
  /** the member's value (a JSON object), as offsets in the line */
  valueStart: number;
  valueEnd: number;
  /**
   * the value's keys in order, three numbers each: where the key's raw JSON string bytes start and
   * end, and its array length (-1: not an array); flat, so a line costs no object per key
   */
  keys: number[];
}

function ws(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function hex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** b[i] inside the line, -1 at and after its end (the bytes after a line, when it lies in a bigger buffer, are never read as part of it). */
function at(b: Uint8Array, i: number, end: number): number {
  return i < end ? b[i]! : -1;
}

/** A JSON string starting at b[i] === '"': the index after its closing quote, or -1. */
function scanString(b: Uint8Array, i: number, end: number): number {
  i++;
  while (i < end) {
    const c = b[i]!;
    if (c === QUOTE) return i + 1;
    if (c < 0x20) return -1;
    if (c === BACKSLASH) {
      const e = at(b, i + 1, end);
      if (e === 0x75) {
        if (i + 5 >= end || !hex(b[i + 2]!) || !hex(b[i + 3]!) || !hex(b[i + 4]!) || !hex(b[i + 5]!)) return -1;
        i += 6;
      } else if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) i += 2;
      else return -1;
    } else i++; // UTF-8 validity is the decoder's: it never fails, as with toString before JSON.parse
  }
  return -1;
}

function digits(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = b[i]!;
    if (c < 0x30 || c > 0x39) break;
    i++;
  }
  return i;
}

/** A JSON number at b[i]: the index after it, or -1. */
function scanNumber(b: Uint8Array, i: number, end: number): number {
  let c = at(b, i, end);
  if (c === 0x2d) c = at(b, ++i, end);
  if (c === 0x30) i++;
  else if (c >= 0x31 && c <= 0x39) i = digits(b, i + 1, end);
  else return -1;
  c = at(b, i, end);
  if (c === 0x2e) {
    const j = digits(b, i + 1, end);
    if (j === i + 1) return -1;
    i = j;
    c = at(b, i, end);
  }
  if (c === 0x65 || c === 0x45) {
    c = at(b, ++i, end);
    if (c === 0x2b || c === 0x2d) i++;
    const j = digits(b, i, end);
    if (j === i) return -1;
    i = j;
  }
  return i;
}

function literal(b: Uint8Array, i: number, end: number, word: readonly number[]): number {
  if (i + word.length > end) return -1;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word[k]) return -1;
  return i + word.length;
}
const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

function isSeriesKey(b: Uint8Array, start: number, end: number): boolean {
  if (end - start !== SERIES_KEY.length) return false;
  for (let k = 0; k < SERIES_KEY.length; k++) if (b[start + k] !== SERIES_KEY[k]) return false;
  return true;
}

/**
 * Validate b[start, end) as one JSON object (no surrounding whitespace) and find its top-level
 * "series" member when that member's value is an object. null: not valid JSON, not an object, no
 * such member, or a case left to JSON.parse (the key twice).
 */
// Long by design: one iterative pass (an explicit stack, so deep nesting cannot overflow), its state
// in locals (no closures: this runs once per line of a big run, and its bytes are most of the file).
export function splitSeries(b: Uint8Array, start: number, end: number): SeriesSplit | null {
  if (b[start] !== LBRACE || b[end - 1] !== RBRACE) return null;
  const stack: number[] = []; // LBRACE or LBRACKET per open container
  let depth = 0; // stack.length
  let i = start;
  let found = null as SeriesSplit | null;
  let dup = false;
  // state of the top-level member being read, and of the series value's members
  let memberStart = -1; // the comma before the current top-level key, or the key itself
  let inSeries = false;
  let lenAt = -1; // index into found.keys of the length of the series member being read
  let state = VALUE;
  for (;;) {
    while (i < end && ws(b[i]!)) i++;
    if (i >= end) return null;
    const c = b[i]!;
    if (state === AFTER) {
      // a value just ended: expect , ] }
      if (depth === 0) return null; // something after the top-level value
      const top = stack[depth - 1];
      if (c === COMMA) {
        if (depth === 1) memberStart = i;
        i++;
        state = top === LBRACKET ? VALUE : KEY;
        continue;
      }
      if (!((c === RBRACE && top === LBRACE) || (c === RBRACKET && top === LBRACKET))) return null;
      stack.pop();
      depth--;
      i++;
    } else if (state === KEY) {
      if (c !== QUOTE) return null;
      const ks = i;
      i = scanString(b, i, end);
      if (i < 0) return null;
      const ke = i;
      while (i < end && ws(b[i]!)) i++;
      if (at(b, i, end) !== COLON) return null;
      if (depth === 1 && isSeriesKey(b, ks, ke)) {
        if (found || inSeries) dup = true;
        let v = i + 1;
        while (v < end && ws(b[v]!)) v++;
        if (at(b, v, end) === LBRACE && !dup) {
          inSeries = true;
          found = { cutStart: memberStart, cutEnd: -1, valueStart: v, valueEnd: -1, keys: [] };
        }
      } else if (depth === 2 && inSeries && found) {
        found.keys.push(ks, ke, -1);
        lenAt = found.keys.length - 1;
      }
      i++;
      state = VALUE;
      continue;
    } else if (c === LBRACE || c === LBRACKET) {
      // a container value
      if (inSeries && found) {
        if (depth === 3 && stack[2] === LBRACKET) found.keys[lenAt]!++;
        else if (depth === 2 && c === LBRACKET) found.keys[lenAt] = 0;
      }
      stack.push(c);
      depth++;
      i++;
      while (i < end && ws(b[i]!)) i++;
      const d = at(b, i, end);
      if (!((c === LBRACE && d === RBRACE) || (c === LBRACKET && d === RBRACKET))) {
        if (c === LBRACE) {
          if (depth === 1) memberStart = i;
          state = KEY;
        }
        continue;
      }
      // empty: closed at once
      stack.pop();
      depth--;
      i++;
    } else {
      // a scalar value
      let j: number;
      if (inSeries && depth === 3 && stack[2] === LBRACKET && found && (c === 0x2d || (c >= 0x30 && c <= 0x39))) {
        // the bulk of a line: a series array of numbers, read in one tight loop (number, then a comma
        // and the next number, up to the closing bracket, which the general path then closes)
        const keys = found.keys;
        let n = keys[lenAt]! + 1;
        j = scanNumber(b, i, end);
        while (j >= 0) {
          let k = j;
          let d = at(b, k, end);
          if (d !== COMMA) {
            while (k < end && ws(b[k]!)) k++;
            if (at(b, k, end) !== COMMA) break;
          }
          d = at(b, ++k, end);
          if (ws(d)) {
            while (k < end && ws(b[k]!)) k++;
            d = at(b, k, end);
          }
          if (!(d === 0x2d || (d >= 0x30 && d <= 0x39))) break;
          j = scanNumber(b, k, end);
          if (j >= 0) n++;
        }
        keys[lenAt] = n;
      } else {
        if (inSeries && depth === 3 && stack[2] === LBRACKET && found) found.keys[lenAt]!++;
        if (c === QUOTE) j = scanString(b, i, end);
        else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) j = scanNumber(b, i, end);
        else if (c === 0x74) j = literal(b, i, end, TRUE);
        else if (c === 0x66) j = literal(b, i, end, FALSE);
        else if (c === 0x6e) j = literal(b, i, end, NULL);
        else return null;
      }
      if (j < 0) return null;
      i = j;
      state = AFTER;
      continue;
    }
    // a container closed, leaving `depth` open
    state = AFTER;
    if (depth === 0) {
      while (i < end && ws(b[i]!)) i++;
      return i === end && !dup ? found : null;
    }
    if (depth === 1 && inSeries && found && found.valueEnd < 0) {
      // the series value ended: cut the member with the comma before it, or (first member) with the comma after it
      inSeries = false;
      found.valueEnd = i;
      if (b[found.cutStart] === COMMA) found.cutEnd = i;
      else {
        let k = i;
        while (k < end && ws(b[k]!)) k++;
        found.cutEnd = at(b, k, end) === COMMA ? k + 1 : i;
      }
    }
  }
}
