/**
 * Seedable pseudo-random numbers for the userspace link model.
 *
 * xoshiro128** (Blackman & Vigna) with 128 bits of state, seeded through splitmix32, so that a
 * (seed, stream) pair always reproduces the same sequence. Pure: no clock, no Math.random.
 */

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** splitmix32 step: a good 32-bit mixer, used only to expand a seed into xoshiro state. */
export function splitmix32(state: number): { value: number; next: number } {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  z = z ^ (z >>> 15);
  return { value: z >>> 0, next };
}

export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** Raw state constructor (all four words zero is invalid and replaced). Prefer {@link Xoshiro128.fromSeed}. */
  constructor(s0: number, s1: number, s2: number, s3: number) {
    this.s0 = s0 | 0;
    this.s1 = s1 | 0;
    this.s2 = s2 | 0;
    this.s3 = s3 | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Seed (any 32-bit integer) plus a stream number (0 = forward, 1 = reverse, ...). */
  static fromSeed(seed: number, stream = 0): Xoshiro128 {
    let st = (seed >>> 0) ^ Math.imul(stream + 1, 0x85ebca6b);
    const w: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = splitmix32(st);
      w.push(r.value);
      st = r.next;
    }
    return new Xoshiro128(w[0]!, w[1]!, w[2]!, w[3]!);
  }

  /** Next unsigned 32-bit integer. */
  nextU32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2;
    const s3 = this.s3;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    this.s1 = s1 ^ n2;
    this.s0 = s0 ^ n3;
    this.s2 = n2 ^ t;
    this.s3 = rotl(n3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution (the same resolution netem's u32 draws have). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/**
 * netem's "correlated uniform" (get_crandom): next = (1 - rho) * U + rho * last.
 * With rho = 0 it is the plain uniform. Note (as in netem) correlation narrows the distribution
 * around 0.5, so e.g. a correlated 1 % loss loses fewer than 1 % of packets.
 */
export class CorrelatedUniform {
  private last: number;
  constructor(
    readonly rho: number,
    private readonly prng: Xoshiro128,
  ) {
    // netem seeds `last` with a random u32 when the correlation is configured
    this.last = rho > 0 ? prng.next() : 0;
  }

  next(): number {
    const u = this.prng.next();
    if (this.rho <= 0) return u;
    const v = (1 - this.rho) * u + this.rho * this.last;
    this.last = v;
    return v;
  }
}
