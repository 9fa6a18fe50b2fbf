import { randomUUID } from 'node:crypto';
import {
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';

/**
 * The local stand-in for Lambda's SQS event source mapping with ReportBatchItemFailures: receive
 * a batch, invoke the function, delete the records it did not report as failed. Failed records
 * stay on the queue, reappear after the visibility timeout, and the queue's redrive policy moves
 * them to the DLQ after maxReceiveCount receives. If the function throws (or times out, or answers
 * with a malformed batch response), the whole batch stays, as on AWS.
 */

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

export interface PollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  region: string;
  functionName: string;
  /**
   * Returns the function's handler; called once, before the first batch, so a handler module that
   * reads its configuration at load time can be imported after the environment is set.
   */
  loadHandler: () => SqsHandler | Promise<SqsHandler>;
  batchSize: number;
  /** Like MaximumBatchingWindowInSeconds: after the first message, keep gathering up to this long or until batchSize. */
  batchWindowSeconds?: number;
  timeoutSeconds?: number;
  memoryMb?: number;
  /** Batches invoked at the same time; Lambda scales out, locally one is the default. */
  concurrency?: number;
  /** Pause between receives when the queue was empty. */
  idleDelayMs?: number;
  log?: (line: string) => void;
  onBatch?: (report: BatchReport) => void;
}

export interface BatchReport {
  functionName: string;
  requestId: string;
  messageIds: string[];
  receiveCounts: number[];
  /** Message ids left on the queue (reported failures, or the whole batch when the invocation failed). */
  failedMessageIds: string[];
  /** Set when the invocation as a whole failed: the handler threw, timed out or answered malformed. */
  invocationError?: string;
  durationMs: number;
}

export interface Poller {
  readonly functionName: string;
  /** Stops receiving; resolves when the batches in flight have finished and been acknowledged. */
  stop(): Promise<void>;
  /** Holds new receives (batches in flight finish); resolves once nothing is in flight. */
  pause(): Promise<void>;
  resume(): void;
  readonly stats: { batches: number; records: number; failedRecords: number; invocationErrors: number };
}

const MAX_RECEIVE = 10; // SQS's limit per ReceiveMessage call

/** Lambda's shape for message attributes: camelCase, with the list fields always present. */
export function toLambdaMessageAttributes(attributes: Record<string, MessageAttributeValue> | undefined): SQSMessageAttributes {
  const result: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    result[name] = {
      stringValue: value.StringValue,
      binaryValue: value.BinaryValue === undefined ? undefined : Buffer.from(value.BinaryValue).toString('base64'),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((item) => Buffer.from(item).toString('base64')),
      dataType: value.DataType ?? 'String',
    };
    if (result[name].stringValue === undefined) delete result[name].stringValue;
    if (result[name].binaryValue === undefined) delete result[name].binaryValue;
  }
  return result;
}

/** One record as Lambda hands it to the function. */
export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: { ...(message.Attributes ?? {}) } as unknown as SQSRecord['attributes'],
    messageAttributes: toLambdaMessageAttributes(message.MessageAttributes),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes && { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  } as SQSRecord;
}

export function lambdaContext(options: {
  functionName: string;
  region: string;
  timeoutSeconds: number;
  memoryMb: number;
  accountId?: string;
}): Context {
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  const requestId = randomUUID();
  const now = new Date();
  const day = now.toISOString().slice(0, 10).replace(/-/g, '/');
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${options.region}:${options.accountId ?? '000000000000'}:function:${options.functionName}`,
    memoryLimitInMB: String(options.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: `${day}/[$LATEST]${requestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Which records to delete, following Lambda's rules for a partial batch response: an empty or
 * absent response means all succeeded; an itemIdentifier that is empty or names no record of the
 * batch makes Lambda treat the whole batch as failed.
 */
export function failedRecordIds(response: unknown, messageIds: string[]): { failed: string[]; malformed?: string } {
  if (response === undefined || response === null) return { failed: [] };
  if (typeof response !== 'object') return { failed: messageIds, malformed: `the batch response is a ${typeof response}, not an object` };
  const failures = (response as SQSBatchResponse).batchItemFailures;
  if (failures === undefined || failures === null) return { failed: [] };
  if (!Array.isArray(failures)) return { failed: messageIds, malformed: 'batchItemFailures is not an array' };
  const known = new Set(messageIds);
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = failure?.itemIdentifier;
    if (typeof id !== 'string' || !known.has(id)) {
      return { failed: messageIds, malformed: `batchItemFailures names ${JSON.stringify(id)}, which is not a record of this batch` };
    }
    failed.add(id);
  }
  return { failed: messageIds.filter((id) => failed.has(id)) };
}

class Timeout extends Error {}

export function startPoller(options: PollerOptions): Poller {
  const {
    sqs,
    queueUrl,
    queueArn,
    region,
    functionName,
    batchSize,
    batchWindowSeconds = 0,
    timeoutSeconds = 30,
    memoryMb = 1024,
    concurrency = 1,
    idleDelayMs = 200,
    log,
  } = options;
  const stats = { batches: 0, records: 0, failedRecords: 0, invocationErrors: 0 };
  let running = true;
  let paused = false;
  let inFlight = 0;
  const sleepers = new Set<() => void>();
  const idleWaiters: (() => void)[] = [];

  let handlerPromise: Promise<SqsHandler> | undefined;
  const getHandler = () => {
    handlerPromise ??= Promise.resolve().then(options.loadHandler);
    return handlerPromise;
  };

  /** A sleep that stop() and resume() cut short. */
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        sleepers.delete(done);
        resolve();
      }
      sleepers.add(done);
    });
  const wakeAll = () => {
    for (const done of [...sleepers]) done();
  };

  const receive = async (max: number): Promise<Message[]> => {
    const response = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(MAX_RECEIVE, max),
        // Short polls: local-aws-sqs holds a long poll for its full wait time when more than one message is asked for.
        WaitTimeSeconds: 0,
        // The deprecated name: local-aws-sqs ignores MessageSystemAttributeNames.
        AttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    return response.Messages ?? [];
  };

  /** Gathers up to batchSize messages, waiting at most the batching window after the first one. */
  const gather = async (): Promise<Message[]> => {
    const batch = await receive(batchSize);
    if (batch.length === 0 || batchWindowSeconds <= 0) return batch;
    const windowEnds = Date.now() + batchWindowSeconds * 1000;
    const byId = new Map(batch.map((message) => [message.MessageId!, message]));
    while (running && byId.size < batchSize && Date.now() < windowEnds) {
      await nap(Math.min(100, Math.max(0, windowEnds - Date.now())));
      // A window longer than the visibility timeout can receive a message twice: keep the latest
      // receipt, the only one SQS accepts for the delete.
      for (const message of await receive(batchSize - byId.size)) byId.set(message.MessageId!, message);
    }
    return [...byId.values()];
  };

  const acknowledge = async (messages: Message[]) => {
    for (let i = 0; i < messages.length; i += MAX_RECEIVE) {
      const chunk = messages.slice(i, i + MAX_RECEIVE);
      const response = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
        }),
      );
      for (const failure of response.Failed ?? []) {
        log?.(`${functionName}: could not delete a message (${failure.Code}: ${failure.Message}); it will be delivered again`);
      }
    }
  };

  const invoke = async (messages: Message[]): Promise<void> => {
    const started = Date.now();
    const context = lambdaContext({ functionName, region, timeoutSeconds, memoryMb });
    const event: SQSEvent = { Records: messages.map((message) => toSqsRecord(message, queueArn, region)) };
    const messageIds = event.Records.map((record) => record.messageId);
    let failed: string[];
    let invocationError: string | undefined;
    try {
      const handler = await getHandler();
      // Lambda ends an invocation at its timeout; here it is abandoned (it cannot be killed) and its batch stays.
      let timer: NodeJS.Timeout | undefined;
      const invocation = handler(event, context);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Timeout(`Task timed out after ${timeoutSeconds.toFixed(2)} seconds`)), timeoutSeconds * 1000);
      });
      let response: unknown;
      try {
        response = await Promise.race([invocation, timeout]);
      } finally {
        clearTimeout(timer);
      }
      const result = failedRecordIds(response, messageIds);
      failed = result.failed;
      invocationError = result.malformed && `malformed batch response: ${result.malformed}`;
    } catch (error) {
      failed = messageIds;
      invocationError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }

    const failedSet = new Set(failed);
    await acknowledge(messages.filter((message) => !failedSet.has(message.MessageId!)));

    stats.batches += 1;
    stats.records += messages.length;
    stats.failedRecords += failed.length;
    if (invocationError) {
      stats.invocationErrors += 1;
      log?.(`${functionName}: invocation failed (${invocationError}); the ${messages.length} record(s) stay on the queue`);
    }
    const durationMs = Date.now() - started;
    log?.(
      `${functionName}: batch of ${messages.length}: ${messages.length - failed.length} done, ${failed.length} left for retry (${durationMs} ms)`,
    );
    options.onBatch?.({
      functionName,
      requestId: context.awsRequestId,
      messageIds,
      receiveCounts: event.Records.map((record) => Number(record.attributes.ApproximateReceiveCount)),
      failedMessageIds: failed,
      invocationError,
      durationMs,
    });
  };

  const settleIdle = () => {
    if (inFlight === 0) for (const resolve of idleWaiters.splice(0)) resolve();
  };

  const worker = async () => {
    while (running) {
      if (paused) {
        await nap(idleDelayMs);
        continue;
      }
      let messages: Message[] = [];
      inFlight += 1;
      try {
        messages = await gather();
        if (messages.length > 0) await invoke(messages);
      } catch (error) {
        // The queue could not be reached (e.g. while shutting down); messages received stay and reappear.
        if (running) log?.(`${functionName}: polling failed: ${(error as Error).message}`);
        messages = [];
        if (running) await nap(1000);
      } finally {
        inFlight -= 1;
        settleIdle();
      }
      if (messages.length === 0 && running) await nap(idleDelayMs);
    }
  };

  const workers = Array.from({ length: Math.max(1, concurrency) }, () => worker());

  return {
    functionName,
    stats,
    async stop() {
      running = false;
      wakeAll();
      await Promise.all(workers);
    },
    async pause() {
      paused = true;
      if (inFlight > 0) await new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    resume() {
      paused = false;
      wakeAll();
    },
  };
}
