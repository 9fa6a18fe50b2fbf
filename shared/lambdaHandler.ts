import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { TransientError } from './errors';
import { type Observability, traced } from './observability';

/**
 * A record is not started with less time than this left: a batch of large images on a slow
 * Lambda could otherwise outlast the timeout, and a timed-out invocation fails the whole batch
 * with no reason recorded. Unstarted records fail alone and the queue redelivers them.
 */
const MIN_REMAINING_MS_TO_START = 5000;

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
      const handleInTime = async (record: SQSRecord) => {
        const remainingMs = context.getRemainingTimeInMillis();
        if (remainingMs < MIN_REMAINING_MS_TO_START) {
          throw new TransientError('timeout', `not started with ${remainingMs} ms left; the queue will redeliver it`);
        }
        return handleRecord(record);
      };
      const response = await traced(tracer, `## ${context.functionName}`, () =>
        processPartialResponse(event, handleInTime, processor, { context, processInParallel: false, throwOnFullBatchFailure: false }),
      );
      reportFailuresToInvokeLocal(response, event.Records.length);
      return response;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

/**
 * `serverless invoke local` prints the batch response and exits 0 even when records failed, which
 * hides a failure from a script or a person skimming the output: there (IS_LOCAL is its marker,
 * never set on Lambda) a partial failure also sets the exit code and says so on stderr.
 */
function reportFailuresToInvokeLocal(response: SQSBatchResponse, records: number, env: NodeJS.ProcessEnv = process.env): void {
  const failed = response.batchItemFailures.length;
  if (env.IS_LOCAL !== 'true' || failed === 0) return;
  process.exitCode = 1;
  console.error(`${failed} of ${records} record(s) failed (batchItemFailures below); the logs above say why`);
}
