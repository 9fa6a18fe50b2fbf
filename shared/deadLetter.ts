import { type MessageAttributeValue, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { type PipelineError, TransientError } from './errors';

/** Attribute names a DLQ entry carries; the DLQ tools read the same names. */
export const DLQ_ATTRIBUTES = {
  failureClass: 'failureClass',
  reason: 'reason',
  errorMessage: 'errorMessage',
  sourceBucket: 'sourceBucket',
  sourceKey: 'sourceKey',
  sourceQueueArn: 'sourceQueueArn',
  originalMessageId: 'originalMessageId',
  attempts: 'attempts',
  firstFailedAt: 'firstFailedAt',
  failedAt: 'failedAt',
} as const;

const MAX_ATTRIBUTE_CHARS = 1024;

/** SQS refuses attribute values with control characters or lone surrogates; such characters can occur in S3 keys. */
export function sqsSafeString(value: string): string {
  const safe = value.replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD');
  return safe.length > MAX_ATTRIBUTE_CHARS ? `${safe.slice(0, MAX_ATTRIBUTE_CHARS - 1)}…` : safe;
}

const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: sqsSafeString(value) || '-' });

export interface DeadLetter {
  body: string;
  error: PipelineError;
  record: SQSRecord;
  source?: { bucket: string; key: string };
}

export function deadLetterAttributes({ error, record, source }: DeadLetter, now = new Date()): Record<string, MessageAttributeValue> {
  const firstReceived = Number(record.attributes?.ApproximateFirstReceiveTimestamp);
  const attributes: Record<string, MessageAttributeValue> = {
    [DLQ_ATTRIBUTES.failureClass]: text(error.failureClass),
    [DLQ_ATTRIBUTES.reason]: text(error.reason),
    [DLQ_ATTRIBUTES.errorMessage]: text(error.message),
    [DLQ_ATTRIBUTES.sourceQueueArn]: text(record.eventSourceARN ?? 'unknown'),
    [DLQ_ATTRIBUTES.originalMessageId]: text(record.messageId),
    [DLQ_ATTRIBUTES.attempts]: { DataType: 'Number', StringValue: String(Number(record.attributes?.ApproximateReceiveCount) || 1) },
    [DLQ_ATTRIBUTES.firstFailedAt]: text(
      Number.isFinite(firstReceived) && firstReceived > 0 ? new Date(firstReceived).toISOString() : now.toISOString(),
    ),
    [DLQ_ATTRIBUTES.failedAt]: text(now.toISOString()),
  };
  if (source) {
    attributes[DLQ_ATTRIBUTES.sourceBucket] = text(source.bucket);
    attributes[DLQ_ATTRIBUTES.sourceKey] = text(source.key);
  }
  return attributes;
}

/**
 * Sends a failure to the DLQ with its reason: a permanent one at once, so it costs one attempt, not
 * maxReceiveCount; a transient one on its last attempt, so the DLQ says why instead of holding a
 * bare message moved by the redrive policy. If the DLQ cannot be reached the failure becomes
 * transient: the message stays on its queue and the redrive policy still delivers it. Nothing is dropped.
 */
export async function sendToDeadLetterQueue(sqs: SQSClient, queueUrl: string | undefined, letter: DeadLetter): Promise<void> {
  if (!queueUrl) {
    throw new TransientError('dlq-unavailable', `no DLQ URL configured; ${letter.error.reason}: ${letter.error.message}`);
  }
  try {
    await sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: letter.body, MessageAttributes: deadLetterAttributes(letter) }),
    );
  } catch (error) {
    throw new TransientError('dlq-unavailable', `could not send to the DLQ: ${(error as Error).message}`, { cause: error });
  }
}
