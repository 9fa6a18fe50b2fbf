import type { OutputFormat } from '../config';
import { PermanentError } from '../errors';

/** S3's hard limit on a key, in UTF-8 bytes. */
export const MAX_S3_KEY_BYTES = 1024;

/** `<size>/<source key>.<format>`: deterministic, so a duplicate delivery overwrites rather than adds. */
export const thumbnailKey = (size: number, sourceKey: string, format: OutputFormat) => `${size}/${sourceKey}.${format}`;

/**
 * Keys for every size, largest first. A source key near S3's limit cannot take the prefix and
 * suffix; that is a property of the upload, so it is a permanent failure rather than a crash.
 */
export function thumbnailKeys(sourceKey: string, sizes: readonly number[], format: OutputFormat): string[] {
  const keys = [...sizes].sort((a, b) => b - a).map((size) => thumbnailKey(size, sourceKey, format));
  const tooLong = keys.find((key) => Buffer.byteLength(key, 'utf8') > MAX_S3_KEY_BYTES);
  if (tooLong) {
    throw new PermanentError(
      'key-too-long',
      `thumbnail key would be ${Buffer.byteLength(tooLong, 'utf8')} bytes, over S3's ${MAX_S3_KEY_BYTES}-byte limit`,
    );
  }
  return keys;
}

/** S3 user metadata travels in HTTP headers, which must be ASCII: the source key is stored URL-encoded. */
export const encodeMetadataValue = (value: string) => encodeURIComponent(value);
