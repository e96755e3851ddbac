/** Topology files: where a name resolves to, loading and checking one, and the sender -> receiver path. */
import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { projectRoot } from '../paths.js';
import { InputError, type InputProblem } from './errors.js';
import type { Topology } from './model.js';
import { type Locator, locate, nodeAt, pos, short } from './problems.js';
import { capProblems, FORBIDDEN_KEYS, own, parseYaml, readInputFile } from './source.js';

export function topologyPath(name: string, scenarioFile: string): string {
  if (name.includes('/') || name.endsWith('.yaml') || name.endsWith('.yml')) {
    return isAbsolute(name) ? name : resolve(dirname(scenarioFile), name);
  }
  const local = resolve(dirname(scenarioFile), '..', 'topologies', `${name}.yaml`);
  if (existsSync(local)) return local;
  return join(projectRoot(), 'topologies', `${name}.yaml`);
}

export function loadTopologyFor(name: string, scenarioFile: string, l: Locator, problems: InputProblem[]): Topology | null {
  const at = locate(l, ['topology'], '');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f]/.test(name)) {
    problems.push({ ...at, message: 'a topology name or path has no control characters' });
    return null;
  }
  const path = topologyPath(name, scenarioFile);
  if (!existsSync(path)) {
    problems.push({ ...at, message: `unknown topology "${name}" (no file ${path})` });
    return null;
  }
  try {
    return loadTopology(path);
  } catch (e) {
    if (e instanceof InputError)
      problems.push(
        ...e.problems.map((p) =>
          p.file === path && p.line === undefined ? { ...p, ...at, message: `topology ${path}: ${p.message}` } : p,
        ),
      );
    else problems.push({ ...at, message: (e as Error).message });
    return null;
  }
}

export function loadTopology(path: string): Topology {
  const { src: loc, problems } = parseYaml(readInputFile(path, 'topology file'), path);
  const t = loc.data;
  const bad = (p: (string | number)[], message: string) =>
    problems.push({ file: path, ...pos(loc, nodeAt(loc, p)), path: p.join('.'), message });
  if (t === null || typeof t !== 'object' || Array.isArray(t)) {
    bad([], 'a topology file must be a YAML mapping (name, routers, links, sender, receiver)');
    throw new InputError(capProblems(problems));
  }
  const safe = (v: unknown) => typeof v === 'string' && !FORBIDDEN_KEYS.has(v);
  const routersIn = own(t, 'routers');
  const routers = Array.isArray(routersIn) ? routersIn.map(String) : [];
  if (routers.length === 0) bad(['routers'], 'a topology needs a list of routers');
  routers.forEach((r, i) => {
    if (!/^[a-z][a-z0-9]{0,9}$/.test(r) || !safe(r)) bad(['routers', i], `router name ${short(r)} must be 1-10 lowercase letters/digits`);
  });
  const linksIn = own(t, 'links');
  const links = Array.isArray(linksIn) ? linksIn : [];
  if (!Array.isArray(linksIn)) bad(['links'], 'a topology needs a list of links');
  const out: Topology['links'] = [];
  links.forEach((l, i) => {
    const name = own(l, 'name');
    const b = own(l, 'between');
    if (typeof name !== 'string' || !/^[a-z][a-z0-9_-]{0,15}$/.test(name) || !safe(name))
      bad(['links', i, 'name'], 'link name must be 1-16 lowercase letters, digits, - or _');
    else if (out.some((o) => o.name === name)) bad(['links', i, 'name'], `link name "${name}" is used twice`);
    if (!Array.isArray(b) || b.length !== 2 || !b.every((x) => routers.includes(String(x))))
      bad(['links', i, 'between'], 'between must name two routers of this topology');
    else if (typeof name === 'string') out.push({ name, between: [String(b[0]), String(b[1])] });
  });
  for (const k of ['sender', 'receiver'] as const) {
    if (!routers.includes(String(own(t, k)))) bad([k], `${k} must name the router the ${k} hosts attach to`);
  }
  const tname = own(t, 'name');
  const desc = own(t, 'description');
  if (problems.length) throw new InputError(capProblems(problems));
  const topo: Topology = {
    name: typeof tname === 'string' ? tname : basename(path, '.yaml'),
    description: typeof desc === 'string' ? desc : '',
    file: path,
    routers,
    links: out,
    sender: String(own(t, 'sender')),
    receiver: String(own(t, 'receiver')),
  };
  if (!pathLinks(topo))
    throw new InputError([
      { file: path, ...pos(loc, nodeAt(loc, ['links'])), path: 'links', message: `no path from ${topo.sender} to ${topo.receiver}` },
    ]);
  return topo;
}

/** Links from the sender router to the receiver router, each with whether data crosses it a->b. */
export function pathLinks(t: Topology): { name: string; forward: boolean }[] | null {
  const prev = new Map<string, { from: string; link: string; forward: boolean }>();
  const queue = [t.sender];
  const seen = new Set([t.sender]);
  while (queue.length) {
    const r = queue.shift()!;
    for (const l of t.links) {
      const [a, b] = l.between;
      const next = a === r ? b : b === r ? a : null;
      if (next && !seen.has(next)) {
        seen.add(next);
        prev.set(next, { from: r, link: l.name, forward: a === r });
        queue.push(next);
      }
    }
  }
  if (!seen.has(t.receiver)) return null;
  const out: { name: string; forward: boolean }[] = [];
  for (let r = t.receiver; r !== t.sender; ) {
    const p = prev.get(r)!;
    out.unshift({ name: p.link, forward: p.forward });
    r = p.from;
  }
  return out;
}
