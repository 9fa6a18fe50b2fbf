import sharp from 'sharp';

/**
 * A difference hash (dHash): 8x8 bits of "is this pixel brighter than its right neighbour" on a
 * 9x8 greyscale reduction. Robust to re-encoding and scaling, sensitive to rotation and mirroring,
 * which is what orientation tests need (the approach of sharp's own assertSimilar).
 */
export async function differenceHash(image: Buffer): Promise<bigint> {
  const pixels = await sharp(image).greyscale().resize(9, 8, { fit: 'fill' }).raw().toBuffer();
  let hash = 0n;
  for (let row = 0; row < 8; row++) {
    for (let col = 0; col < 8; col++) {
      hash = (hash << 1n) | (pixels[row * 9 + col] > pixels[row * 9 + col + 1] ? 1n : 0n);
    }
  }
  return hash;
}

export async function perceptualDistance(a: Buffer, b: Buffer): Promise<number> {
  let diff = (await differenceHash(a)) ^ (await differenceHash(b));
  let bits = 0;
  for (; diff > 0n; diff >>= 1n) bits += Number(diff & 1n);
  return bits;
}
