import sharp from 'sharp';
import type { ModelManifest } from './manifest';

export interface PreprocessedImage {
  /** Normalised pixels in the manifest's layout and channel order. */
  tensor: Float32Array;
  dims: [number, number, number, number];
}

/** Per channel, a 256-entry table of (v / scale - mean) / std: one lookup per pixel value instead of arithmetic. */
function normalisationTables(manifest: ModelManifest): Float32Array[] {
  return [0, 1, 2].map((channel) => {
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = (v / manifest.scale - manifest.mean[channel]) / manifest.std[channel];
    return table;
  });
}

/** Turns packed 8-bit RGB pixels into the model's input tensor (pure; the hot loop of preprocessing). */
export function toTensor(rgb: Uint8Array, manifest: ModelManifest): PreprocessedImage {
  const { width, height, layout, channelOrder } = manifest;
  const pixels = width * height;
  if (rgb.length !== pixels * 3) throw new RangeError(`expected ${pixels * 3} RGB bytes for ${width}x${height}, got ${rgb.length}`);
  const tables = normalisationTables(manifest);
  const order = channelOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const tensor = new Float32Array(pixels * 3);
  for (let outChannel = 0; outChannel < 3; outChannel++) {
    const source = order[outChannel];
    const table = tables[source];
    for (let p = 0; p < pixels; p++) {
      const index = layout === 'NCHW' ? outChannel * pixels + p : p * 3 + outChannel;
      tensor[index] = table[rgb[p * 3 + source]];
    }
  }
  const dims: [number, number, number, number] = layout === 'NCHW' ? [1, 3, height, width] : [1, height, width, 3];
  return { tensor, dims };
}

/**
 * Decodes, orients, drops alpha, converts to sRGB and fits the image to the model's input size,
 * then normalises. Call it on bytes already validated by the image probe.
 */
export async function preprocess(
  input: Buffer | sharp.Sharp,
  manifest: ModelManifest,
  limitInputPixels?: number,
): Promise<PreprocessedImage> {
  const pipeline = Buffer.isBuffer(input) ? sharp(input, { limitInputPixels, failOn: 'warning' }) : input;
  const rgb = await pipeline
    .autoOrient()
    .removeAlpha()
    .toColourspace('srgb')
    .resize(manifest.width, manifest.height, { fit: manifest.fit, position: 'centre' })
    .raw()
    .toBuffer();
  return toTensor(rgb, manifest);
}
