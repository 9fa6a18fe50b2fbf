import type { Sharp } from 'sharp';
import type { OutputFormat } from '../config';

export const CONTENT_TYPES: Record<OutputFormat, string> = {
  webp: 'image/webp',
  jpeg: 'image/jpeg',
  avif: 'image/avif',
};

/**
 * libwebp's method (0 fastest .. 6 smallest): 2 halves the encoder CPU of sharp's default 4 for
 * about 2% more bytes (the effort sweep in notes/perf.md).
 */
const WEBP_EFFORT = 2;

/** Applies the output encoder. JPEG has no alpha channel, so transparency is flattened onto white. */
export function encodeAs(pipeline: Sharp, format: OutputFormat, quality: number): Sharp {
  switch (format) {
    case 'webp':
      return pipeline.webp({ quality, effort: WEBP_EFFORT });
    case 'jpeg':
      return pipeline.flatten({ background: '#ffffff' }).jpeg({ quality, mozjpeg: true });
    case 'avif':
      return pipeline.avif({ quality, effort: 4 });
  }
}
