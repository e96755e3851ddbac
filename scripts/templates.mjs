#!/usr/bin/env node
// Precompiles report.html's Handlebars templates into dist/report/templates/compiled.cjs: the second
// step of `npm run build` (after tsc), see src/report/precompile.ts. Plain Node.
import { writeFileSync } from 'node:fs';

const { precompiledModule, PRECOMPILED_FILE } = await import('../dist/report/precompile.js');
writeFileSync(new URL(`../dist/report/templates/${PRECOMPILED_FILE}`, import.meta.url), precompiledModule());
