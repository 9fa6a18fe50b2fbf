import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PipelineConfig } from './config';
import { PermanentError, TransientError } from './errors';
import type { S3ObjectEvent } from './events';
import { traced } from './observability';
import { type DownloadedObject, deleteObjects, downloadObject, headObject } from './storage';

/** The recursion guard: outputs must never be read back as sources, or each write would trigger another. */
export function assertReadableSource(event: S3ObjectEvent, config: PipelineConfig): void {
  if (event.bucket === config.buckets.thumbnails) {
    throw new PermanentError('recursion', `refusing to read from the output bucket ${event.bucket}`);
  }
}

/**
 * Downloads the uploaded object every function starts from, refusing it before any transfer when
 * the event already says it is too large. Undefined when the object has since been deleted.
 */
export async function downloadSource(
  event: S3ObjectEvent,
  deps: { config: PipelineConfig; s3: S3Client; tracer: Tracer },
): Promise<DownloadedObject | undefined> {
  const { config, s3, tracer } = deps;
  assertReadableSource(event, config);
  if (event.size !== undefined && event.size > config.limits.maxInputBytes) {
    throw new PermanentError('too-large', `${event.size} bytes exceeds the limit of ${config.limits.maxInputBytes} bytes`);
  }
  return traced(tracer, 'download', () => downloadObject(s3, event.bucket, event.key, config.limits.maxInputBytes));
}

/** How many times a run starts over because the source changed under it, before it lets the queue retry. */
const MAX_SOURCE_CHANGES = 3;

/**
 * Writes outputs from the current source, then checks with a HEAD that the source is still the
 * version that was read. An overwrite or a delete racing this run would otherwise leave outputs of
 * a stale version (the newer event's outputs overwritten by this slower run) or outputs without a
 * source. The check runs after the last write, so it always sees the racing change: a changed
 * source is processed again, a deleted one has its outputs removed. Undefined when the source is gone.
 */
export async function writeFromCurrentSource<T>(
  event: S3ObjectEvent,
  deps: { config: PipelineConfig; s3: S3Client; tracer: Tracer },
  outputKeys: string[],
  write: (source: DownloadedObject, downloadMs: number) => Promise<T>,
): Promise<T | undefined> {
  for (let round = 1; ; round++) {
    const started = performance.now();
    const source = await downloadSource(event, deps);
    if (!source) return undefined;
    const written = await write(source, performance.now() - started);
    const current = await headObject(deps.s3, event.bucket, event.key);
    if (current && current.eTag === source.eTag) return written;
    if (!current) {
      await deleteObjects(deps.s3, deps.config.buckets.thumbnails, outputKeys);
      return undefined;
    }
    if (round >= MAX_SOURCE_CHANGES) {
      throw new TransientError('unexpected', `s3://${event.bucket}/${event.key} changed during each of ${round} runs; retrying later`);
    }
  }
}
