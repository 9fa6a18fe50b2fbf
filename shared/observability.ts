import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

export { MetricUnit };

export const METRICS = {
  imagesProcessed: 'ImagesProcessed',
  thumbnailsWritten: 'ThumbnailsWritten',
  thumbnailsDeleted: 'ThumbnailsDeleted',
  duplicatesSkipped: 'DuplicatesSkipped',
  bytesIn: 'BytesIn',
  bytesOut: 'BytesOut',
  permanentFailures: 'PermanentFailures',
  transientFailures: 'TransientFailures',
  processingTime: 'ProcessingTime',
  modelLoadMs: 'ModelLoadMs',
  modelSwaps: 'ModelSwaps',
  inferenceMs: 'InferenceMs',
  predictionsWritten: 'PredictionsWritten',
  imagesFlagged: 'ImagesFlagged',
  requests: 'Requests',
  clientErrors: 'ClientErrors',
  serverErrors: 'ServerErrors',
  requestMs: 'RequestMs',
  uploadsChecked: 'UploadsChecked',
  uploadsMissing: 'UploadsMissing',
  uploadsRepaired: 'UploadsRepaired',
} as const;

export type MetricName = (typeof METRICS)[keyof typeof METRICS];

export interface Observability {
  logger: Logger;
  tracer: Tracer;
  metrics: Metrics;
}

/**
 * One Logger, Tracer and Metrics per function. Tracing follows POWERTOOLS_TRACE_ENABLED (the local
 * stage turns it off, so no X-Ray daemon errors); the namespace defaults so metrics never go
 * unnamed.
 */
export function createObservability(serviceName: string): Observability {
  return {
    logger: new Logger({ serviceName }),
    tracer: new Tracer({ serviceName }),
    metrics: new Metrics({ serviceName, namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'ImagePipeline' }),
  };
}

/** Runs one step of a record in its own X-Ray subsegment (a plain call when tracing is off). */
export async function traced<T>(tracer: Tracer, name: string, step: () => Promise<T>): Promise<T> {
  const parent = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
  if (!parent) return step();
  const subsegment = parent.addNewSubsegment(name);
  tracer.setSegment(subsegment);
  try {
    return await step();
  } catch (error) {
    subsegment.addError(error as Error);
    throw error;
  } finally {
    subsegment.close();
    tracer.setSegment(parent);
  }
}
