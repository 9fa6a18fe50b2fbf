import type { OutputFormat } from './config';
import { PermanentError } from './errors';
import { normalizeETag } from './events';

/**
 * Where the outputs of an upload live and what they carry: the keys (`<size>/<key>.<format>`,
 * `predictions/<key>.json`), the metadata that ties an output to the source version it was made
 * from, and the check that an output already exists for that version. Resize, predict and the audit
 * all use this module, so they cannot disagree about what "done" means.
 */

/** S3's hard limit on a key, in UTF-8 bytes. */
export const MAX_S3_KEY_BYTES = 1024;
export const PREDICTIONS_PREFIX = 'predictions/';

export type OutputFamilyName = 'thumbnails' | 'prediction';

/** Whether S3 can store an object under this key. */
export const fitsS3Key = (key: string) => Buffer.byteLength(key, 'utf8') <= MAX_S3_KEY_BYTES;

function withinKeyLimit(key: string, what: string): string {
  if (!fitsS3Key(key)) {
    const bytes = Buffer.byteLength(key, 'utf8');
    throw new PermanentError('key-too-long', `${what} key would be ${bytes} bytes, over S3's ${MAX_S3_KEY_BYTES}-byte limit`);
  }
  return key;
}

/** `<size>/<source key>.<format>` for every size, largest first: deterministic, so a duplicate delivery overwrites rather than adds. */
const sizedKeys = (sourceKey: string, sizes: readonly number[], format: OutputFormat) =>
  [...sizes].sort((a, b) => b - a).map((size) => `${size}/${sourceKey}.${format}`);
const predictionKeyOf = (sourceKey: string) => `${PREDICTIONS_PREFIX}${sourceKey}.json`;

/**
 * Keys for every size, largest first. A source key near S3's limit cannot take the prefix and
 * suffix; that is a property of the upload, so it is a permanent failure rather than a crash.
 */
export function thumbnailKeys(sourceKey: string, sizes: readonly number[], format: OutputFormat): string[] {
  const keys = sizedKeys(sourceKey, sizes, format);
  for (const key of keys) withinKeyLimit(key, 'thumbnail');
  return keys;
}

export const predictionKey = (sourceKey: string) => withinKeyLimit(predictionKeyOf(sourceKey), 'prediction');

/** What an upload must have in one output family, and the object written last, whose metadata proves the run. */
export interface FamilyOutputs {
  expected: string[];
  marker: string;
}

/**
 * The outputs of each family for a source key. A key too long for its outputs gets the keys it
 * would have had: they cannot exist, so the audit looks for the upload in a DLQ instead.
 */
export const OUTPUT_FAMILIES: Record<
  OutputFamilyName,
  (sourceKey: string, thumbnails: { sizes: readonly number[]; format: OutputFormat }) => FamilyOutputs
> = {
  thumbnails: (sourceKey, { sizes, format }) => {
    const keys = sizedKeys(sourceKey, sizes, format);
    return { expected: keys, marker: keys[0] };
  },
  prediction: (sourceKey) => {
    const key = predictionKeyOf(sourceKey);
    return { expected: [key], marker: key };
  },
};

/** User metadata names on every output. */
export const METADATA = {
  sourceBucket: 'source-bucket',
  sourceKey: 'source-key',
  sourceETag: 'source-etag',
  width: 'width',
  height: 'height',
  model: 'model',
  /** `flagged` on the thumbnails of a flagged upload (obscured) and on its prediction; `clean` on a clean prediction. */
  moderation: 'moderation',
} as const;

/** S3 user metadata travels in HTTP headers, which must be ASCII: the source key is stored URL-encoded. */
const encodeMetadataValue = (value: string) => encodeURIComponent(value);

/** The metadata that ties an output to the source version it was made from, plus what the output adds. */
export function outputMetadata(
  source: { bucket: string; key: string; eTag: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    [METADATA.sourceBucket]: source.bucket,
    [METADATA.sourceKey]: encodeMetadataValue(source.key),
    [METADATA.sourceETag]: source.eTag,
    ...extra,
  };
}

/**
 * Whether an output's metadata says it was made from this source ETag (and, when given, with the
 * same values of `extra`, e.g. the model): then a duplicate delivery has nothing to do.
 */
export function isOutputOf(
  metadata: Record<string, string> | undefined,
  eTag: string | undefined,
  extra: Record<string, string> = {},
): boolean {
  const wanted = normalizeETag(eTag);
  if (!metadata || !wanted || metadata[METADATA.sourceETag] !== wanted) return false;
  return Object.entries(extra).every(([name, value]) => metadata[name] === value);
}
