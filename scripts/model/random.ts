/**
 * A seeded pseudo-random source. Everything random in the model build (shapes, colours, noise,
 * weight initialisation, shuffling) draws from one of these, so the same seed gives the same data
 * and the same model. Math.random cannot be seeded, so it is never used here.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [min, max). */
  uniform(min: number, max: number): number;
  /** Integer in [min, max] inclusive. */
  int(min: number, max: number): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
  pick<T>(items: readonly T[]): T;
  /** A new array with the items in a random order (Fisher-Yates); the input is left alone. */
  shuffled<T>(items: readonly T[]): T[];
}

// Bound once at module scope: under Jest the code runs in a vm context, where every lookup of a
// global such as `Math` goes through the context's interceptor; in the per-pixel noise loop that
// made rendering ~10x slower than under plain Node.
const { imul, sqrt, log, cos, floor, PI } = Math;

/**
 * mulberry32: 32-bit state, fast, statistically fine for data generation; not for cryptography.
 * Seeds are mixed once so that neighbouring seeds (1, 2, 3) start far apart.
 */
export function createRandom(seed: number): Random {
  let state = imul(seed ^ 0x9e3779b9, 0x85ebca6b) >>> 0 || 0x6d2b79f5;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const random: Random = {
    next,
    uniform: (min, max) => min + (max - min) * next(),
    int: (min, max) => min + floor(next() * (max - min + 1)),
    normal: () => {
      // 1 - next() is in (0, 1], so the logarithm is finite.
      const u = 1 - next();
      return sqrt(-2 * log(u)) * cos(2 * PI * next());
    },
    pick: (items) => items[floor(next() * items.length)],
    shuffled: (items) => {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = floor(next() * (i + 1));
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
  };
  return random;
}

/**
 * A seed for one purpose ("weights", "shuffle", ...) derived from a master seed, so one number on
 * the command line drives several independent streams instead of one stream reused for all.
 */
export function deriveSeed(seed: number, purpose: string): number {
  // FNV-1a over the purpose, started from the seed.
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < purpose.length; i++) hash = imul(hash ^ purpose.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}
