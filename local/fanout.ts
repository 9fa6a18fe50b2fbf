import { createHash, randomBytes } from 'node:crypto';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type S3rver from 's3rver';
import type { S3rverEvent } from 's3rver';
import { encodeS3EventKey } from '../shared/s3Key';

/**
 * The local stand-in for `uploads bucket -> SNS topic (raw delivery) -> resize + predict queues`.
 * s3rver reports object changes in-process; each one becomes the S3 notification AWS would write
 * into the SQS body and is sent to every subscribed queue.
 */

/** One record of an S3 event notification (eventVersion 2.1). Removal records carry no size or ETag. */
export interface S3NotificationRecord {
  eventVersion: string;
  eventSource: 'aws:s3';
  awsRegion: string;
  eventTime: string;
  eventName: string;
  userIdentity: { principalId: string };
  requestParameters: { sourceIPAddress: string };
  responseElements: { 'x-amz-request-id': string; 'x-amz-id-2': string };
  s3: {
    s3SchemaVersion: '1.0';
    configurationId: string;
    bucket: { name: string; ownerIdentity: { principalId: string }; arn: string };
    object: { key: string; size?: number; eTag?: string; versionId?: string; sequencer: string };
  };
}

export interface S3Notification {
  Records: S3NotificationRecord[];
}

type S3rverRecord = S3rverEvent['Records'][number];

export interface NotificationOptions {
  region: string;
  /** The notification configuration's id; AWS writes it into every record. */
  configurationId?: string;
  now?: () => Date;
}

const OWNER_ID = 'A3NL1KOZZKExample';

let lastSequencer = 0n;
/** AWS sequencers are hex strings that order the events of one key; here a clock with a tie-breaker. */
function nextSequencer(now: Date): string {
  const candidate = BigInt(now.getTime()) * 4096n;
  lastSequencer = candidate > lastSequencer ? candidate : lastSequencer + 1n;
  return lastSequencer.toString(16).toUpperCase().padStart(18, '0');
}

/** The notification AWS would deliver for one s3rver record: key URL-encoded, region and ARN filled in. */
export function toS3Notification(record: S3rverRecord, options: NotificationOptions): S3Notification {
  const now = options.now?.() ?? new Date();
  const { name } = record.s3.bucket;
  const source = record.s3.object;
  const created = record.eventName.startsWith('ObjectCreated:');
  // Field order as AWS writes it: key, size, eTag, sequencer (removals have no size or ETag).
  const object: S3NotificationRecord['s3']['object'] = {
    key: encodeS3EventKey(source.key),
    ...(created && source.size !== undefined && { size: source.size }),
    ...(created && source.eTag !== undefined && { eTag: source.eTag.replace(/"/g, '') }),
    sequencer: nextSequencer(now),
  };
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: options.region,
        eventTime: record.eventTime || now.toISOString(),
        // s3rver's names follow AWS's (ObjectCreated:Put/Post/Copy, ObjectRemoved:Delete), except that it
        // reports a multipart completion as ObjectCreated:Post (AWS: CompleteMultipartUpload) with a
        // plain MD5 ETag, so the two cannot be told apart here. Every consumer treats ObjectCreated:* alike.
        eventName: record.eventName,
        userIdentity: { principalId: `AWS:${OWNER_ID}` },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: {
          'x-amz-request-id': requestId,
          'x-amz-id-2': createHash('sha256').update(requestId).digest('base64'),
        },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: options.configurationId ?? 'uploads-fanout',
          bucket: { name, ownerIdentity: { principalId: OWNER_ID }, arn: `arn:aws:s3:::${name}` },
          object,
        },
      },
    ],
  };
}

export interface FanoutOptions {
  s3rver: S3rver;
  sqs: SQSClient;
  /** Only this bucket's events are forwarded, like the notification configuration on the uploads bucket. */
  bucket: string;
  /** The queues subscribed to the topic. */
  queueUrls: string[];
  region: string;
  /** Used to look up the ETag and size of a copied object (s3rver's copy events lack the ETag). */
  s3?: S3Client;
  log?: (line: string) => void;
  /** Called for each notification after it reached every queue (tests and the stack's activity line). */
  onDelivered?: (notification: S3Notification) => void;
  /** Called when a queue could not be reached after retries (SNS would send it to its delivery DLQ). */
  onError?: (error: Error, notification: S3Notification) => void;
}

export interface Fanout {
  /** Resolves when every notification received so far has been delivered (or has failed). */
  idle(): Promise<void>;
  /** Stops listening and waits for deliveries in flight. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function sendWithRetry(sqs: SQSClient, queueUrl: string, body: string, attempts = 4): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
      return;
    } catch (error) {
      if (attempt >= attempts) throw error;
      await sleep(100 * 2 ** attempt);
    }
  }
}

async function fillCopiedObject(s3: S3Client | undefined, notification: S3Notification, bucket: string, rawKey: string) {
  const object = notification.Records[0].s3.object;
  if (!s3 || object.eTag !== undefined || !notification.Records[0].eventName.startsWith('ObjectCreated:')) return;
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: rawKey }));
    if (head.ETag) object.eTag = head.ETag.replace(/"/g, '');
    if (object.size === undefined && head.ContentLength !== undefined) object.size = head.ContentLength;
  } catch {
    // Gone already: deliver what s3rver reported; the handler treats a missing source as done.
  }
}

/** Subscribes to s3rver's events and forwards the uploads bucket's to every queue. */
export function startFanout(options: FanoutOptions): Fanout {
  const { s3rver, sqs, bucket, queueUrls, region, log } = options;
  const inFlight = new Set<Promise<void>>();

  const deliver = async (record: S3rverRecord) => {
    const notification = toS3Notification(record, { region });
    await fillCopiedObject(options.s3, notification, bucket, record.s3.object.key);
    const body = JSON.stringify(notification);
    try {
      await Promise.all(queueUrls.map((queueUrl) => sendWithRetry(sqs, queueUrl, body)));
      options.onDelivered?.(notification);
    } catch (error) {
      log?.(`fan-out: could not deliver ${record.eventName} s3://${bucket}/${record.s3.object.key}: ${(error as Error).message}`);
      options.onError?.(error as Error, notification);
    }
  };

  const listener = (event: S3rverEvent) => {
    for (const record of event.Records ?? []) {
      if (record.s3?.bucket?.name !== bucket) continue;
      const delivery = deliver(record).finally(() => inFlight.delete(delivery));
      inFlight.add(delivery);
    }
  };
  s3rver.on('event', listener);

  const idle = async () => {
    while (inFlight.size > 0) await Promise.all([...inFlight]);
  };
  return {
    idle,
    async stop() {
      s3rver.off('event', listener);
      await idle();
    },
  };
}
