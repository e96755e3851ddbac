/** `matrix:` expansion: dotted path -> values, cartesian product in file order (last key varies fastest). */
import { cloneData, FORBIDDEN_KEYS } from './source.js';

/** most scenarios one file may expand to */
export const MAX_MATRIX_POINTS = 10_000;

export type Params = Record<string, string | number | boolean>;

export interface MatrixPoint {
  /** dotted path -> value as written */
  params: Params;
  /** index of the chosen value per key, for error locations */
  indices: Record<string, number>;
  doc: Record<string, unknown>;
}

/**
 * Set a value at a path of property keys, creating maps on the way. Only own properties are read
 * and every map created has no prototype, so no path can reach Object.prototype; a forbidden key
 * (__proto__, constructor, prototype) is refused outright.
 */
export function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  if (path.length === 0) throw new Error('setPath: empty path');
  for (const k of path) if (FORBIDDEN_KEYS.has(k)) throw new Error(`setPath: refusing the key "${k}"`);
  let cur: Record<string, unknown> = obj;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    const next = Object.hasOwn(cur, k) ? cur[k] : undefined;
    if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) {
      // missing, or a scalar where the matrix wants a map (e.g. `loss: 1%` with a matrix on loss.random): replace it
      Object.defineProperty(cur, k, { value: Object.create(null), enumerable: true, writable: true, configurable: true });
    }
    cur = cur[k] as Record<string, unknown>;
  }
  Object.defineProperty(cur, path[path.length - 1]!, { value, enumerable: true, writable: true, configurable: true });
}

/** Points a matrix expands to: the product of its list lengths, computed without expanding it. */
export function matrixSize(matrix: Record<string, unknown[]> | undefined): number {
  let n = 1;
  for (const k of Object.keys(matrix ?? {})) n *= matrix![k]!.length;
  return n;
}

/**
 * Expand the matrix. `paths` gives the property keys of each matrix key (from the schema: a sysctl
 * key keeps its dots); by default a key is split at its dots. Refuses more than `limit` points
 * before building any of them.
 */
export function expandMatrix(
  base: Record<string, unknown>,
  matrix: Record<string, unknown[]> | undefined,
  paths: Record<string, string[]> = {},
  limit = MAX_MATRIX_POINTS,
): MatrixPoint[] {
  const size = matrixSize(matrix);
  if (size > limit) throw new Error(`matrix expands to ${size} points (limit ${limit})`);
  const doc = cloneData(base);
  delete doc.matrix;
  const keys = Object.keys(matrix ?? {});
  if (keys.length === 0) return [{ params: {}, indices: {}, doc }];
  const keyPath = (k: string) => (Object.hasOwn(paths, k) ? paths[k]! : k.split('.'));
  const points: MatrixPoint[] = [];
  const idx = keys.map(() => 0);
  for (;;) {
    const d = cloneData(doc);
    const params: Params = {};
    const indices: Record<string, number> = {};
    keys.forEach((k, i) => {
      const v = matrix![k]![idx[i]!];
      setPath(d, keyPath(k), cloneData(v));
      params[k] = typeof v === 'object' && v !== null ? JSON.stringify(v) : (v as string | number | boolean);
      indices[k] = idx[i]!;
    });
    points.push({ params, indices, doc: d });
    let j = keys.length - 1;
    while (j >= 0) {
      idx[j]!++;
      if (idx[j]! < matrix![keys[j]!]!.length) break;
      idx[j] = 0;
      j--;
    }
    if (j < 0) break;
  }
  return points;
}

/** Short label for a matrix point: last path segment when unambiguous, e.g. "grid[delay=20ms,loss=1%]". */
export function pointId(stem: string, params: Params): string {
  const keys = Object.keys(params);
  if (keys.length === 0) return stem;
  const last = keys.map((k) => k.split('.').pop()!);
  const parts = keys.map((k, i) => {
    const short = last.filter((l) => l === last[i]).length === 1 ? last[i] : k;
    return `${short}=${params[k]}`;
  });
  return `${stem}[${parts.join(',')}]`;
}
