import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, DeleteMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createS3Client, createSqsClient } from '../../shared/clients';
import { freePort, startLocalServers, type LocalServers } from '../../local/servers';

export const CORPUS = path.resolve(__dirname, '../../..', 'shared/corpus');

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * The embedded S3 and SQS servers on free ports, in a fresh state folder, plus any handler
 * loaded with an environment that points at them, exactly as the local stage does.
 */
export interface HandlerHarness {
  servers: LocalServers;
  s3: S3Client;
  sqs: SQSClient;
  /** Loads a fresh copy of a handler module with extra environment (for fault injection). */
  loadHandler(modulePath: string, env?: Record<string, string>): Handler;
  put(key: string, body: Buffer, bucket?: string): Promise<string>;
  get(bucket: string, key: string): Promise<{ data: Buffer; contentType?: string; metadata: Record<string, string> }>;
  exists(bucket: string, key: string): Promise<boolean>;
  list(bucket: string, prefix?: string): Promise<string[]>;
  drainQueue(queueUrl: string): Promise<Message[]>;
  close(): Promise<void>;
}

const QUIET_ENV = { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' };

export async function startHandlerHarness(): Promise<HandlerHarness> {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'pipeline-it-'));
  const servers = await startLocalServers({ s3Port: await freePort(), sqsPort: await freePort(), stateDir, visibilityTimeoutSeconds: 2 });
  const s3 = createS3Client(servers.env);
  const sqs = createSqsClient(servers.env);

  const loadHandler = (modulePath: string, env: Record<string, string> = {}): Handler => {
    const saved = { ...process.env };
    Object.assign(process.env, servers.env, QUIET_ENV, env);
    try {
      let handler: Handler | undefined;
      jest.isolateModules(() => {
        handler = require(modulePath).handler;
      });
      return handler!;
    } finally {
      process.env = saved;
    }
  };

  return {
    servers,
    s3,
    sqs,
    loadHandler,
    async put(key, body, bucket = 'uploads') {
      const response = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      return response.ETag!.replace(/"/g, '');
    },
    async get(bucket, key) {
      const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return { data: Buffer.from(await response.Body!.transformToByteArray()), contentType: response.ContentType, metadata: response.Metadata ?? {} };
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
    async drainQueue(queueUrl) {
      const messages: Message[] = [];
      for (;;) {
        const response = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, AttributeNames: ['All'], MessageAttributeNames: ['All'] }),
        );
        if (!response.Messages?.length) return messages;
        for (const message of response.Messages) {
          messages.push(message);
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
        }
      }
    },
    async close() {
      s3.destroy();
      sqs.destroy();
      await servers.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
