import type { Sharp } from 'sharp';
import type { OutputFormat } from '../config';

export const CONTENT_TYPES: Record<OutputFormat, string> = {
  webp: 'image/webp',
  jpeg: 'image/jpeg',
  avif: 'image/avif',
};

/**
 * libwebp's method (0 fastest .. 6 smallest) for thumbnails. The encodes are most of the CPU once
 * the source is decoded only once: on the benchmark's photographs (12 Debian wallpapers + 6
 * EXIF-orientation photos, 256/512/1024 at q80) effort 2 took 734 ms of encoder CPU against
 * 1516 ms at sharp's default 4 (-52%), for 1.8% more bytes and 0.18 dB less PSNR (32.14 vs 32.32 dB);
 * effort 1 saves a further 25% but adds 8.6% bytes. See notes/perf.md.
 */
export const WEBP_EFFORT = 2;

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
