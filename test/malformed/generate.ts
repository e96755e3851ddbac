/** npx vite-node test/malformed/generate.ts OUT_DIR: write the malformed-input corpus, one line per case. */
import { generateCorpus } from './corpus.js';

const out = process.argv[process.argv.length - 1];
if (!out || out.endsWith('generate.ts') || out.endsWith('vite-node')) {
  console.error('usage: npx vite-node test/malformed/generate.ts OUT_DIR');
  process.exit(2);
}
const cases = generateCorpus(out);
for (const c of cases) console.log(`${c.category}\t${c.id}\t${c.target}`);
console.error(`${cases.length} cases in ${out}`);
