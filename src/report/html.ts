/** report.html: one self-contained page rendered with Handlebars from the view model. */
import { createRequire } from 'node:module';
import type Handlebars from 'handlebars';
import type { RunData } from './load.js';
import { buildView, type RenderOptions } from './model.js';
import { compileOptions, templatesDigest } from './templates/digest.js';
import { layout, partials } from './templates/html.js';
import { css } from './templates/styles.js';

const require = createRequire(import.meta.url);

/** What precompile.ts writes: template specs of the same sources (by digest). */
export interface Precompiled {
  digest: string;
  layout: TemplateSpecification;
  partials: Record<string, TemplateSpecification>;
}

/**
 * The precompiled templates in `file` (default: the one `npm run build` writes next to
 * templates/html.js) when they were built from these sources; null otherwise (not built, e.g. under
 * vitest or after a bare tsc; stale; unreadable): then the templates are compiled at run time.
 */
export function loadPrecompiled(file = './templates/compiled.cjs'): Precompiled | null {
  try {
    const p = require(file) as Partial<Precompiled> | null;
    if (!p || p.digest !== templatesDigest() || typeof p.layout !== 'object' || typeof p.partials !== 'object') return null;
    return p as Precompiled;
  } catch {
    return null;
  }
}

/**
 * The page template from precompiled specs (only Handlebars' runtime is loaded) or, without them,
 * compiled from the sources. An isolated environment either way: no global helpers/partials leak in or out.
 */
export function templateFrom(pre: Precompiled | null): Handlebars.TemplateDelegate {
  if (pre) {
    const hb = (require('handlebars/runtime') as typeof Handlebars).create();
    for (const [name, spec] of Object.entries(pre.partials)) hb.registerPartial(name, hb.template(spec));
    return hb.template(pre.layout);
  }
  const hb = (require('handlebars') as typeof Handlebars).create();
  for (const [name, src] of Object.entries(partials)) hb.registerPartial(name, src);
  return hb.compile(layout, compileOptions());
}

let compiled: Handlebars.TemplateDelegate | null = null;

/** Render report.html from loaded run data. Pure: no I/O. */
export function renderHtml(data: RunData, opts: RenderOptions = {}): string {
  const view = buildView(data, opts);
  compiled ??= templateFrom(loadPrecompiled());
  return compiled({ ...view, css });
}
