import sharp from 'sharp';
import type { LimitsConfig, OutputFormat, ThumbnailConfig } from '../config';
import { CONTENT_TYPES, encodeAs } from './encode';
import { type PlannedSize, planSizes } from './plan';
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
 * An obscured thumbnail keeps this many pixels of the picture along its longer edge, whatever its
 * size: enough for the colours and the rough layout, nothing recognisable.
 */
const OBSCURED_EDGE = 8;

/**
 * Decodes the source once, upright and in sRGB, straight at the largest planned size (libvips
 * shrinks JPEG and WebP while loading), then derives every smaller size from that in-memory copy.
 * Only the first frame of an animation is used. No metadata is copied to the outputs: EXIF,
 * XMP and ICC are dropped after the pixels are converted to sRGB.
 */
export async function renderThumbnails(
  input: Buffer,
  config: ThumbnailConfig,
  limits: LimitsConfig,
  options: { obscure?: boolean } = {},
): Promise<RenderedImage> {
  const source = await probeImage(input, limits);
  const planned = planSizes(source.width, source.height, config.sizes);
  const [largest] = planned;
  try {
    // Obscured: decoded straight to a few pixels, so no detail survives into any size.
    const decodeTo = options.obscure ? planSizes(largest.width, largest.height, [OBSCURED_EDGE])[0] : largest;
    const base = await sharp(input, { limitInputPixels: limits.maxInputPixels, failOn: 'warning', sequentialRead: true })
      .autoOrient()
      .resize(decodeTo.width, decodeTo.height, { fit: 'fill' })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const { width, height, channels } = base.info;
    const fromBase = () => sharp(base.data, { raw: { width, height, channels } });
    const encode = async (pipeline: sharp.Sharp, size: number): Promise<Thumbnail> => {
      const { data, info } = await encodeAs(pipeline, config.format, config.quality).toBuffer({ resolveWithObject: true });
      return { size, width: info.width, height: info.height, format: config.format, contentType: CONTENT_TYPES[config.format], data };
    };
    const sized = (size: PlannedSize) =>
      options.obscure
        ? fromBase()
            .resize(size.width, size.height, { fit: 'fill', kernel: 'cubic' })
            .blur(Math.max(0.3, Math.max(size.width, size.height) / (4 * OBSCURED_EDGE)))
        : size === largest
          ? fromBase()
          : fromBase().resize(size.width, size.height, { fit: 'fill' });
    const thumbnails = await Promise.all(planned.map((size) => encode(sized(size), size.size)));
    return { source, thumbnails };
  } catch (error) {
    throw classifySharpError(error);
  }
}
