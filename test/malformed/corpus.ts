/**
 * A corpus of malformed scenario and suite files: every one must be refused with exit 2, a located
 * message per problem, no stack trace, quickly and in little memory (issue #13).
 *
 *   npx vite-node test/malformed/generate.ts OUT_DIR     writes the corpus and prints one line per case
 *
 * Each case starts from a valid scenario (BASE, checked valid by the test) and breaks one thing.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface CorpusCase {
  id: string;
  category: string;
  /** the path handed to the loader / `netab validate` */
  target: string;
  /** false: the file cannot be read at all (FIFO, device, too big, not UTF-8): the message names the file only */
  located: boolean;
}

type Obj = Record<string, unknown>;

/** A valid scenario: every case changes one thing in it. */
export function baseScenario(): Obj {
  return {
    name: 'base',
    topology: 'dumbbell',
    links: { bottleneck: { delay: '20ms', rate: '50mbit', forward: { loss: '1%' } } },
    endpoints: { sysctls: { 'net.ipv4.tcp_rmem': '4096 131072 33554432' } },
    control: { cc: 'cubic' },
    canary: { cc: 'bbr', sysctls: { 'net.ipv4.tcp_ecn': 1 }, route: { initcwnd: 30 } },
    workload: { type: 'bulk', duration: '2s' },
    trials: { pairs: 6, warmup: 1, timeout: '30s' },
    judge: { alpha: 0.05, metrics: { goodput: { margin: '2%' } } },
    fidelity: { enabled: true, rtt_tolerance: '1ms' },
  };
}

const DELETE = Symbol('delete');
/** text spliced into the YAML as written (numbers YAML cannot express from JS, tags, anchors) */
class Raw {
  constructor(readonly text: string) {}
}
const raw = (t: string) => new Raw(t);

/** set path (keys; own properties only, any key name allowed) to value in a deep copy */
function mutate(doc: Obj, path: string[], value: unknown): Obj {
  const out = structuredClone(doc);
  let cur = out;
  for (const k of path.slice(0, -1)) {
    const next = Object.hasOwn(cur, k) ? cur[k] : undefined;
    if (next === null || typeof next !== 'object' || Array.isArray(next))
      Object.defineProperty(cur, k, { value: {}, enumerable: true, writable: true, configurable: true });
    cur = cur[k] as Obj;
  }
  const last = path[path.length - 1]!;
  if (value === DELETE) delete cur[last];
  else Object.defineProperty(cur, last, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

/** YAML text of a document whose values may hold Raw splices */
function toYaml(doc: unknown): string {
  const raws: string[] = [];
  const swap = (v: unknown): unknown => {
    if (v instanceof Raw) {
      raws.push(v.text);
      return `RAWSPLICE${raws.length - 1}X`;
    }
    if (Array.isArray(v)) return v.map(swap);
    if (v && typeof v === 'object') {
      const o: Obj = {};
      for (const k of Object.keys(v))
        Object.defineProperty(o, k, { value: swap((v as Obj)[k]), enumerable: true, writable: true, configurable: true });
      return o;
    }
    return v;
  };
  let text = stringify(swap(doc), { lineWidth: 0 });
  raws.forEach((r, i) => {
    text = text.replace(`RAWSPLICE${i}X`, () => r);
  });
  return text;
}

/** deterministic bytes */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FORBIDDEN = ['__proto__', 'constructor', 'prototype'];
const DIGITS400 = '9'.repeat(400);

export function generateCorpus(root: string): CorpusCase[] {
  mkdirSync(root, { recursive: true });
  const cases: CorpusCase[] = [];
  const ids = new Set<string>();
  const add = (category: string, id: string, target: string, located = true) => {
    if (ids.has(id)) throw new Error(`duplicate corpus id ${id}`);
    ids.add(id);
    cases.push({ id, category, target, located });
  };
  const file = (category: string, id: string, content: string | Buffer) => {
    const f = join(root, `${id}.yaml`);
    writeFileSync(f, content);
    add(category, id, f);
  };
  const scen = (category: string, id: string, doc: Obj) => file(category, id, toYaml(doc));
  const mut = (category: string, id: string, path: string, value: unknown) =>
    scen(category, id, mutate(baseScenario(), path.split('/'), value));
  const B = baseScenario;
  /** a suite folder: suite.yaml (text) plus scenario files */
  const suite = (
    category: string,
    id: string,
    suiteText: string,
    files: Record<string, string> = { 'a.yaml': toYaml(mutate(B(), ['name'], `${id}-a`)) },
  ) => {
    const dir = join(root, id);
    mkdirSync(dir, { recursive: true });
    for (const [n, t] of Object.entries(files)) writeFileSync(join(dir, n), t);
    writeFileSync(join(dir, 'suite.yaml'), suiteText);
    add(category, id, join(dir, 'suite.yaml'));
  };

  // ------------------------------------------------------------------ the reproducer and variants
  file(
    'proto',
    'proto-reproducer',
    'canary: { cc: bbr, sysctls: { net.ipv4.tcp_ecn: "1; id -un > PWNED #" } }\nmatrix: { __proto__.shell: [true] }\ntopology: dumbbell\ncontrol: { cc: cubic }\nworkload: { type: bulk }\n',
  );
  file(
    'proto',
    'proto-reproducer-bare',
    'canary: { cc: bbr, sysctls: { net.ipv4.tcp_ecn: "1; id -un > PWNED #" } }\nmatrix: { __proto__.shell: [true] }\n',
  );
  file('proto', 'proto-constructor-prototype', toYaml(mutate(B(), ['matrix'], { 'constructor.prototype.shell': [true] })));
  file('proto', 'proto-quoted-key', `${toYaml(B())}matrix: { "__proto__.env": [{ PATH: /tmp }] }\n`);
  file('proto', 'proto-flow-json', `${toYaml(B())}x: {"__proto__": {"shell": true}}\n`);
  file('proto', 'proto-anchor', toYaml(mutate(B(), ['links'], raw('{ bottleneck: &b { delay: 20ms, __proto__: { shell: true } } }'))));
  file(
    'proto',
    'proto-alias',
    `${toYaml(mutate(B(), ['canary', 'route'], raw('&r { initcwnd: 30 }')))}judge: { metrics: { constructor: *r } }\n`,
  );

  // ------------------------------------------------------------------ forbidden keys in every place
  for (const w of FORBIDDEN) {
    const s = w.replace(/_/g, '');
    const places: [string, string, unknown][] = [
      ['top', w, { shell: true }],
      ['links', `links/${w}`, { delay: '1ms' }],
      ['link-field', `links/bottleneck/${w}`, { shell: true }],
      ['direction', `links/bottleneck/forward/${w}`, '1%'],
      ['gemodel', `links/bottleneck/forward/loss`, { gemodel: { p: '1%', [w]: '2%' } }],
      ['profile', `canary/${w}`, { shell: true }],
      ['sysctl-key', `canary/sysctls/${w}`, 1],
      ['sysctl-dotted', `canary/sysctls/net.ipv4.${w}`, 1],
      ['endpoint-sysctl', `endpoints/sysctls/net.core.${w}`, 1],
      ['route', `canary/route/${w}`, 1],
      ['metric', `judge/metrics/${w}`, false],
      ['metric-field', `judge/metrics/goodput/${w}`, { shell: true }],
      ['workload', `workload/${w}`, 1],
      ['docker', `docker`, { sender: { image: 'x:1', [w]: 1 } }],
      ['trials', `trials/${w}`, 1],
      ['fidelity', `fidelity/${w}`, 1],
      ['cross', `cross_traffic`, { on: { mean: '1s', [w]: 1 } }],
      ['matrix-first', `matrix`, { [`${w}.shell`]: [true] }],
      ['matrix-link', `matrix`, { [`links.${w}.delay`]: ['1ms'] }],
      ['matrix-mid', `matrix`, { [`canary.${w}.x`]: [1] }],
      ['matrix-alone', `matrix`, { [w]: [1] }],
      ['matrix-value', `matrix`, { 'links.bottleneck': [{ [w]: { delay: '1ms' } }] }],
      ['list-item', `workload`, { type: 'fct', sizes: [{ size: '1KB', weight: 1, [w]: 1 }] }],
    ];
    for (const [place, path, value] of places) {
      // computed keys named __proto__ are real keys in an object literal's [w] form
      mut('proto', `proto-${s}-${place}`, path, value);
    }
    suite('proto-suite', `suite-proto-${s}-defaults`, `name: s\nfiles: [a.yaml]\ndefaults:\n  ${w}: { shell: true }\n`, {
      'a.yaml': toYaml(B()),
    });
    suite(
      'proto-suite',
      `suite-proto-${s}-defaults-canary`,
      `name: s\nfiles: [a.yaml]\ndefaults:\n  canary: { cc: bbr, ${w}: { shell: true } }\n`,
      { 'a.yaml': toYaml(B()) },
    );
    suite('proto-suite', `suite-proto-${s}-top`, `name: s\nfiles: [a.yaml]\n${w}: { shell: true }\n`, { 'a.yaml': toYaml(B()) });
    suite('proto-suite', `suite-proto-${s}-metrics`, `name: s\nfiles: [a.yaml]\ndefaults:\n  judge: { metrics: { ${w}: false } }\n`, {
      'a.yaml': toYaml(B()),
    });
    mut('proto', `proto-${s}-name`, 'name', w);
  }

  // ------------------------------------------------------------------ unit garbage
  const unitFields: [string, string][] = [
    ['links/bottleneck/delay', 'ms'],
    ['links/bottleneck/jitter', 'ms'],
    ['workload/duration', 's'],
    ['workload/omit', 's'],
    ['workload/interval', 'ms'],
    ['trials/timeout', 's'],
    ['canary/route/rto_min', 'ms'],
    ['fidelity/rtt_tolerance', 'ms'],
    ['fidelity/lateness_suspect', 'ms'],
    ['links/bottleneck/rate', 'mbit'],
    ['links/bottleneck/forward/rate', 'kbit'],
    ['links/bottleneck/forward/loss', '%'],
    ['links/bottleneck/duplicate', '%'],
    ['links/bottleneck/corrupt', '%'],
    ['links/bottleneck/jitter_correlation', '%'],
    ['judge/max_failed', '%'],
    ['fidelity/rate_tolerance', '%'],
    ['fidelity/cpu_suspect', '%'],
    ['judge/metrics/goodput/margin', '%'],
    ['links/bottleneck/buffer', 'KB'],
  ];
  const garbage = (u: string): unknown[] => [
    'fast',
    '20 parsecs',
    20,
    `1e3${u}`,
    `NaN${u}`,
    `Infinity${u}`,
    `0x10${u}`,
    `½${u}`,
    `1${u}; rm -rf /`,
    '',
    true,
    [1],
    { a: 1 },
    null,
    `-5${u}`,
    `${u}${u}`,
  ];
  unitFields.forEach(([path, u], fi) => {
    const g = garbage(u);
    // six values per field, rotating so every kind of garbage meets several fields
    for (let k = 0; k < 6; k++) {
      const gi = (fi * 3 + k) % g.length;
      mut('units', `unit-${path.split('/').slice(-2).join('-')}-${gi}`, path, g[gi]);
    }
  });

  // ------------------------------------------------------------------ Infinity, NaN, huge numbers
  const numericFields = [
    'trials/pairs',
    'trials/warmup',
    'seed',
    'judge/alpha',
    'judge/min_pairs',
    'canary/route/initcwnd',
    'fidelity/samples',
    'judge/metrics/retrans/margin',
    'canary/sysctls/net.ipv4.tcp_ecn',
  ];
  const bigValues: [string, Raw][] = [
    ['inf', raw('.inf')],
    ['neginf', raw('-.inf')],
    ['nan', raw('.nan')],
    ['e400', raw('1e400')],
    ['d400', raw(DIGITS400)],
  ];
  for (const f of numericFields) for (const [n, v] of bigValues) mut('huge', `huge-${f.split('/').pop()}-${n}`, f, v);
  for (const [f, u] of [
    ['links/bottleneck/delay', 'ms'],
    ['links/bottleneck/rate', 'mbit'],
    ['links/bottleneck/buffer', 'KB'],
    ['links/bottleneck/forward/loss', '%'],
    ['workload/duration', 's'],
    ['trials/timeout', 's'],
  ] as const) {
    mut('huge', `huge-unit-${f.split('/').pop()}-400`, f, `${DIGITS400}${u}`);
    mut('huge', `huge-unit-${f.split('/').pop()}-60`, f, `1${'0'.repeat(60)}${u}`);
  }
  mut('huge', 'huge-buffer-packets-400', 'links/bottleneck/buffer', `${DIGITS400}p`);
  mut('huge', 'huge-buffer-bdp-400', 'links/bottleneck/buffer', `${DIGITS400}bdp`);
  mut('huge', 'huge-sizes-weight', 'workload', { type: 'fct', sizes: [{ size: '1KB', weight: raw('1e400') }] });

  // ------------------------------------------------------------------ zero and negative values
  const zeroes: [string, string, unknown][] = [
    ['rate-0mbit', 'links/bottleneck/rate', '0mbit'],
    ['rate-0', 'links/bottleneck/rate', 0],
    ['pairs-0', 'trials/pairs', 0],
    ['pairs-neg', 'trials/pairs', -1],
    ['warmup-neg', 'trials/warmup', -1],
    ['duration-0', 'workload/duration', '0s'],
    ['duration-0-bare', 'workload/duration', 0],
    ['timeout-0', 'trials/timeout', '0ms'],
    ['interval-0', 'workload/interval', '0ms'],
    ['delay-neg', 'links/bottleneck/delay', '-5ms'],
    ['flows-0', 'workload/flows', 0],
    ['initcwnd-0', 'canary/route/initcwnd', 0],
    ['rto-min-0', 'canary/route/rto_min', '0ms'],
    ['alpha-0', 'judge/alpha', 0],
    ['alpha-neg', 'judge/alpha', -0.1],
    ['margin-0pct', 'judge/metrics/goodput/margin', '0%'],
    ['margin-neg', 'judge/metrics/retrans/margin', -0.1],
    ['margin-abs-0', 'judge/metrics/retrans/margin', 0],
    ['buffer-0KB', 'links/bottleneck/buffer', '0KB'],
    ['buffer-0p', 'links/bottleneck/buffer', '0p'],
    ['buffer-0bdp', 'links/bottleneck/buffer', '0bdp'],
    ['seed-neg', 'seed', -1],
    ['samples-0', 'fidelity/samples', 0],
    ['rtt-tolerance-0', 'fidelity/rtt_tolerance', '0ms'],
    ['lateness-0', 'fidelity/lateness_suspect', '0ms'],
    ['min-pairs-1', 'judge/min_pairs', 1],
  ];
  for (const [n, p, v] of zeroes) mut('zero', `zero-${n}`, p, v);
  mut('zero', 'zero-fct-size', 'workload', { type: 'fct', size: '0B' });
  mut('zero', 'zero-fct-size-fraction', 'workload', { type: 'fct', size: '0.4B' });
  mut('zero', 'zero-rr-count', 'workload', { type: 'rr', count: 0 });
  mut('zero', 'zero-pageload-objects', 'workload', { type: 'pageload', objects: [] });
  mut('zero', 'zero-compete-duration', 'workload', { type: 'compete', duration: '0s' });
  mut('zero', 'zero-cross-on', 'cross_traffic', { on: { mean: '0ms' } });
  mut('zero', 'zero-weight', 'workload', { type: 'fct', sizes: [{ size: '1KB', weight: 0 }] });

  // ------------------------------------------------------------------ out of range
  const ranges: [string, string, unknown][] = [
    ['delay-11s', 'links/bottleneck/delay', '11s'],
    ['jitter-10001ms', 'links/bottleneck/jitter', '10001ms'],
    ['rate-101gbit', 'links/bottleneck/rate', '101gbit'],
    ['rate-1tbit', 'links/bottleneck/rate', '1tbit'],
    ['rate-1bit', 'links/bottleneck/rate', '1bit'],
    ['buffer-2GB', 'links/bottleneck/buffer', '2GB'],
    ['buffer-1Mp', 'links/bottleneck/buffer', '1000000p'],
    ['buffer-1001bdp', 'links/bottleneck/buffer', '1001bdp'],
    ['buffer-half-packet', 'links/bottleneck/buffer', '1.5p'],
    ['duration-3601s', 'workload/duration', '3601s'],
    ['timeout-2h', 'trials/timeout', '7200s'],
    ['omit-2h', 'workload/omit', '7200s'],
    ['pairs-10001', 'trials/pairs', 10001],
    ['pairs-float', 'trials/pairs', 6.5],
    ['warmup-101', 'trials/warmup', 101],
    ['loss-101', 'links/bottleneck/forward/loss', '101%'],
    ['rto-min-121s', 'canary/route/rto_min', '121s'],
    ['alpha-0.5', 'judge/alpha', 0.5],
    ['alpha-0.9', 'judge/alpha', 0.9],
    ['initcwnd-1001', 'canary/route/initcwnd', 1001],
    ['flows-65', 'workload/flows', 65],
    ['margin-100pct', 'judge/metrics/goodput/margin', '100%'],
    ['margin-150pct', 'judge/metrics/goodput/margin', '150%'],
    ['margin-abs-1', 'judge/metrics/retrans/margin', 1],
    ['margin-abs-5', 'judge/metrics/retrans/margin', 5],
    ['margin-relative-linear', 'judge/metrics/retrans/margin', '2%'],
    ['min-pairs-over-pairs', 'judge/min_pairs', 7],
    ['looks-1', 'judge', { sequential: true, looks: 1 }],
    ['samples-huge', 'fidelity/samples', 1000000],
    ['rtt-tolerance-11s', 'fidelity/rtt_tolerance', '11s'],
    ['shape-1', 'cross_traffic', { on: { mean: '1s', shape: 1 } }],
    ['port-70000', 'workload', { type: 'http', port: 70000 }],
  ];
  for (const [n, p, v] of ranges) mut('range', `range-${n}`, p, v);
  mut('range', 'range-fct-size-2GB', 'workload', { type: 'fct', size: '2GB' });
  mut('range', 'range-bdp-resolved', 'links/bottleneck', { delay: '10s', rate: '100gbit' });
  mut('range', 'range-reorder-no-delay', 'links/bottleneck', { rate: '10mbit', reorder: '1%' });
  mut('range', 'range-buffer-no-rate', 'links/bottleneck', { delay: '10ms', buffer: '1bdp' });

  // ------------------------------------------------------------------ wrong types
  const types: [string, string, unknown][] = [
    ['topology-number', 'topology', 5],
    ['topology-list', 'topology', ['a']],
    ['topology-missing-file', 'topology', 'no-such-topology'],
    ['topology-dev-zero', 'topology', '/dev/zero'],
    ['topology-dir', 'topology', '/tmp/'],
    ['topology-control-char', 'topology', 'dumb\u0001bell'],
    ['control-string', 'control', 'cubic'],
    ['canary-list', 'canary', []],
    ['canary-missing', 'canary', DELETE],
    ['workload-string', 'workload', 'bulk'],
    ['workload-type', 'workload/type', 'ftp'],
    ['workload-missing-type', 'workload/type', DELETE],
    ['trials-number', 'trials', 10],
    ['metrics-list', 'judge/metrics', ['goodput']],
    ['links-list', 'links', ['bottleneck']],
    ['link-string', 'links/bottleneck', '20ms'],
    ['sysctls-string', 'canary/sysctls', 'net.ipv4.tcp_ecn=1'],
    ['quickack-string', 'canary/route/quickack', 'yes'],
    ['apply-to', 'canary/apply_to', 'everyone'],
    ['cc-bbr2', 'canary/cc', 'bbr2'],
    ['cc-shell', 'canary/cc', '$(reboot)'],
    ['congctl-bad', 'canary/route/congctl', 'vegas'],
    ['fidelity-enabled-string', 'fidelity/enabled', 'true'],
    ['matrix-list', 'matrix', ['a']],
    ['matrix-scalar-value', 'matrix', { 'links.bottleneck.delay': '10ms' }],
    ['matrix-empty-list', 'matrix', { 'links.bottleneck.delay': [] }],
    ['name-number', 'name', 5],
    ['name-list', 'name', []],
    ['description-map', 'description', { a: 1 }],
    ['seed-string', 'seed', '7'],
    ['engine', 'engine', 'qemu'],
    ['backend', 'backend', 'k8s'],
    ['distribution', 'links/bottleneck/distribution', 'gaussian'],
    ['loss-map', 'links/bottleneck/forward/loss', { random: '1%', burst: '2%' }],
    ['docker-image-shell', 'docker', { image: 'x; rm -rf /' }],
    ['docker-command-string', 'docker', { sender: { image: 'x:1', command: 'sh -c x' } }],
    ['http-path-relative', 'workload', { type: 'http', path: 'bytes/10' }],
    ['http-path-space', 'workload', { type: 'http', path: '/a b' }],
    ['pageload-objects-string', 'workload', { type: 'pageload', objects: '1KB' }],
    ['primary-unknown', 'judge/primary', 'fct_p50'],
    ['metric-unknown', 'judge/metrics/latency', false],
    ['metric-direction', 'judge/metrics/goodput/direction', 'up'],
    ['sequential-string', 'judge/sequential', 'yes'],
  ];
  for (const [n, p, v] of types) mut('types', `type-${n}`, p, v);
  mut('types', 'type-compete-on-docker', 'workload', { type: 'compete' });
  file('types', 'type-compete-on-docker2', toYaml(mutate(mutate(B(), ['workload'], { type: 'compete' }), ['backend'], 'docker')));

  // ------------------------------------------------------------------ unknown keys
  const unknown: [string, string][] = [
    ['top', 'topolgy'],
    ['link', 'links/bottleneck/dealy'],
    ['direction', 'links/bottleneck/forward/los'],
    ['profile', 'canary/ccc'],
    ['route', 'canary/route/initcwin'],
    ['workload', 'workload/durration'],
    ['trials', 'trials/pair'],
    ['judge', 'judge/alfa'],
    ['fidelity', 'fidelity/enable'],
    ['metric', 'judge/metrics/goodput/marginn'],
    ['link-name', 'links/middle'],
    ['endpoints', 'endpoints/sysctl'],
  ];
  for (const [n, p] of unknown) mut('unknown', `unknown-${n}`, p, {});
  {
    const big = B();
    for (let i = 0; i < 20000; i++) big[`unknown_key_${i}`] = i;
    scen('unknown', 'unknown-20000-top', big);
    const links: Obj = {};
    for (let i = 0; i < 20000; i++) links[`l${i}`] = {};
    mut('unknown', 'unknown-20000-links', 'links', links);
    const sys: Obj = {};
    for (let i = 0; i < 20000; i++) sys[`kernel.k${i}`] = 1;
    mut('unknown', 'unknown-20000-sysctls', 'canary/sysctls', sys);
    const m: Obj = {};
    for (let i = 0; i < 20000; i++) m[`goodput_${i}`] = false;
    mut('unknown', 'unknown-20000-metrics', 'judge/metrics', m);
  }

  // ------------------------------------------------------------------ duplicate keys
  file('duplicate', 'dup-top', `${toYaml(B())}name: again\n`);
  file('duplicate', 'dup-nested', toYaml(mutate(B(), ['links'], raw('{ bottleneck: { delay: 20ms, delay: 30ms } }'))));
  file('duplicate', 'dup-flow', toYaml(mutate(B(), ['canary'], raw('{ cc: bbr, cc: cubic }'))));
  file('duplicate', 'dup-sysctl', toYaml(mutate(B(), ['canary', 'sysctls'], raw('{ net.ipv4.tcp_ecn: 1, net.ipv4.tcp_ecn: 2 }'))));
  file('duplicate', 'dup-matrix', `${toYaml(B())}matrix:\n  links.bottleneck.delay: [1ms]\n  links.bottleneck.delay: [2ms]\n`);
  {
    const lines = [toYaml(B())];
    for (let i = 0; i < 5000; i++) lines.push(`k${i % 100}: ${i}\n`);
    file('duplicate', 'dup-5000', lines.join(''));
  }

  // ------------------------------------------------------------------ aliases
  const laughs = (n: number) => {
    let t = 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    for (let i = 1; i < n; i++)
      t += `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(',')}]\n`;
    return t;
  };
  file('alias', 'alias-billion-laughs', `${toYaml(B())}${laughs(9)}`);
  file(
    'alias',
    'alias-laughs-in-canary',
    `${toYaml(mutate(B(), ['canary'], DELETE))}${laughs(6).replace(/^a/gm, 'x')}canary: { cc: bbr, sysctls: *x5 }\n`
      .replace(/\*a/g, '*x')
      .replace(/&a/g, '&x'),
  );
  file('alias', 'alias-101', `${toYaml(B())}anchor: &v 1\nmany: [${Array(101).fill('*v').join(', ')}]\n`);
  file('alias', 'alias-recursive', `${toYaml(B())}loop: &l [*l]\n`);
  file('alias', 'alias-undefined', `${toYaml(B())}x: *nope\n`);
  {
    const list = `[${Array.from({ length: 10000 }, (_, i) => i).join(',')}]`;
    file('alias', 'alias-fanout', `${toYaml(B())}big: &big ${list}\nuse: [${Array(40).fill('*big').join(', ')}]\n`);
  }
  file('alias', 'alias-key', `${toYaml(B())}k: &k name\n*k : x\n`);
  file('alias', 'alias-merge-key', `${toYaml(mutate(B(), ['canary'], DELETE))}base: &base { cc: bbr }\ncanary:\n  <<: *base\n`);

  // ------------------------------------------------------------------ matrix
  const matrices: [string, Obj][] = [
    ['no-field', { 'links.bottleneck.colour': ['red'] }],
    ['no-link', { 'links.nolink.delay': ['1ms'] }],
    ['past-leaf', { 'links.bottleneck.delay.x': ['1ms'] }],
    ['matrix-itself', { 'matrix.x': [1] }],
    ['type-past', { 'workload.type.x': [1] }],
    ['unknown-top', { colour: ['red'] }],
    ['bad-value', { 'links.bottleneck.delay': ['10ms', 'fast'] }],
    ['zero-rate', { 'links.bottleneck.rate': ['0mbit'] }],
    ['sysctl-shell', { 'canary.sysctls.net.ipv4.tcp_ecn': [1, '1; reboot'] }],
    ['sysctl-newline', { 'canary.sysctls.net.ipv4.tcp_ecn': ['1\nreboot'] }],
    ['sysctl-bad-key', { 'canary.sysctls.kernel.shmmax': [1] }],
    ['cc-receiver', { 'canary.apply_to': ['sender', 'receiver'] }],
    ['overlap', { 'links.bottleneck': [{ delay: '1ms' }], 'links.bottleneck.delay': ['2ms'] }],
    ['key-space', { 'links.bottleneck .delay': ['1ms'] }],
    ['key-double-dot', { 'links..delay': ['1ms'] }],
    ['name-traversal', { name: ['../../x'] }],
    ['metric-unknown', { 'judge.metrics.latency': [false] }],
    ['value-huge', { 'links.bottleneck.delay': [raw(DIGITS400)] }],
    ['value-inf', { 'trials.pairs': [raw('.inf')] }],
  ];
  for (const [n, m] of matrices) mut('matrix', `matrix-${n}`, 'matrix', m);
  {
    const ten = Array.from({ length: 10 }, (_, i) => `${i + 1}ms`);
    const rates = Array.from({ length: 100 }, (_, i) => `${i + 1}mbit`);
    const losses = Array.from({ length: 11 }, (_, i) => `${i}%`);
    mut('matrix', 'matrix-size-10x100x11', 'matrix', {
      'links.bottleneck.delay': ten,
      'links.bottleneck.rate': rates,
      'links.bottleneck.forward.loss': losses,
    });
    mut('matrix', 'matrix-size-10001', 'matrix', { seed: Array.from({ length: 10001 }, (_, i) => i) });
    mut('matrix', 'matrix-size-100x101', 'matrix', { 'links.bottleneck.rate': rates, seed: Array.from({ length: 101 }, (_, i) => i) });
    // 100^5 = 1e10 points: refused from the list lengths alone
    mut(
      'matrix',
      'matrix-size-1e10',
      'matrix',
      Object.fromEntries(['delay', 'jitter', 'rate', 'duplicate', 'corrupt'].map((f) => [`links.bottleneck.${f}`, rates])),
    );
    const many: Obj = {};
    const fields = ['delay', 'jitter', 'rate', 'duplicate', 'corrupt', 'jitter_correlation'];
    fields.forEach((f, i) => {
      many[`links.bottleneck.${f}`] =
        i === 2
          ? rates.slice(0, 5)
          : Array.from({ length: 5 }, (_, k) => (f.includes('corr') || f === 'duplicate' || f === 'corrupt' ? `${k}%` : `${k + 1}ms`));
    });
    mut('matrix', 'matrix-size-5pow6', 'matrix', many);
  }

  // ------------------------------------------------------------------ sysctls
  const sysctls: [string, string, unknown][] = [
    ['semicolon', 'net.ipv4.tcp_ecn', '1; reboot'],
    ['newline', 'net.ipv4.tcp_ecn', '1\nreboot'],
    ['nul', 'net.ipv4.tcp_ecn', '1\u0000'],
    ['escape', 'net.ipv4.tcp_ecn', '\u001b[31m1'],
    ['long', 'net.ipv4.tcp_rmem', '4096 '.repeat(60)],
    ['100kB', 'net.ipv4.tcp_rmem', '1'.repeat(100000)],
    ['float', 'net.ipv4.tcp_ecn', 1.5],
    ['word', 'net.ipv4.tcp_ecn', 'on'],
    ['cc-bbr2', 'net.ipv4.tcp_congestion_control', 'bbr2'],
    ['cc-shell', 'net.ipv4.tcp_congestion_control', 'bbr; reboot'],
    ['qdisc-shell', 'net.core.default_qdisc', 'fq; ls'],
    ['list', 'net.ipv4.tcp_rmem', [4096, 131072]],
    ['map', 'net.ipv4.tcp_ecn', { a: 1 }],
    ['null', 'net.ipv4.tcp_ecn', null],
    ['upper-key', 'net.ipv4.TCP_ECN', 1],
    ['kernel-key', 'kernel.shmmax', 1],
    ['slash-key', 'net/ipv4/tcp_ecn', 1],
    ['dotdot-key', 'net.ipv4.tcp_ecn..x', 1],
    ['space-key', 'net.ipv4.tcp ecn', 1],
    ['equals-key', 'net.ipv4.tcp_ecn=1', 1],
    ['dash-key', '-w', 1],
    ['huge-int', 'net.ipv4.tcp_ecn', raw('123456789012345678901234567890')],
    ['fastopen-key', 'net.ipv4.tcp_fastopen_key', 'not-a-key'],
    ['both-cc', 'net.ipv4.tcp_congestion_control', 'cubic'],
  ];
  for (const [n, k, v] of sysctls) mut('sysctl', `sysctl-${n}`, `canary/sysctls/${k}`, v);
  mut('sysctl', 'sysctl-endpoints-shell', 'endpoints/sysctls/net.ipv4.tcp_rmem', '4096 $(id) 1');
  mut('sysctl', 'sysctl-endpoints-cc', 'endpoints/sysctls/net.ipv4.tcp_congestion_control', 'htcp');

  // ------------------------------------------------------------------ names
  const names: [string, unknown][] = [
    ['traversal', '../../../../tmp/x'],
    ['slash', 'a/b'],
    ['empty', ''],
    ['long', 'n'.repeat(65)],
    ['dot', '.hidden'],
    ['dotdot', '..'],
    ['dash', '-rf'],
    ['space', 'x y'],
    ['nul', 'na\u0000me'],
    ['unicode', 'bbr✓'],
    ['newline', 'a\nb'],
    ['absolute', '/etc/passwd'],
  ];
  for (const [n, v] of names) mut('names', `name-${n}`, 'name', v);
  for (const [n, v] of names.slice(0, 8)) suite('names-suite', `suite-name-${n}`, `name: ${JSON.stringify(v)}\nfiles: [a.yaml]\n`);

  // ------------------------------------------------------------------ profiles that cannot take effect
  mut('profile', 'profile-cc-receiver', 'canary', { cc: 'cubic', apply_to: 'receiver' });
  mut('profile', 'profile-congctl-receiver', 'canary', { route: { congctl: 'bbr' }, apply_to: 'receiver' });
  mut('profile', 'profile-sysctl-cc-receiver', 'canary', { sysctls: { 'net.ipv4.tcp_congestion_control': 'bbr' }, apply_to: 'receiver' });
  mut('profile', 'profile-control-cc-receiver', 'control', { cc: 'cubic', apply_to: 'receiver' });
  mut('profile', 'profile-cc-and-sysctl', 'canary', { cc: 'bbr', sysctls: { 'net.ipv4.tcp_congestion_control': 'bbr' } });

  // ------------------------------------------------------------------ YAML syntax
  const syntax: [string, string][] = [
    ['unclosed-flow', 'topology: dumbbell\ncontrol: [a, b\n'],
    ['unclosed-map', 'canary: { cc: bbr\n'],
    ['bad-indent', 'links:\n  bottleneck:\n delay: 20ms\n'],
    ['tab-indent', 'links:\n\tbottleneck: {}\n'],
    ['unclosed-quote', 'name: "base\n'],
    ['double-colon', 'name: : x\n'],
    ['stray-bracket', 'name: base]\ntopology: dumbbell\n'],
    ['mixed-seq-map', '- a\nb: 1\n'],
    ['multi-doc', `${toYaml(B())}---\n${toYaml(B())}`],
    ['tag-js', toYaml(mutate(B(), ['topology'], raw('!!js/function dumbbell')))],
    ['tag-custom', toYaml(mutate(B(), ['canary', 'cc'], raw('!shell bbr')))],
    ['directive', `%YAML 9.9\n---\n${toYaml(B())}`],
    ['complex-key', `${toYaml(B())}? [a, b]\n: 1\n`],
    ['null-key', `${toYaml(B())}~: 1\n`],
    ['bool-key', `${toYaml(B())}true: 1\n`],
    ['deep-flow', `x: ${'['.repeat(5000)}${']'.repeat(5000)}\n`],
    ['deep-block', `${toYaml(B())}x:\n${Array.from({ length: 200 }, (_, i) => `${'  '.repeat(i + 1)}k${i}:`).join('\n')} 1\n`],
    ['scalar-doc', 'hello\n'],
    ['list-doc', '- topology: dumbbell\n'],
    ['only-comment', '# nothing here\n'],
    ['whitespace', '   \n\n  \n'],
    ['bom-utf16', '\ufeffname: base\n'],
  ];
  for (const [n, t] of syntax) file('syntax', `syntax-${n}`, t);

  // ------------------------------------------------------------------ files that are not scenario files
  file('files', 'file-empty', '');
  {
    const rnd = prng(13);
    for (let i = 0; i < 4; i++) {
      const buf = Buffer.alloc(4096 * (i + 1));
      for (let k = 0; k < buf.length; k++) buf[k] = Math.floor(rnd() * 256);
      writeFileSync(join(root, `file-binary-${i}.yaml`), buf);
      add('files', `file-binary-${i}`, join(root, `file-binary-${i}.yaml`), false);
    }
    // valid UTF-8 but not YAML-shaped text: NUL bytes and control characters
    file('files', 'file-nul-bytes', `name: base\u0000\u0000\ntopology: dumbbell\n`);
    writeFileSync(join(root, 'file-latin1.yaml'), Buffer.from('name: caf\xe9\n', 'latin1'));
    add('files', 'file-latin1', join(root, 'file-latin1.yaml'), false);
  }
  writeFileSync(join(root, 'file-2MB.yaml'), `${toYaml(B())}description: "${'x'.repeat(2 * 1024 * 1024)}"\n`);
  add('files', 'file-2MB', join(root, 'file-2MB.yaml'), false);
  writeFileSync(join(root, 'file-1MB-plus-1.yaml'), `#${'x'.repeat(1024 * 1024)}\n`);
  add('files', 'file-1MB-plus-1', join(root, 'file-1MB-plus-1.yaml'), false);
  mkdirSync(join(root, 'file-dir.yaml'), { recursive: true });
  add('files', 'file-dir', join(root, 'file-dir.yaml'), false);
  const fifo = join(root, 'file-fifo.yaml');
  execFileSync('mkfifo', [fifo]);
  add('files', 'file-fifo', fifo, false);
  add('files', 'file-dev-zero', '/dev/zero', false);
  symlinkSync('/dev/zero', join(root, 'file-symlink-dev-zero.yaml'));
  add('files', 'file-symlink-dev-zero', join(root, 'file-symlink-dev-zero.yaml'), false);
  symlinkSync(join(root, 'does-not-exist.yaml'), join(root, 'file-dangling.yaml'));
  add('files', 'file-dangling', join(root, 'file-dangling.yaml'), false);
  add('files', 'file-missing', join(root, 'no-such-file.yaml'), false);
  mkdirSync(join(root, 'empty-folder'), { recursive: true });
  add('files', 'file-empty-folder', join(root, 'empty-folder'), false);

  // ------------------------------------------------------------------ suites
  const okFile = { 'a.yaml': toYaml(mutate(B(), ['name'], 'suite-a')) };
  const suites: [string, string, Record<string, string>?][] = [
    ['missing-file', 'name: s\nfiles: [a.yaml, nope.yaml]\n', okFile],
    ['files-empty', 'name: s\nfiles: []\n', okFile],
    ['files-string', 'name: s\nfiles: a.yaml\n', okFile],
    ['files-number', 'name: s\nfiles: [5]\n', okFile],
    ['files-missing', 'name: s\n', okFile],
    ['glob-no-hits', 'name: s\nfiles: ["z*.yaml"]\n', okFile],
    ['unknown-key', 'name: s\nfiles: [a.yaml]\nfile: [b.yaml]\n', okFile],
    ['defaults-list', 'name: s\nfiles: [a.yaml]\ndefaults: [1]\n', okFile],
    ['defaults-topology', 'name: s\nfiles: [a.yaml]\ndefaults: { topology: dumbbell }\n', okFile],
    [
      'defaults-bad-cc',
      'name: s\nfiles: [a.yaml]\ndefaults: { canary: { cc: bbr2 } }\n',
      { 'a.yaml': toYaml(mutate(B(), ['canary'], DELETE)) },
    ],
    [
      'defaults-pairs-0',
      'name: s\nfiles: [a.yaml]\ndefaults: { trials: { pairs: 0 } }\n',
      { 'a.yaml': toYaml(mutate(B(), ['trials'], DELETE)) },
    ],
    [
      'defaults-alpha-2',
      'name: s\nfiles: [a.yaml]\ndefaults: { judge: { alpha: 2 } }\n',
      { 'a.yaml': toYaml(mutate(B(), ['judge'], DELETE)) },
    ],
    ['defaults-unknown-nested', 'name: s\nfiles: [a.yaml]\ndefaults: { trials: { pair: 5 } }\n', okFile],
    [
      'defaults-sysctl-shell',
      'name: s\nfiles: [a.yaml]\ndefaults: { endpoints: { sysctls: { net.ipv4.tcp_ecn: "1; reboot" } } }\n',
      { 'a.yaml': toYaml(mutate(B(), ['endpoints'], DELETE)) },
    ],
    [
      'defaults-cc-receiver',
      'name: s\nfiles: [a.yaml]\ndefaults: { canary: { cc: cubic, apply_to: receiver } }\n',
      { 'a.yaml': toYaml(mutate(B(), ['canary'], DELETE)) },
    ],
    [
      'defaults-metric-unknown',
      'name: s\nfiles: [a.yaml]\ndefaults: { judge: { metrics: { latency: false } } }\n',
      { 'a.yaml': toYaml(mutate(B(), ['judge'], DELETE)) },
    ],
    ['dup-keys', 'name: s\nname: t\nfiles: [a.yaml]\n', okFile],
    ['dup-defaults', 'name: s\nfiles: [a.yaml]\ndefaults:\n  seed: 1\n  seed: 2\n', okFile],
    ['alias-bomb', `name: s\nfiles: [a.yaml]\n${laughs(9)}`, okFile],
    ['syntax', 'name: s\nfiles: [a.yaml\n', okFile],
    ['empty', '', okFile],
    ['list', '- a.yaml\n', okFile],
    ['binary-ish', 'name: s\u0000\nfiles: [a.yaml]\n', okFile],
    ['listed-bad-scenario', 'name: s\nfiles: [a.yaml]\n', { 'a.yaml': toYaml(mutate(B(), ['links', 'bottleneck', 'rate'], '0mbit')) }],
    ['listed-dir', 'name: s\nfiles: [d.yaml]\n', okFile],
    ['listed-fifo', 'name: s\nfiles: [f.yaml]\n', okFile],
    ['listed-dev-zero', 'name: s\nfiles: [/dev/zero]\n', okFile],
    ['listed-itself', 'name: s\nfiles: [suite.yaml]\n', okFile],
    ['same-ids', 'name: s\nfiles: [a.yaml, b.yaml]\n', { 'a.yaml': toYaml(B()), 'b.yaml': toYaml(B()) }],
    ['name-proto', 'name: __proto__\nfiles: [a.yaml]\n', okFile],
    ['description-map', 'name: s\ndescription: { a: 1 }\nfiles: [a.yaml]\n', okFile],
    ['files-20000', `name: s\nfiles: [${Array.from({ length: 20000 }, (_, i) => `f${i}.yaml`).join(', ')}]\n`, okFile],
    ['tag', 'name: !!js/function s\nfiles: [a.yaml]\n', okFile],
  ];
  for (const [n, t, files] of suites) suite('suite', `suite-${n}`, t, files);
  mkdirSync(join(root, 'suite-listed-dir', 'd.yaml'), { recursive: true });
  execFileSync('mkfifo', [join(root, 'suite-listed-fifo', 'f.yaml')]);
  {
    const dir = join(root, 'suite-2MB');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'suite.yaml'), `name: s\nfiles: [a.yaml]\ndescription: "${'x'.repeat(2 * 1024 * 1024)}"\n`);
    add('suite', 'suite-2MB', join(dir, 'suite.yaml'), false);
    const dir2 = join(root, 'suite-fifo');
    mkdirSync(dir2, { recursive: true });
    execFileSync('mkfifo', [join(dir2, 'suite.yaml')]);
    add('suite', 'suite-fifo', join(dir2, 'suite.yaml'), false);
    // a folder whose suite.yaml is a FIFO: the folder form must not hang either
    add('suite', 'suite-fifo-folder', dir2, false);
  }
  return cases;
}
