import sharp from 'sharp';
import type { LimitsConfig, OutputFormat, ThumbnailConfig } from '../config';
import { CONTENT_TYPES, encodeAs } from './encode';
import { planSizes } from './plan';
import { type ProbedImage, probeImage } from './probe';
import { classifySharpError } from './sharpErrors';

interface Thumbnail {
  size: number;
  width: number;
  height: number;
  format: OutputFormat;
  contentType: string;
  data: Buffer;
}

export interface RenderedImage {
  source: ProbedImage;
  thumbnails: Thumbnail[];
}

/**
 * Decodes the source once, upright and in sRGB, straight at the largest planned size (libvips
 * shrinks JPEG and WebP while loading), then derives every smaller size from that in-memory copy.
 * Only the first frame of an animation is used. No metadata is copied to the outputs: EXIF,
 * XMP and ICC are dropped after the pixels are converted to sRGB.
 */
export async function renderThumbnails(input: Buffer, config: ThumbnailConfig, limits: LimitsConfig): Promise<RenderedImage> {
  const source = await probeImage(input, limits);
  const [largest, ...smaller] = planSizes(source.width, source.height, config.sizes);
  try {
    const base = await sharp(input, { limitInputPixels: limits.maxInputPixels, failOn: 'warning', sequentialRead: true })
      .autoOrient()
      .resize(largest.width, largest.height, { fit: 'fill' })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const { width, height, channels } = base.info;
    const fromBase = () => sharp(base.data, { raw: { width, height, channels } });
    const encode = async (pipeline: sharp.Sharp, size: number): Promise<Thumbnail> => {
      const { data, info } = await encodeAs(pipeline, config.format, config.quality).toBuffer({ resolveWithObject: true });
      return { size, width: info.width, height: info.height, format: config.format, contentType: CONTENT_TYPES[config.format], data };
    };
    const thumbnails = await Promise.all([
      encode(fromBase(), largest.size),
      ...smaller.map((planned) => encode(fromBase().resize(planned.width, planned.height, { fit: 'fill' }), planned.size)),
    ]);
    return { source, thumbnails };
  } catch (error) {
    throw classifySharpError(error);
  }
}
