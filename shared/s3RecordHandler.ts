import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { classifyError } from './classifyError';
import { sendToDeadLetterQueue } from './deadLetter';
import { PermanentError, type PipelineError, TransientError } from './errors';
import { notificationBody, parseS3MessageBody, REPAIR_ATTRIBUTE, type S3ObjectEvent } from './events';
import { METRICS, MetricUnit } from './observability';

export interface S3RecordHandlerOptions<Outcome> {
  sqs: SQSClient;
  deadLetterQueueUrl: string | undefined;
  logger: Logger;
  metrics: Metrics;
  /** The queue's redrive maxReceiveCount: the attempt at which a transient failure is dead-lettered with its reason. */
  maxReceiveCount: number;
  /** Does the work for one object event; throws a PermanentError or anything else (classified). */
  handle: (event: S3ObjectEvent, logger: Logger) => Promise<Outcome>;
  /** After the work of an event (e.g. the catalogue record); its failure fails the event like the work's. */
  after?: (event: S3ObjectEvent, outcome: Outcome) => Promise<void>;
  /**
   * Before a failure of an event goes to the DLQ (e.g. recording it in the catalogue). If it fails,
   * the record is retried instead (the DLQ entry would otherwise be all there is), except on the
   * last attempt, when the DLQ entry must not be lost for it.
   */
  beforeDeadLetter?: (event: S3ObjectEvent, error: PipelineError) => Promise<void>;
}

/**
 * The failure model for one SQS record carrying an S3 notification, shared by every function:
 * a permanent failure is sent to the DLQ with its reason and the record counts as handled;
 * anything else fails the record alone, so the queue retries it, until the last attempt the
 * redrive policy allows, when it too is dead-lettered with its reason.
 */
export function createS3RecordHandler<Outcome>(options: S3RecordHandlerOptions<Outcome>) {
  const { sqs, deadLetterQueueUrl, metrics, handle, maxReceiveCount } = options;

  const deadLetter = async (record: SQSRecord, logger: Logger, error: PipelineError, event?: S3ObjectEvent) => {
    if (event && options.beforeDeadLetter) {
      try {
        await options.beforeDeadLetter(event, error);
      } catch (recordingError) {
        const message = `could not record the ${error.reason} failure before dead-lettering: ${(recordingError as Error).message}`;
        if (Number(record.attributes?.ApproximateReceiveCount) < maxReceiveCount) throw new TransientError('service-unavailable', message);
        logger.error(message);
      }
    }
    logger.warn(`${error.failureClass} failure: sending to the DLQ`, { reason: error.reason, error: error.message });
    await sendToDeadLetterQueue(sqs, deadLetterQueueUrl, {
      body: event ? notificationBody([event]) : record.body,
      error,
      record,
      source: event && { bucket: event.bucket, key: event.key },
    });
  };

  return async (record: SQSRecord): Promise<Outcome[]> => {
    const logger = options.logger.createChild();
    logger.appendKeys({ messageId: record.messageId, receiveCount: record.attributes?.ApproximateReceiveCount });
    let events: S3ObjectEvent[];
    const force = record.messageAttributes?.[REPAIR_ATTRIBUTE.name]?.stringValue === REPAIR_ATTRIBUTE.force;
    try {
      events = parseS3MessageBody(record.body).map((event) => (force ? { ...event, force } : event));
    } catch (error) {
      metrics.addMetric(METRICS.permanentFailures, MetricUnit.Count, 1);
      await deadLetter(record, logger, error as PermanentError);
      return [];
    }
    if (events.length === 0) logger.info('skipping s3:TestEvent');

    const outcomes: Outcome[] = [];
    for (const event of events) {
      logger.appendKeys({ bucket: event.bucket, s3Key: event.key, eventName: event.eventName });
      try {
        const outcome = await handle(event, logger);
        await options.after?.(event, outcome);
        logger.info('processed', { outcome });
        outcomes.push(outcome);
      } catch (error) {
        const classified = classifyError(error);
        if (classified instanceof PermanentError) {
          metrics.addMetric(METRICS.permanentFailures, MetricUnit.Count, 1);
          await deadLetter(record, logger, classified, event);
          continue;
        }
        metrics.addMetric(METRICS.transientFailures, MetricUnit.Count, 1);
        if (Number(record.attributes?.ApproximateReceiveCount) >= maxReceiveCount) {
          await deadLetter(record, logger, classified, event);
          continue;
        }
        logger.error('transient failure: the record will be retried', { reason: classified.reason, error: classified.message });
        throw classified;
      }
    }
    return outcomes;
  };
}
