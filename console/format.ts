import type { ImageView } from '../shared/api/types';
import { REASONS } from '../shared/operations/reasons';

/** Small pure helpers the views share. */

export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '?';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The upload's own name: the key's last segment (`u/<date>/<uuid>/<name>`). */
export const filenameOf = (key: string): string => key.slice(key.lastIndexOf('/') + 1) || key;

export const percent = (score: number): string => `${(score * 100).toFixed(1)}%`;

export const formatTime = (iso: string | undefined): string => (iso ? new Date(iso).toLocaleString() : '—');

/** What a reason code means and what to do, from the operators' reasons table. */
export function reasonInfo(reason: string): { meaning: string; action: string } | undefined {
  return REASONS[reason];
}

/**
 * Still to change without anyone acting: pending, or judged flagged with no thumbnail handed out
 * yet (they are being written obscured). The views poll such an image until it settles.
 */
export const unsettled = (image: ImageView): boolean =>
  image.status === 'pending' || (image.status === 'complete' && image.moderation?.verdict === 'flagged' && image.thumbnails.length === 0);

/** How often a view asks again about an unsettled image. */
export const POLL_MS = 1500;

/** The 256 px thumbnail as `src`, every size of the same format in `srcset`. */
export function thumbnailSources(image: ImageView): { src: string; srcset: string; width: number; height: number } | undefined {
  // The API hands out no thumbnail before moderation has judged the upload, nor a clear one of a flagged upload.
  const smallest = [...image.thumbnails].sort((a, b) => a.size - b.size);
  const first = smallest.find((thumbnail) => thumbnail.size === 256) ?? smallest[0];
  if (!first) return undefined;
  const same = smallest.filter((thumbnail) => thumbnail.format === first.format);
  return {
    src: first.url,
    srcset: same.map((thumbnail) => `${thumbnail.url} ${thumbnail.width}w`).join(', '),
    width: first.width,
    height: first.height,
  };
}
