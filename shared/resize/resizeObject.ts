import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PipelineConfig } from '../config';
import { normalizeETag, type S3ObjectEvent } from '../events';
import { renderThumbnails } from '../image/thumbnails';
import { METRICS, MetricUnit, traced } from '../observability';
import { isOutputOf, METADATA, outputMetadata, thumbnailKeys } from '../outputs';
import { assertReadableSource, writeFromCurrentSource } from '../sourceObject';
import { deleteObjects, headObjectMetadata, putObject } from '../storage';

export interface ResizeDependencies {
  config: PipelineConfig;
  s3: S3Client;
  tracer: Tracer;
  metrics: Metrics;
}

export type ResizeOutcome =
  | { status: 'written'; keys: string[]; bytesIn: number; bytesOut: number }
  | { status: 'duplicate-skipped'; keys: string[] }
  | { status: 'source-missing' }
  | { status: 'deleted'; keys: string[] };

/**
 * Thumbnails for one uploaded object. The largest size is written last, so its presence with the
 * source's ETag proves a complete earlier run: a duplicate delivery then costs one HEAD request.
 */
export async function resizeObject(event: S3ObjectEvent, deps: ResizeDependencies): Promise<ResizeOutcome> {
  const { config, s3, tracer, metrics } = deps;
  assertReadableSource(event, config);
  const { sizes, format } = config.thumbnails;
  const keys = thumbnailKeys(event.key, sizes, format);
  const [largestKey] = keys;
  const eventETag = normalizeETag(event.eTag);
  if (eventETag) {
    if (isOutputOf(await headObjectMetadata(s3, config.buckets.thumbnails, largestKey), eventETag)) {
      metrics.addMetric(METRICS.duplicatesSkipped, MetricUnit.Count, 1);
      return { status: 'duplicate-skipped', keys };
    }
  }

  const started = performance.now();
  const written = await writeFromCurrentSource(event, deps, keys, async (source) => {
    const rendered = await traced(tracer, 'decode+resize', () => renderThumbnails(source.data, config.thumbnails, config.limits));
    const put = (index: number) => {
      const thumbnail = rendered.thumbnails[index];
      return putObject(s3, {
        bucket: config.buckets.thumbnails,
        key: keys[index],
        body: thumbnail.data,
        contentType: thumbnail.contentType,
        metadata: outputMetadata(
          { bucket: event.bucket, key: event.key, eTag: source.eTag ?? eventETag ?? '' },
          { [METADATA.width]: String(thumbnail.width), [METADATA.height]: String(thumbnail.height) },
        ),
      });
    };
    await traced(tracer, 'upload', async () => {
      await Promise.all(keys.slice(1).map((_, i) => put(i + 1)));
      await put(0);
    });
    return { bytesIn: source.data.length, bytesOut: rendered.thumbnails.reduce((sum, thumbnail) => sum + thumbnail.data.length, 0) };
  });
  if (!written) return { status: 'source-missing' };

  metrics.addMetric(METRICS.imagesProcessed, MetricUnit.Count, 1);
  metrics.addMetric(METRICS.thumbnailsWritten, MetricUnit.Count, keys.length);
  metrics.addMetric(METRICS.bytesIn, MetricUnit.Bytes, written.bytesIn);
  metrics.addMetric(METRICS.bytesOut, MetricUnit.Bytes, written.bytesOut);
  metrics.addMetric(METRICS.processingTime, MetricUnit.Milliseconds, performance.now() - started);
  return { status: 'written', keys, ...written };
}

/** A deleted source takes its thumbnails with it. */
export async function removeThumbnails(event: S3ObjectEvent, deps: ResizeDependencies): Promise<ResizeOutcome> {
  assertReadableSource(event, deps.config);
  const keys = thumbnailKeys(event.key, deps.config.thumbnails.sizes, deps.config.thumbnails.format);
  await deleteObjects(deps.s3, deps.config.buckets.thumbnails, keys);
  deps.metrics.addMetric(METRICS.thumbnailsDeleted, MetricUnit.Count, keys.length);
  return { status: 'deleted', keys };
}
