/** `matrix:` expansion: dotted path -> values, cartesian product in file order (last key varies fastest). */

export type Params = Record<string, string | number | boolean>;

export interface MatrixPoint {
  /** dotted path -> value as written */
  params: Params;
  /** index of the chosen value per key, for error locations */
  indices: Record<string, number>;
  doc: Record<string, unknown>;
}

export function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur: Record<string, unknown> = obj;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    const next = cur[k];
    if (next === undefined || next === null) {
      cur[k] = {};
    } else if (typeof next !== 'object' || Array.isArray(next)) {
      // a scalar where the matrix wants a map (e.g. `loss: 1%` with a matrix on loss.random): replace it
      cur[k] = {};
    }
    cur = cur[k] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

export function expandMatrix(base: Record<string, unknown>, matrix: Record<string, unknown[]> | undefined): MatrixPoint[] {
  const doc = clone(base);
  delete doc.matrix;
  const keys = Object.keys(matrix ?? {});
  if (keys.length === 0) return [{ params: {}, indices: {}, doc }];
  const points: MatrixPoint[] = [];
  const idx = keys.map(() => 0);
  for (;;) {
    const d = clone(doc);
    const params: Params = {};
    const indices: Record<string, number> = {};
    keys.forEach((k, i) => {
      const v = matrix![k]![idx[i]!];
      setPath(d, k.split('.'), clone(v));
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
