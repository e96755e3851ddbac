/**
 * Schema parts for names, free-text labels and sysctls: the values that reach paths, reports and
 * the kernel, so each is held to a safe set (see README "Input rules").
 */
import { z } from 'zod/v4';
import { FORBIDDEN_KEYS } from './source.js';

export const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const SAFE_NAME_RULE = '1-64 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit';
export function safeNameProblem(v: string): string | null {
  if (!SAFE_NAME.test(v))
    return `must be ${SAFE_NAME_RULE} (it becomes part of file names and ids; got ${JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}...` : v)})`;
  if (FORBIDDEN_KEYS.has(v)) return `"${v}" is a reserved word`;
  return null;
}
export const SafeName = z.string().check((ctx) => {
  const p = safeNameProblem(ctx.value);
  if (p) ctx.issues.push({ code: 'custom', message: p, input: ctx.value });
});

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL_BUT_NEWLINE_TAB = /[\u0000-\u0008\u000b-\u001f\u007f]/;
/** a free-text label shown in reports: at most max characters, no control characters */
export const label = (max: number, multiline = false) =>
  z
    .string()
    .max(max, { message: `at most ${max} characters` })
    .refine((v) => !(multiline ? CONTROL_BUT_NEWLINE_TAB : CONTROL).test(v), {
      message: multiline ? 'no control characters (other than newline and tab)' : 'no control characters',
    });

export const CongestionControl = z.enum(['cubic', 'bbr', 'reno']);

/** sysctl keys netab applies: net.ipv4.tcp_*, net.core.* and net.ipv4.ip_local_port_range, in lowercase dotted form */
export const SYSCTL_KEY = /^net\.(ipv4\.tcp_[a-z0-9_]+|core\.[a-z0-9_]+|ipv4\.ip_local_port_range)$/;
/** sysctls whose value is a name, with the names accepted */
export const SYSCTL_NAMES: Readonly<Record<string, readonly string[]>> = Object.assign(
  Object.create(null) as Record<string, readonly string[]>,
  {
    'net.ipv4.tcp_congestion_control': CongestionControl.options,
    'net.core.default_qdisc': ['pfifo_fast', 'pfifo', 'bfifo', 'fq', 'fq_codel', 'fq_pie', 'sfq', 'cake', 'noqueue'],
  },
);
const FASTOPEN_KEY = /^[0-9a-fA-F]{8}(-[0-9a-fA-F]{8}){3}(,[0-9a-fA-F]{8}(-[0-9a-fA-F]{8}){3})?$/;
const SYSCTL_INTS = /^-?[0-9]{1,20}([ \t]+-?[0-9]{1,20})*$/;
export const SYSCTL_VALUE_MAX = 256;

/** Why a sysctl value cannot be written to the key as given, or null. */
export function sysctlValueProblem(key: string, v: unknown): string | null {
  if (typeof v === 'boolean') return null;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? null : `must be an integer (got ${v})`;
  if (typeof v !== 'string') return 'must be an integer, integers separated by spaces, or a name';
  if (v.length > SYSCTL_VALUE_MAX) return `is ${v.length} characters long: at most ${SYSCTL_VALUE_MAX}`;
  if (CONTROL.test(v.replace(/\t/g, ' '))) return 'must not contain control characters (newlines, NUL, escapes)';
  const t = v.trim();
  const names = Object.hasOwn(SYSCTL_NAMES, key) ? SYSCTL_NAMES[key]! : undefined;
  if (names) return names.includes(t) ? null : `must be one of ${names.join(', ')} (got ${JSON.stringify(v)})`;
  if (key === 'net.ipv4.tcp_fastopen_key')
    return FASTOPEN_KEY.test(t)
      ? null
      : 'must be 32 hex digits as xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx (optionally a second key after a comma)';
  if (SYSCTL_INTS.test(t)) return null;
  return `must be an integer or integers separated by spaces, as the kernel reads this key (got ${JSON.stringify(v)})`;
}

export const SysctlKey = z.string().max(128).regex(SYSCTL_KEY, {
  message:
    'only net.ipv4.tcp_*, net.core.* and net.ipv4.ip_local_port_range sysctls (lowercase, dotted) are per-namespace tunables netab applies',
});
export const Sysctls = z.record(SysctlKey, z.union([z.string(), z.number(), z.boolean()])).superRefine((rec, ctx) => {
  for (const k of Object.keys(rec)) {
    const p = sysctlValueProblem(k, rec[k]);
    if (p) ctx.addIssue({ code: 'custom', path: [k], message: p, input: rec[k] });
  }
});
