import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** What tests do to the embedded S3 and SQS, through the real SDK over HTTP. */
export interface StoreOps {
  /** Puts an object; returns its ETag without quotes. */
  put(key: string, body: Buffer, bucket?: string): Promise<string>;
  get(bucket: string, key: string): Promise<{ data: Buffer; contentType?: string; metadata: Record<string, string> }>;
  exists(bucket: string, key: string): Promise<boolean>;
  list(bucket: string, prefix?: string): Promise<string[]>;
  /** Receives (and deletes) everything visible on a queue now. */
  drain(queueUrl: string): Promise<Message[]>;
}

export function storeOps(s3: S3Client, sqs: SQSClient): StoreOps {
  return {
    async put(key, body, bucket = 'uploads') {
      const response = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      return (response.ETag ?? '').replace(/"/g, '');
    },
    async get(bucket, key) {
      const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return {
        data: Buffer.from(await response.Body!.transformToByteArray()),
        contentType: response.ContentType,
        metadata: response.Metadata ?? {},
      };
    },
    async exists(bucket, key) {
      try {
        await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return true;
      } catch {
        return false;
      }
    },
    async list(bucket, prefix) {
      const response = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      return (response.Contents ?? []).map((object) => object.Key!).sort();
    },
    async drain(queueUrl) {
      const messages: Message[] = [];
      for (;;) {
        const response = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
            AttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        );
        if (!response.Messages?.length) return messages;
        for (const message of response.Messages) {
          messages.push(message);
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
        }
      }
    },
  };
}
