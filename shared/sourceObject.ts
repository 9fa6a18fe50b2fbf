import type { S3Client } from '@aws-sdk/client-s3';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { PipelineConfig } from './config';
import { PermanentError } from './errors';
import type { S3ObjectEvent } from './events';
import { traced } from './observability';
import { downloadObject, type DownloadedObject } from './storage';

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
