import sharp from 'sharp';
import type { LimitsConfig } from '../config';
import { PermanentError } from '../errors';
import { classifySharpError } from './sharpErrors';
import { type InputFormat, requireAllowedFormat } from './sniff';
import { countTiffDirectories } from './tiffDirectories';

/**
 * The longest edge accepted, whatever the pixel count. Shrinking a very long edge to a thumbnail
 * makes libvips hold (nearly) the whole image at once: a 791 KB PNG of 10,000,000 x 10 16-bit RGBA
 * pixels (within the pixel limit) peaked at 15 GB RSS and 45 s. 65535 is the largest edge a JPEG or
 * GIF can declare (WebP: 16383), so only PNG and TIFF can exceed it.
 */
const MAX_INPUT_EDGE = 65535;

/**
 * The pixel limit is sized for 8-bit RGBA (4 bytes a pixel); deeper or wider pixels count for more.
 * Some decodes hold the whole image (an interlaced PNG is decoded in one piece; a very wide image
 * is nearly whole in the shrink's window), so a pixel count alone does not bound memory: a 791 KB
 * interlaced 16-bit RGBA PNG of 10000x10000 peaked at 969 MB RSS, and a 17 KB float RGBA TIFF of
 * 65535x1525 at 1 GB.
 */
const BYTES_PER_LIMIT_PIXEL = 4;
const BYTES_PER_SAMPLE: Record<string, number> = {
  uchar: 1,
  char: 1,
  ushort: 2,
  short: 2,
  uint: 4,
  int: 4,
  float: 4,
  complex: 8,
  double: 8,
  dpcomplex: 16,
};
/**
 * Formats that hold several times their decoded size while decoding. AVIF: libheif and the AV1
 * decoder keep YUV planes and reference buffers besides the RGB copy; an 11 MB 48 MP RGBA AVIF,
 * within every other limit, took 5 s on 2 cores and 883 MB over an idle process (~5x its 192 MB
 * decoded), 973 MB RSS in all.
 */
const DECODE_OVERHEAD: Partial<Record<InputFormat, number>> = { avif: 5 };

export interface ProbedImage {
  format: InputFormat;
  /** Upright dimensions (EXIF orientation applied). */
  width: number;
  height: number;
  frames: number;
  hasAlpha: boolean;
}

/**
 * Validates an image from its header alone, before any pixel is decoded: real format from the
 * bytes, pixel count and frame count against the limits. A 60000x60000 "decompression bomb" is
 * refused here at the cost of reading a few bytes.
 */
export async function probeImage(input: Buffer, limits: LimitsConfig): Promise<ProbedImage> {
  if (input.length > limits.maxInputBytes) {
    throw new PermanentError('too-large', `${input.length} bytes exceeds the limit of ${limits.maxInputBytes} bytes`);
  }
  const format = requireAllowedFormat(input);
  if (format === 'tiff' && countTiffDirectories(input, limits.maxFrames) > limits.maxFrames) {
    throw new PermanentError('too-many-frames', `more than ${limits.maxFrames} TIFF directories (pages)`);
  }
  let metadata: sharp.Metadata;
  try {
    metadata = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw classifySharpError(error);
  }
  const { width, height } = metadata.autoOrient ?? metadata;
  if (!width || !height) throw new PermanentError('corrupt', `the ${format} header declares no dimensions`);
  const pageHeight = metadata.pageHeight ?? height;
  const pixels = width * Math.min(height, pageHeight);
  if (pixels > limits.maxInputPixels) {
    throw new PermanentError('too-many-pixels', `${width}x${height} is ${pixels} pixels, over the limit of ${limits.maxInputPixels}`);
  }
  if (Math.max(width, Math.min(height, pageHeight)) > MAX_INPUT_EDGE) {
    throw new PermanentError('too-many-pixels', `${width}x${height} has an edge over ${MAX_INPUT_EDGE} pixels`);
  }
  const decodedBytes = pixels * (metadata.channels ?? 4) * (BYTES_PER_SAMPLE[metadata.depth ?? ''] ?? 1);
  const overhead = DECODE_OVERHEAD[format] ?? 1;
  if (decodedBytes * overhead > limits.maxInputPixels * BYTES_PER_LIMIT_PIXEL) {
    throw new PermanentError(
      'too-many-pixels',
      `${width}x${height} with ${metadata.channels} ${metadata.depth} channels decodes to ${decodedBytes} bytes` +
        `${overhead > 1 ? ` (x${overhead} while decoding ${format})` : ''}, over the limit of ${limits.maxInputPixels} pixels x ${BYTES_PER_LIMIT_PIXEL} bytes`,
    );
  }
  const frames = metadata.pages ?? 1;
  if (frames > limits.maxFrames) {
    throw new PermanentError('too-many-frames', `${frames} frames/pages exceeds the limit of ${limits.maxFrames}`);
  }
  return { format, width, height, frames, hasAlpha: metadata.hasAlpha };
}
