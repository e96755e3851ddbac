/** POSIX shell quoting for generated scripts: every value goes through shQuote, whatever validated it. */

const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One shell word: unchanged when it is plainly safe, otherwise single-quoted ('\'' for a quote). */
export function shQuote(v: string | number): string {
  const s = String(v);
  if (s.includes('\0')) throw new Error('shQuote: a NUL byte cannot be passed to a shell');
  return s !== '' && PLAIN.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Text safe inside a `#` comment: one line, control characters replaced. */
export function comment(text: string): string {
  let out = '';
  for (const ch of text) out += ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f ? ' ' : ch;
  return out;
}
