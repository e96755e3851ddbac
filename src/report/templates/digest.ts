/** The identity of report.html's template sources: a precompiled copy is used only for the same sources. */
import { createHash } from 'node:crypto';
import { layout, partials } from './html.js';

/**
 * Compile options of every template (precompiled or compiled at run time: the same output). Handlebars
 * adds keys to the options object it is given: pass it a copy (compileOptions()).
 */
const COMPILE_OPTIONS = Object.freeze({ strict: false, preventIndent: true });

export const compileOptions = (): { strict: boolean; preventIndent: boolean } => ({ ...COMPILE_OPTIONS });

export function templatesDigest(): string {
  const names = Object.keys(partials).sort();
  return createHash('sha256')
    .update(JSON.stringify([COMPILE_OPTIONS, layout, names.map((n) => [n, partials[n]])]))
    .digest('hex');
}
