import { randomUUID } from 'node:crypto';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { encodeS3EventKey } from '../../shared/s3Key';

export interface NotificationRecordInput {
  bucket: string;
  key: string;
  eventName?: string;
  eTag?: string;
  size?: number;
}

/** An S3 notification exactly as raw SNS delivery puts it into an SQS body. */
export function s3NotificationBody(...records: NotificationRecordInput[]): string {
  return JSON.stringify({
    Records: records.map((record) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: new Date().toISOString(),
      eventName: record.eventName ?? 'ObjectCreated:Put',
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'uploads',
        bucket: { name: record.bucket, arn: `arn:aws:s3:::${record.bucket}` },
        object: { key: encodeS3EventKey(record.key), size: record.size, eTag: record.eTag, sequencer: '0A1B2C3D4E5F678901' },
      },
    })),
  });
}

export function sqsRecord(body: string, receiveCount = 1): SQSRecord {
  const now = Date.now();
  return {
    messageId: randomUUID(),
    receiptHandle: randomUUID(),
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(now),
      SenderId: 'AIDATEST',
      ApproximateFirstReceiveTimestamp: String(now),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:resize',
    awsRegion: 'us-east-1',
  };
}

export const sqsEvent = (...bodies: string[]): SQSEvent => ({ Records: bodies.map((body) => sqsRecord(body)) });

export function lambdaContext(functionName = 'resize'): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 30000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
