/**
 * TypeScript reference of the kernels a Transformer block needs (contracts in kernels.ts): layer
 * normalisation, GELU, the counter-based dropout mask, the residual add and multi-head causal
 * self-attention with padding masks. Plain loops with float64 accumulators: the oracle the native
 * kernels are compared against, and the fallback backend.
 */

/** murmur3's 32-bit finaliser: a bijection of uint32 with full avalanche. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The dropout mask's random word for entry i under `seed` (uint32): fmix32(fmix32(seed) + i·φ)
 * with φ = 0x9e3779b9, i.e. a hashed Weyl sequence (splitmix's construction) whose start depends
 * on the seed. Stateless, so forward and backward, every backend and every thread split agree.
 */
export function dropoutHash(seed: number, i: number): number {
  return fmix32((fmix32(seed >>> 0) + Math.imul(i, 0x9e3779b9)) >>> 0);
}

/** The keep threshold ⌊rate·2³²⌋ and the kept entries' scale fround(1/(1 − rate)). */
export function dropoutConstants(rate: number, kernel: string): { threshold: number; scale: number } {
  if (!(rate >= 0 && rate < 1))
    throw new RangeError(`${kernel}: dropout rate must be in [0, 1), got ${rate}`);
  return { threshold: Math.floor(rate * 4294967296), scale: Math.fround(1 / (1 - rate)) };
}

function checkSeed(seed: number, kernel: string): void {
  if (!(Number.isInteger(seed) && seed >= 0 && seed < 4294967296)) {
    throw new RangeError(`${kernel}: seed must be an integer in [0, 2^32), got ${seed}`);
  }
}

export function layerNormForward(
  x: Float32Array,
  rows: number,
  dim: number,
  gamma: Float32Array,
  beta: Float32Array,
  eps: number,
  out: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let s = 0;
    for (let c = 0; c < dim; c++) s += x[o + c];
    const mu = s / dim;
    let ss = 0;
    for (let c = 0; c < dim; c++) {
      const t = x[o + c] - mu;
      ss += t * t;
    }
    const m = Math.fround(mu);
    const rs = Math.fround(1 / Math.sqrt(ss / dim + eps));
    mean[r] = m;
    rstd[r] = rs;
    for (let c = 0; c < dim; c++) out[o + c] = (x[o + c] - m) * rs * gamma[c] + beta[c];
  }
}

export function layerNormBackward(
  x: Float32Array,
  rows: number,
  dim: number,
  gamma: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
  gradOut: Float32Array,
  gradX: Float32Array,
  accumulate: boolean,
  gradGamma: Float32Array,
  gradBeta: Float32Array,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    const m = mean[r];
    const rs = rstd[r];
    let sumG = 0;
    let sumGX = 0;
    for (let c = 0; c < dim; c++) {
      const dy = gradOut[o + c];
      const xhat = (x[o + c] - m) * rs;
      const g = dy * gamma[c];
      sumG += g;
      sumGX += g * xhat;
      gradGamma[c] += dy * xhat;
      gradBeta[c] += dy;
    }
    const m1 = sumG / dim;
    const m2 = sumGX / dim;
    for (let c = 0; c < dim; c++) {
      const xhat = (x[o + c] - m) * rs;
      const dx = rs * (gradOut[o + c] * gamma[c] - m1 - xhat * m2);
      gradX[o + c] = accumulate ? gradX[o + c] + dx : dx;
    }
  }
}

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

export function gelu(x: Float32Array, out: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[i];
    out[i] = 0.5 * v * (1 + Math.tanh(GELU_C * (v + GELU_A * v * v * v)));
  }
}

export function geluBackward(x: Float32Array, grad: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const t = Math.tanh(GELU_C * (v + GELU_A * v * v * v));
    const d = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GELU_C * (1 + 3 * GELU_A * v * v);
    grad[i] *= d;
  }
}

export function dropout(x: Float32Array, n: number, rate: number, seed: number): void {
  const { threshold, scale } = dropoutConstants(rate, "dropout");
  checkSeed(seed, "dropout");
  if (rate === 0) return;
  const s = fmix32(seed >>> 0);
  for (let i = 0; i < n; i++) {
    const h = fmix32((s + Math.imul(i, 0x9e3779b9)) >>> 0);
    x[i] = h >= threshold ? x[i] * scale : 0;
  }
}

export function addInPlace(x: Float32Array, out: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] += x[i];
}

function checkAttention(
  kernel: string,
  numSeqs: number,
  maxLen: number,
  heads: number,
  headDim: number,
  offsets: Int32Array,
  rate: number,
  seed: number,
): void {
  dropoutConstants(rate, kernel);
  checkSeed(seed, kernel);
  if (offsets.length < numSeqs + 1) {
    throw new RangeError(`${kernel}: offsets holds ${offsets.length}, needs numSeqs + 1 = ${numSeqs + 1}`);
  }
  if (!(heads >= 1 && headDim >= 1)) throw new RangeError(`${kernel}: heads and headDim must be ≥ 1`);
  if (!(offsets[0] >= 0)) throw new RangeError(`${kernel}: offsets[0] = ${offsets[0]} is negative`);
  for (let b = 0; b < numSeqs; b++) {
    const n = offsets[b + 1] - offsets[b];
    if (!(n >= 0 && n <= maxLen)) {
      throw new RangeError(
        `${kernel}: sequence ${b} spans offsets ${offsets[b]}..${offsets[b + 1]}, not 0..${maxLen} slots`,
      );
    }
  }
}

/** Grow-only float64 row scratch of the attention reference. */
let rowScratch = new Float64Array(0);

export function causalAttentionForward(
  qkv: Float32Array,
  numSeqs: number,
  maxLen: number,
  heads: number,
  headDim: number,
  offsets: Int32Array,
  dropoutRate: number,
  seed: number,
  probs: Float32Array,
  out: Float32Array,
): void {
  checkAttention("causalAttentionForward", numSeqs, maxLen, heads, headDim, offsets, dropoutRate, seed);
  const d = heads * headDim;
  const ld = 3 * d;
  const scale = 1 / Math.sqrt(headDim);
  const { threshold, scale: keepScale } = dropoutConstants(dropoutRate, "causalAttentionForward");
  const s = fmix32(seed >>> 0);
  if (rowScratch.length < maxLen) rowScratch = new Float64Array(maxLen);
  const e = rowScratch;
  const len = maxLen;
  for (let b = 0; b < numSeqs; b++) {
    const r0 = offsets[b];
    const n = offsets[b + 1] - r0;
    for (let h = 0; h < heads; h++) {
      const qc = h * headDim;
      const kc = d + qc;
      const vc = 2 * d + qc;
      const pb = (b * heads + h) * len * len;
      probs.fill(0, pb, pb + len * len);
      for (let i = 0; i < n; i++) {
        const p = pb + i * len;
        const oi = (r0 + i) * d + qc;
        out.fill(0, oi, oi + headDim);
        const qi = (r0 + i) * ld + qc;
        let max = -Infinity;
        for (let j = 0; j <= i; j++) {
          const kj = (r0 + j) * ld + kc;
          let dot = 0;
          for (let c = 0; c < headDim; c++) dot += qkv[qi + c] * qkv[kj + c];
          e[j] = Math.fround(dot * scale);
          if (e[j] > max) max = e[j];
        }
        let sum = 0;
        for (let j = 0; j <= i; j++) {
          e[j] = Math.exp(e[j] - max);
          sum += e[j];
        }
        for (let j = 0; j <= i; j++) {
          const pij = Math.fround(e[j] / sum);
          probs[p + j] = pij;
          let w = pij;
          if (dropoutRate > 0) {
            const hash = fmix32((s + Math.imul(p + j, 0x9e3779b9)) >>> 0);
            w = hash >= threshold ? pij * keepScale : 0;
          }
          if (w === 0) continue;
          const vj = (r0 + j) * ld + vc;
          for (let c = 0; c < headDim; c++) out[oi + c] += w * qkv[vj + c];
        }
      }
    }
  }
}

export function causalAttentionBackward(
  qkv: Float32Array,
  numSeqs: number,
  maxLen: number,
  heads: number,
  headDim: number,
  offsets: Int32Array,
  dropoutRate: number,
  seed: number,
  probs: Float32Array,
  gradOut: Float32Array,
  gradQkv: Float32Array,
): void {
  checkAttention("causalAttentionBackward", numSeqs, maxLen, heads, headDim, offsets, dropoutRate, seed);
  const d = heads * headDim;
  const ld = 3 * d;
  const scale = 1 / Math.sqrt(headDim);
  const { threshold, scale: keepScale } = dropoutConstants(dropoutRate, "causalAttentionBackward");
  const s = fmix32(seed >>> 0);
  if (rowScratch.length < maxLen) rowScratch = new Float64Array(maxLen);
  const dp = rowScratch;
  const len = maxLen;
  for (let b = 0; b < numSeqs; b++) {
    const r0 = offsets[b];
    const n = offsets[b + 1] - r0;
    gradQkv.fill(0, r0 * ld, (r0 + n) * ld);
    for (let h = 0; h < heads; h++) {
      const qc = h * headDim;
      const kc = d + qc;
      const vc = 2 * d + qc;
      for (let i = 0; i < n; i++) {
        const p = ((b * heads + h) * len + i) * len;
        const gi = (r0 + i) * d + qc;
        const qi = (r0 + i) * ld + qc;
        // dp̃_j = dO_i·v_j; dV_j += p̃_ij·dO_i; dp_j = dp̃_j·mask_ij.
        let dot = 0;
        for (let j = 0; j <= i; j++) {
          const vj = (r0 + j) * ld + vc;
          let m = 1;
          if (dropoutRate > 0) {
            const hash = fmix32((s + Math.imul(p + j, 0x9e3779b9)) >>> 0);
            m = hash >= threshold ? keepScale : 0;
          }
          let g = 0;
          for (let c = 0; c < headDim; c++) g += gradOut[gi + c] * qkv[vj + c];
          const w = probs[p + j] * m;
          if (w !== 0) for (let c = 0; c < headDim; c++) gradQkv[vj + c] += w * gradOut[gi + c];
          dp[j] = g * m;
          dot += probs[p + j] * dp[j];
        }
        // ds_j = p_j·(dp_j − Σ_k p_k·dp_k); dq_i += scale·Σ_j ds_j·k_j; dk_j += scale·ds_j·q_i.
        for (let j = 0; j <= i; j++) {
          const ds = probs[p + j] * (dp[j] - dot) * scale;
          if (ds === 0) continue;
          const kj = (r0 + j) * ld + kc;
          for (let c = 0; c < headDim; c++) {
            gradQkv[qi + c] += ds * qkv[kj + c];
            gradQkv[kj + c] += ds * qkv[qi + c];
          }
        }
      }
    }
  }
}
