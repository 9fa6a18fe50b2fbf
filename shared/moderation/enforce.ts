import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PipelineConfig } from '../config';
import { fitsS3Key, isOutputOf, METADATA, OUTPUT_FAMILIES, thumbnailKeys } from '../outputs';
import { writeThumbnails } from '../resize/writeThumbnails';
import { headObjectMetadata } from '../storage';

/**
 * A flagged upload never keeps a clear thumbnail, whichever of resize and predict finishes first.
 * Each writes its own outputs and then looks at the other's: resize, after writing thumbnails,
 * asks whether the prediction of that version is flagged (and writes them again, obscured);
 * predict, after writing a flagged prediction, obscures the thumbnails of that version if they
 * are there. S3 reads see every completed write, so at least one of the two sees the other.
 */

type Deps = { config: PipelineConfig; s3: S3Client; tracer: Tracer };

/** An output's metadata says it belongs to this source version and that version is flagged. */
export const isFlaggedOutput = (metadata: Record<string, string> | undefined, eTag: string | undefined) =>
  isOutputOf(metadata, eTag, { [METADATA.moderation]: 'flagged' });

/** Whether the prediction of this source version flagged it (a key too long for a prediction has none). */
export async function predictionFlags(sourceKey: string, eTag: string | undefined, deps: Pick<Deps, 'config' | 's3'>): Promise<boolean> {
  const key = OUTPUT_FAMILIES.prediction(sourceKey, deps.config.thumbnails).marker;
  if (!fitsS3Key(key)) return false;
  return isFlaggedOutput(await headObjectMetadata(deps.s3, deps.config.buckets.thumbnails, key), eTag);
}

/**
 * For a flagged version: obscures its thumbnails when they are written and still clear. When they
 * are not there yet (or are of another version), the resize function obscures them itself.
 */
export async function obscureWrittenThumbnails(
  source: { bucket: string; key: string; eTag: string; data: Buffer | (() => Promise<Buffer | undefined>) },
  deps: Deps,
): Promise<'obscured' | 'already-obscured' | 'not-written'> {
  const { sizes, format } = deps.config.thumbnails;
  const keys = thumbnailKeys(source.key, sizes, format);
  const marker = await headObjectMetadata(deps.s3, deps.config.buckets.thumbnails, keys[0]);
  if (!isOutputOf(marker, source.eTag)) return 'not-written';
  if (isFlaggedOutput(marker, source.eTag)) return 'already-obscured';
  const data = typeof source.data === 'function' ? await source.data() : source.data;
  if (!data) return 'not-written';
  await writeThumbnails({ ...source, data }, keys, { obscure: true }, deps);
  return 'obscured';
}
