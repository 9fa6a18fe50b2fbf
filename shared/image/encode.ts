import type { Sharp } from 'sharp';
import type { OutputFormat } from '../config';

export const CONTENT_TYPES: Record<OutputFormat, string> = {
  webp: 'image/webp',
  jpeg: 'image/jpeg',
  avif: 'image/avif',
};

/** Applies the output encoder. JPEG has no alpha channel, so transparency is flattened onto white. */
export function encodeAs(pipeline: Sharp, format: OutputFormat, quality: number): Sharp {
  switch (format) {
    case 'webp':
      return pipeline.webp({ quality, effort: 4 });
    case 'jpeg':
      return pipeline.flatten({ background: '#ffffff' }).jpeg({ quality, mozjpeg: true });
    case 'avif':
      return pipeline.avif({ quality, effort: 4 });
  }
}
