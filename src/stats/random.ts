/** Small seedable random sources for simulations (not for anything security related). */

/** mulberry32: a fast 32-bit generator with a 2³² period, uniform on [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    return mix(a);
  };
}

/**
 * The first draw of mulberry32(i), without a generator: a deterministic hash of an integer to
 * [0, 1) (the report's chart jitter, so re-rendering a run gives the same file).
 */
export function uniformAt(i: number): number {
  return mix((i + 0x6d2b79f5) >>> 0);
}

/** mulberry32's output function: state (uint32) to a uniform on [0, 1). */
function mix(a: number): number {
  let t = a;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** Standard normal deviates from a uniform source (Box-Muller, both values used). */
export function normalSource(uniform: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}
