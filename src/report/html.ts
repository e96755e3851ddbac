/** report.html: one self-contained page rendered with Handlebars from the view model. */
import Handlebars from 'handlebars';
import type { RunData } from './load.js';
import { buildView, type RenderOptions } from './model.js';
import { layout, partials } from './templates/html.js';
import { css } from './templates/styles.js';

let compiled: Handlebars.TemplateDelegate | null = null;

function template(): Handlebars.TemplateDelegate {
  if (compiled) return compiled;
  // an isolated environment: no global helpers/partials leak in or out
  const hb = Handlebars.create();
  for (const [name, src] of Object.entries(partials)) hb.registerPartial(name, src);
  compiled = hb.compile(layout, { strict: false, preventIndent: true });
  return compiled;
}

/** Render report.html from loaded run data. Pure: no I/O. */
export function renderHtml(data: RunData, opts: RenderOptions = {}): string {
  const view = buildView(data, opts);
  return template()({ ...view, css });
}
