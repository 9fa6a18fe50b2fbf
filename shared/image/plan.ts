/** Output dimensions for one configured size. */
export interface PlannedSize {
  size: number;
  width: number;
  height: number;
}

/**
 * Fits the (already upright) image inside a `size` x `size` box, never enlarging: an image
 * smaller than a size is written at its own dimensions. Sizes come out largest first, because the
 * largest is decoded from the source and every smaller one is derived from it.
 */
export function planSizes(width: number, height: number, sizes: readonly number[]): PlannedSize[] {
  if (!(width > 0 && height > 0)) throw new RangeError(`image dimensions must be positive, got ${width}x${height}`);
  const longest = Math.max(width, height);
  return [...sizes]
    .sort((a, b) => b - a)
    .map((size) => {
      const scale = Math.min(1, size / longest);
      return {
        size,
        width: Math.max(1, Math.round(width * scale)),
        height: Math.max(1, Math.round(height * scale)),
      };
    });
}
