import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PipelineConfig } from '../config';
import { renderThumbnails } from '../image/thumbnails';
import { traced } from '../observability';
import { METADATA, outputMetadata } from '../outputs';
import { putObject } from '../storage';

/**
 * Renders every size of a source (obscured for a flagged upload) and writes them, the largest
 * last: its presence with the source's ETag proves the smaller ones were written before it.
 * The resize function writes them; the predict function writes them again, obscured, when it
 * flags an upload whose thumbnails are already there.
 */
export async function writeThumbnails(
  source: { bucket: string; key: string; eTag: string; data: Buffer },
  keys: string[],
  options: { obscure: boolean },
  deps: { config: PipelineConfig; s3: S3Client; tracer: Tracer },
): Promise<{ bytesOut: number }> {
  const { config, s3, tracer } = deps;
  const rendered = await traced(tracer, options.obscure ? 'decode+obscure' : 'decode+resize', () =>
    renderThumbnails(source.data, config.thumbnails, config.limits, options),
  );
  const put = (index: number) => {
    const thumbnail = rendered.thumbnails[index];
    return putObject(s3, {
      bucket: config.buckets.thumbnails,
      key: keys[index],
      body: thumbnail.data,
      contentType: thumbnail.contentType,
      metadata: outputMetadata(source, {
        [METADATA.width]: String(thumbnail.width),
        [METADATA.height]: String(thumbnail.height),
        ...(options.obscure && { [METADATA.moderation]: 'flagged' }),
      }),
    });
  };
  await traced(tracer, 'upload', async () => {
    await Promise.all(keys.slice(1).map((_, i) => put(i + 1)));
    await put(0);
  });
  return { bytesOut: rendered.thumbnails.reduce((sum, thumbnail) => sum + thumbnail.data.length, 0) };
}
