/**
 * The seeded random number generator used everywhere in watchnext (initializers, dropout, negative
 * sampling, shuffling, synthetic data). xoshiro128** over four 32-bit words: fast in JavaScript
 * (only 32-bit integer ops), 2^128 − 1 period, and the same stream on every platform for a seed.
 * The state is seeded through splitmix32 so that nearby seeds give unrelated streams.
 */

/** splitmix32 step: a well-mixed 32-bit value from a 32-bit counter (used only for seeding). */
function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

const TWO_POW_32 = 4294967296;

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  /** Second Box–Muller value, kept for the next normal() call. */
  private spareNormal = 0;
  private hasSpare = false;

  /** Any finite number is a valid seed; non-integers and seeds beyond 2^32 are folded in. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`Rng: seed must be a finite number, got ${seed}`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    let x = lo ^ Math.imul(hi, 0x27d4eb2f);
    x = splitmix32(x);
    this.s0 = x;
    x = splitmix32(x ^ 0x6a09e667);
    this.s1 = x;
    x = splitmix32(x ^ 0xbb67ae85);
    this.s2 = x;
    x = splitmix32(x ^ 0x3c6ef372);
    this.s3 = x;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** Uniform integer in [0, 2^32). */
  nextUint32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2;
    const s3 = this.s3;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    let n2 = s2 ^ s0;
    let n3 = s3 ^ s1;
    const n1 = s1 ^ n2;
    const n0 = s0 ^ n3;
    n2 ^= t;
    n3 = rotl(n3, 11);
    this.s0 = n0;
    this.s1 = n1;
    this.s2 = n2;
    this.s3 = n3;
    return r >>> 0;
  }

  /** Uniform float in [0, 1) with 32 random bits (never returns 1). */
  nextFloat(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.nextFloat();
  }

  /** Uniform integer in [0, n) without modulo bias (Lemire's method); n in [1, 2^32]. */
  nextInt(n: number): number {
    if (!(n >= 1 && n <= TWO_POW_32) || !Number.isInteger(n)) {
      throw new RangeError(`Rng.nextInt: n must be an integer in [1, 2^32], got ${n}`);
    }
    const rejectBelow = TWO_POW_32 % n; // 2^32 mod n values would make some results more likely
    if (n <= 2097152) {
      // x·n < 2^53 is exact: Lemire's multiply-shift with rejection on the low 32 bits.
      for (;;) {
        const prod = this.nextUint32() * n;
        if (prod % TWO_POW_32 >= rejectBelow) return Math.floor(prod / TWO_POW_32);
      }
    }
    const limit = TWO_POW_32 - rejectBelow;
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Standard normal N(0, 1) via the Box–Muller transform. */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spareNormal;
    }
    let u = this.nextFloat();
    while (u === 0) u = this.nextFloat();
    const v = this.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * v;
    this.spareNormal = r * Math.sin(theta);
    this.hasSpare = true;
    return r * Math.cos(theta);
  }

  /** In-place Fisher–Yates shuffle of the first n entries (default: all). */
  shuffle(a: Int32Array | Uint32Array | Float32Array, n: number = a.length): void {
    for (let i = n - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  /** A uniformly random permutation of 0 .. n−1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    this.shuffle(p);
    return p;
  }

  /**
   * An independent generator derived from this one's next output and `seed`, for handing a
   * sub-task (a layer's dropout, a worker) its own reproducible stream. Advances this generator.
   */
  fork(seed: number = 0): Rng {
    const a = this.nextUint32();
    const b = this.nextUint32();
    return new Rng((a ^ splitmix32(seed >>> 0)) + (b & 0x1fffff) * TWO_POW_32);
  }

  /** The complete state, for checkpointing a training run. */
  getState(): Uint32Array {
    return Uint32Array.of(this.s0, this.s1, this.s2, this.s3);
  }

  /** Restores a state returned by getState (drops any cached normal). */
  setState(state: Uint32Array): void {
    if (state.length !== 4) throw new RangeError(`Rng.setState: expected 4 words, got ${state.length}`);
    if ((state[0] | state[1] | state[2] | state[3]) === 0)
      throw new RangeError("Rng.setState: all-zero state");
    this.s0 = state[0] | 0;
    this.s1 = state[1] | 0;
    this.s2 = state[2] | 0;
    this.s3 = state[3] | 0;
    this.hasSpare = false;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
