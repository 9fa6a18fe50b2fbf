import sharp from 'sharp';
import type { LimitsConfig } from '../config';
import { PermanentError } from '../errors';
import { requireAllowedFormat, type InputFormat } from './sniff';
import { classifySharpError } from './sharpErrors';

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
  const frames = metadata.pages ?? 1;
  if (frames > limits.maxFrames) {
    throw new PermanentError('too-many-frames', `${frames} frames/pages exceeds the limit of ${limits.maxFrames}`);
  }
  return { format, width, height, frames, hasAlpha: metadata.hasAlpha };
}
