/** Where netab's own files are: the package root (package.json, topologies/, dist/). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'topologies'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the netab package root');
    dir = up;
  }
}
