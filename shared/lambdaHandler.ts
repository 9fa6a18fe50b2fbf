import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { traced, type Observability } from './observability';

/**
 * Wraps a per-record function into an SQS-triggered Lambda handler with a partial batch response:
 * one failed record never fails the batch. Records run one at a time, which bounds memory to one
 * decoded image and keeps each log line's keys right.
 */
export function createSqsBatchHandler(observability: Observability, handleRecord: (record: SQSRecord) => Promise<unknown>) {
  const { logger, tracer, metrics } = observability;
  const processor = new BatchProcessor(EventType.SQS);
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    logger.addContext(context);
    tracer.annotateColdStart();
    tracer.addServiceNameAnnotation();
    metrics.captureColdStartMetric();
    try {
      return await traced(tracer, `## ${context.functionName}`, () =>
        processPartialResponse(event, handleRecord, processor, { context, processInParallel: false, throwOnFullBatchFailure: false }),
      );
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
