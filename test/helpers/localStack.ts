import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BatchReport, SqsHandler } from '../../local/poller';
import { freePort } from '../../local/servers';
import { startLocalStack, type FunctionName, type LocalStack, type LocalStackOptions } from '../../local/stack';

/**
 * The whole local pipeline for a test: embedded S3 and SQS on free ports (never the default ones,
 * so a running `npm start` is left alone), a fresh state folder, quiet, with the real handlers
 * loaded in an isolated module registry. Every batch the pollers invoke is recorded.
 */
export interface TestStack {
  stack: LocalStack;
  s3: S3Client;
  sqs: SQSClient;
  ports: { s3Port: number; sqsPort: number };
  stateDir: string;
  queueUrls: LocalStack['servers']['queueUrls'];
  /** Every batch the pollers invoked so far, in order. */
  batches: BatchReport[];
  /** Polls `predicate` until it returns a truthy value (returned) or `timeoutMs` passes (throws, naming `what`). */
  waitFor<T>(predicate: () => Promise<T> | T, timeoutMs?: number, what?: string): Promise<NonNullable<T>>;
  put(key: string, body: Buffer, bucket?: string): Promise<string>;
  get(bucket: string, key: string): Promise<{ data: Buffer; contentType?: string; metadata: Record<string, string> }>;
  exists(bucket: string, key: string): Promise<boolean>;
  list(bucket: string, prefix?: string): Promise<string[]>;
  /** Receives (and deletes) everything visible on a queue now. */
  drain(queueUrl: string): Promise<Message[]>;
  stop(): Promise<void>;
}

export interface TestStackOptions extends Partial<Pick<LocalStackOptions, 'visibilityTimeoutSeconds' | 'env' | 'batchWindowSeconds' | 'seed'>> {
  /** Reuse a state folder (to test persistence); by default a fresh one that stop() removes. */
  stateDir?: string;
  /** Replace a function's handler (e.g. a stub); by default the real functions/<name>/handler. */
  handlers?: Partial<Record<FunctionName, SqsHandler>>;
}

/** The real handler module, loaded fresh so it reads the environment this stack sets. */
function isolatedHandler(name: FunctionName): SqsHandler {
  let handler: SqsHandler | undefined;
  jest.isolateModules(() => {
    handler = name === 'resize' ? require('../../functions/resize/handler').handler : require('../../functions/predict/handler').handler;
  });
  return handler!;
}

export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const ownsStateDir = options.stateDir === undefined;
  const stateDir = options.stateDir ?? mkdtempSync(path.join(tmpdir(), 'pipeline-e2e-'));
  const ports = { s3Port: await freePort(), sqsPort: await freePort() };
  const batches: BatchReport[] = [];
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      ...ports,
      stateDir,
      quiet: true,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 5,
      batchWindowSeconds: options.batchWindowSeconds,
      seed: options.seed,
      env: options.env,
      loadHandler: (name) => options.handlers?.[name] ?? isolatedHandler(name),
      onBatch: (report) => batches.push(report),
    });
  } catch (error) {
    if (ownsStateDir) rmSync(stateDir, { recursive: true, force: true });
    throw error;
  }
  const { s3, sqs } = stack;

  const waitFor: TestStack['waitFor'] = async (predicate, timeoutMs = 20_000, what = 'condition') => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await predicate();
      if (value) return value as NonNullable<Awaited<typeof value>>;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  return {
    stack,
    s3,
    sqs,
    ports,
    stateDir,
    queueUrls: stack.servers.queueUrls,
    batches,
    waitFor,
    async put(key, body, bucket = 'uploads') {
      const response = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      return (response.ETag ?? '').replace(/"/g, '');
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
    async drain(queueUrl) {
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
    async stop() {
      await stack.stop();
      if (ownsStateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
