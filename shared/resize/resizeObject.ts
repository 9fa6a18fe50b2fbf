import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PipelineConfig } from '../config';
import { normalizeETag, type S3ObjectEvent } from '../events';
import { isFlaggedOutput, predictionFlags } from '../moderation/enforce';
import { METRICS, MetricUnit } from '../observability';
import { isOutputOf, thumbnailKeys } from '../outputs';
import { assertReadableSource, writeFromCurrentSource } from '../sourceObject';
import { deleteObjects, headObjectMetadata } from '../storage';
import { writeThumbnails } from './writeThumbnails';

export interface ResizeDependencies {
  config: PipelineConfig;
  s3: S3Client;
  tracer: Tracer;
  metrics: Metrics;
}

export type ResizeOutcome =
  | { status: 'written'; eTag: string; keys: string[]; bytesIn: number; bytesOut: number; obscured: boolean }
  | { status: 'duplicate-skipped'; eTag: string; keys: string[] }
  | { status: 'source-missing' }
  | { status: 'deleted'; keys: string[] };

/**
 * Thumbnails for one uploaded object, obscured when its prediction flagged it. The largest size
 * is written last, so its presence with the source's ETag proves a complete earlier run: a
 * duplicate delivery then costs a HEAD or two.
 */
export async function resizeObject(event: S3ObjectEvent, deps: ResizeDependencies): Promise<ResizeOutcome> {
  const { config, s3, metrics } = deps;
  assertReadableSource(event, config);
  const { sizes, format } = config.thumbnails;
  const keys = thumbnailKeys(event.key, sizes, format);
  const [largestKey] = keys;
  const eventETag = normalizeETag(event.eTag);
  if (eventETag && !event.force) {
    const marker = await headObjectMetadata(s3, config.buckets.thumbnails, largestKey);
    const done =
      isOutputOf(marker, eventETag) && (isFlaggedOutput(marker, eventETag) || !(await predictionFlags(event.key, eventETag, deps)));
    if (done) {
      metrics.addMetric(METRICS.duplicatesSkipped, MetricUnit.Count, 1);
      return { status: 'duplicate-skipped', eTag: eventETag, keys };
    }
  }

  const started = performance.now();
  const written = await writeFromCurrentSource(event, deps, keys, async (downloaded) => {
    const source = { bucket: event.bucket, key: event.key, eTag: downloaded.eTag ?? eventETag ?? '', data: downloaded.data };
    let obscure = await predictionFlags(event.key, source.eTag, deps);
    for (;;) {
      const { bytesOut } = await writeThumbnails(source, keys, { obscure }, deps);
      // Flagged while these were written: the predict function may have found them not yet there.
      if (obscure || !(await predictionFlags(event.key, source.eTag, deps))) {
        return { eTag: source.eTag, bytesIn: downloaded.data.length, bytesOut, obscure };
      }
      obscure = true;
    }
  });
  if (!written) return { status: 'source-missing' };

  metrics.addMetric(METRICS.imagesProcessed, MetricUnit.Count, 1);
  metrics.addMetric(METRICS.thumbnailsWritten, MetricUnit.Count, keys.length);
  metrics.addMetric(METRICS.bytesIn, MetricUnit.Bytes, written.bytesIn);
  metrics.addMetric(METRICS.bytesOut, MetricUnit.Bytes, written.bytesOut);
  metrics.addMetric(METRICS.processingTime, MetricUnit.Milliseconds, performance.now() - started);
  return { status: 'written', eTag: written.eTag, keys, bytesIn: written.bytesIn, bytesOut: written.bytesOut, obscured: written.obscure };
}

/** A deleted source takes its thumbnails with it. */
export async function removeThumbnails(event: S3ObjectEvent, deps: ResizeDependencies): Promise<ResizeOutcome> {
  assertReadableSource(event, deps.config);
  const keys = thumbnailKeys(event.key, deps.config.thumbnails.sizes, deps.config.thumbnails.format);
  await deleteObjects(deps.s3, deps.config.buckets.thumbnails, keys);
  deps.metrics.addMetric(METRICS.thumbnailsDeleted, MetricUnit.Count, keys.length);
  return { status: 'deleted', keys };
}
