/**
 * The path library (issue #16): named link profiles a scenario references as
 * `links: { bottleneck: { path: lte-driving } }`. Each is a YAML file in topologies/paths/ with the
 * link fields (delay, rate, schedule, trace, forward/reverse, ...) and `description` / `source`
 * saying where its numbers come from. The profile's fields are defaults: the link's own keys win
 * (top-level keys; forward/reverse replace the profile's). Trace paths in a profile are relative to it.
 */
import { readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { projectRoot } from '../paths.js';
import { InputError } from './errors.js';
import { ResolveError } from './problems.js';
import { type LinkInput, LinkSchema } from './schema.js';
import { cloneData, FORBIDDEN_KEYS, own, parseYaml, readInputFile } from './source.js';

export function pathLibraryDir(): string {
  return join(projectRoot(), 'topologies', 'paths');
}

/** the profiles shipped */
export function pathNames(): string[] {
  try {
    return readdirSync(pathLibraryDir())
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -5))
      .sort();
  } catch {
    return [];
  }
}

/** Read and check one profile: its link fields (null-prototype data, checked by the link schema). */
export function loadPathProfile(name: string): { file: string; link: LinkInput; description?: string; source?: string } {
  const file = join(pathLibraryDir(), `${name}.yaml`);
  const { src, problems } = parseYaml(readInputFile(file, 'path profile'), file);
  if (problems.length) throw new InputError(problems);
  const raw = (src.data ?? Object.create(null)) as Record<string, unknown>;
  const { description, source, ...fields } = raw;
  const r = LinkSchema.safeParse(fields);
  if (!r.success) throw new InputError(r.error.issues.map((i) => ({ file, line: 1, col: 1, path: i.path.join('.'), message: i.message })));
  const link = r.data;
  // its traces are relative to the profile
  if (link.trace)
    for (const dir of ['forward', 'reverse'] as const) {
      const p = link.trace[dir];
      if (p !== undefined && !isAbsolute(p)) link.trace[dir] = resolve(dirname(file), p);
    }
  return { file, link, description: description as string | undefined, source: source as string | undefined };
}

/** The scenario's link inputs with each `path:` replaced by the profile's fields under the link's own. */
export function withPathProfiles(inputs: Record<string, LinkInput>): Record<string, LinkInput> {
  const out: Record<string, LinkInput> = Object.create(null);
  for (const name of Object.keys(inputs)) {
    if (FORBIDDEN_KEYS.has(name)) continue;
    const li = own(inputs, name) as LinkInput;
    if (li.path === undefined) {
      out[name] = li;
      continue;
    }
    const names = pathNames();
    if (!names.includes(li.path))
      throw new ResolveError(['links', name, 'path'], `no path profile "${li.path}" (the library has: ${names.join(', ') || 'none'})`);
    const { link } = loadPathProfile(li.path);
    const { path: _p, ...own_ } = li;
    out[name] = { ...cloneData(link), ...own_ } as LinkInput;
  }
  return out;
}
