import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetQueueAttributesCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { type BatchReport, failedRecordIds, type Poller, type SqsHandler, startPoller } from '../../local/poller';
import { freePort, type LocalServers, startLocalServers } from '../../local/servers';
import { createSqsClient } from '../../shared/clients';

/**
 * The local poller against the embedded SQS server: it must treat a function's answer the way
 * Lambda's event source mapping with ReportBatchItemFailures does.
 */

const VISIBILITY_SECONDS = 1;

// The waits below allow 20 s or more on a loaded machine; Jest must not cut them short.
jest.setTimeout(60_000);
const RESIZE_ARN = 'arn:aws:sqs:us-east-1:000000000000:resize';

let servers: LocalServers;
let sqs: SQSClient;
let stateDir: string;
let poller: Poller | undefined;

beforeAll(async () => {
  stateDir = mkdtempSync(path.join(tmpdir(), 'pipeline-poller-'));
  servers = await startLocalServers({
    s3Port: await freePort(),
    sqsPort: await freePort(),
    dynamodbPort: await freePort(),
    stateDir,
    visibilityTimeoutSeconds: VISIBILITY_SECONDS,
  });
  sqs = createSqsClient(servers.env);
});

afterEach(async () => {
  await poller?.stop();
  poller = undefined;
});

afterAll(async () => {
  sqs.destroy();
  await servers.close();
  rmSync(stateDir, { recursive: true, force: true });
});

async function queueDepth(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return { visible: Number(Attributes.ApproximateNumberOfMessages), inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible) };
}

async function until<T>(check: () => Promise<T> | T, what: string, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function run(handler: SqsHandler, overrides: { batchSize?: number; batchWindowSeconds?: number; timeoutSeconds?: number } = {}) {
  const batches: BatchReport[] = [];
  const events: SQSEvent[] = [];
  poller = startPoller({
    sqs,
    queueUrl: servers.queueUrls.resize,
    queueArn: RESIZE_ARN,
    region: 'us-east-1',
    functionName: 'resize',
    loadHandler: () => async (event, context) => {
      events.push(event);
      return handler(event, context);
    },
    batchSize: overrides.batchSize ?? 10,
    batchWindowSeconds: overrides.batchWindowSeconds ?? 0,
    timeoutSeconds: overrides.timeoutSeconds ?? 30,
    idleDelayMs: 50,
    onBatch: (report) => batches.push(report),
  });
  return { batches, events };
}

const send = async (body: string, attributes?: Record<string, { DataType: string; StringValue: string }>) =>
  (await sqs.send(new SendMessageCommand({ QueueUrl: servers.queueUrls.resize, MessageBody: body, MessageAttributes: attributes })))
    .MessageId!;

test('delivers a Lambda-shaped SQS event and deletes the records the function handled', async () => {
  const id = await send('{"hello":"world"}', {
    reason: { DataType: 'String', StringValue: 'x' },
    n: { DataType: 'Number', StringValue: '3' },
  });
  const { events, batches } = run(async () => ({ batchItemFailures: [] }));
  await until(() => batches.length === 1, 'one batch');
  const [record] = events[0].Records;
  expect(record).toEqual({
    messageId: id,
    receiptHandle: expect.any(String),
    body: '{"hello":"world"}',
    attributes: expect.objectContaining({
      ApproximateReceiveCount: '1',
      SentTimestamp: expect.stringMatching(/^\d+$/),
      SenderId: expect.any(String),
      ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d+$/),
    }),
    messageAttributes: {
      reason: { stringValue: 'x', stringListValues: [], binaryListValues: [], dataType: 'String' },
      n: { stringValue: '3', stringListValues: [], binaryListValues: [], dataType: 'Number' },
    },
    md5OfBody: createHash('md5').update('{"hello":"world"}').digest('hex'),
    md5OfMessageAttributes: expect.any(String),
    eventSource: 'aws:sqs',
    eventSourceARN: RESIZE_ARN,
    awsRegion: 'us-east-1',
  });
  await until(async () => (await queueDepth(servers.queueUrls.resize)).inFlight === 0, 'the handled record to be deleted');
  expect(await queueDepth(servers.queueUrls.resize)).toEqual({ visible: 0, inFlight: 0 });
});

test('gives the function a Lambda-like context', async () => {
  await send('{}');
  const contexts: { name: string; requestId: string; remaining: number; arn: string; memory: string }[] = [];
  run(async (_event, context) => {
    contexts.push({
      name: context.functionName,
      requestId: context.awsRequestId,
      remaining: context.getRemainingTimeInMillis(),
      arn: context.invokedFunctionArn,
      memory: context.memoryLimitInMB,
    });
  });
  await until(() => contexts.length === 1, 'an invocation');
  expect(contexts[0]).toEqual({
    name: 'resize',
    requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    remaining: expect.any(Number),
    arn: 'arn:aws:lambda:us-east-1:000000000000:function:resize',
    memory: '1024',
  });
  expect(contexts[0].remaining).toBeGreaterThan(0);
  expect(contexts[0].remaining).toBeLessThanOrEqual(30_000);
});

test('a reported failure stays on the queue, comes back after the visibility timeout and ends in the DLQ after maxReceiveCount', async () => {
  const good = await send('good');
  const bad = await send('bad');
  const { batches } = run(async (event) => ({
    batchItemFailures: event.Records.filter((record) => record.body === 'bad').map((record) => ({ itemIdentifier: record.messageId })),
  }));
  // 5 receives, one visibility timeout apart, then the redrive policy moves it.
  const deliveries = () => batches.flatMap((batch) => batch.messageIds.map((id, i) => ({ id, receiveCount: batch.receiveCounts[i] })));
  // The queue moves the record when its fifth visibility timeout ends, on a timer of its own; the poller
  // records the fifth batch on its side. Neither implies the other, so wait for both.
  await until(
    async () => (await queueDepth(servers.queueUrls.resizeDlq)).visible === 1 && deliveries().filter((d) => d.id === bad).length >= 5,
    'the failed record in the DLQ and the report of its last delivery',
    40_000,
  );
  expect(deliveries().filter((d) => d.id === good)).toEqual([{ id: good, receiveCount: 1 }]);
  expect(
    deliveries()
      .filter((d) => d.id === bad)
      .map((d) => d.receiveCount),
  ).toEqual([1, 2, 3, 4, 5]);
  expect(await queueDepth(servers.queueUrls.resize)).toEqual({ visible: 0, inFlight: 0 });
}, 60_000);

test('when the function throws, the whole batch stays and is delivered again', async () => {
  const ids = [await send('a'), await send('b')];
  let calls = 0;
  const { batches } = run(async () => {
    calls += 1;
    if (calls === 1) throw new Error('boom');
    return { batchItemFailures: [] };
  });
  const handledIds = () => batches.filter((batch) => !batch.invocationError).flatMap((batch) => batch.messageIds);
  await until(() => handledIds().length === 2, 'the redelivered batch to be handled');
  expect(batches[0].invocationError).toBe('Error: boom');
  expect(batches[0].failedMessageIds.sort()).toEqual([...ids].sort());
  expect(handledIds().sort()).toEqual([...ids].sort());
  expect(batches.slice(1).flatMap((batch) => batch.receiveCounts)).toEqual([2, 2]);
  await until(async () => (await queueDepth(servers.queueUrls.resize)).inFlight === 0, 'the batch to be deleted');
});

test('a function that outlives its timeout leaves its batch on the queue', async () => {
  await send('slow');
  let calls = 0;
  const { batches } = run(
    async () => {
      calls += 1;
      if (calls === 1) await new Promise((resolve) => setTimeout(resolve, 1500));
      return { batchItemFailures: [] };
    },
    { timeoutSeconds: 0.5 },
  );
  await until(() => batches.length >= 2, 'the redelivery after the timeout');
  expect(batches[0].invocationError).toMatch(/Task timed out after 0.50 seconds/);
  expect(batches[1].receiveCounts).toEqual([2]);
  expect(batches[1].failedMessageIds).toEqual([]);
});

test('gathers a batch up to batchSize within the batching window', async () => {
  for (let i = 0; i < 5; i++) await send(`m${i}`);
  const { batches } = run(async () => ({ batchItemFailures: [] }), { batchSize: 3, batchWindowSeconds: 0.5 });
  await until(() => batches.reduce((sum, batch) => sum + batch.messageIds.length, 0) === 5, 'all five messages');
  expect(batches.map((batch) => batch.messageIds.length)).toEqual([3, 2]);
});

test('a batching window longer than the visibility timeout never puts a message twice into one batch', async () => {
  const ids = [await send('x'), await send('y')];
  const { batches } = run(async () => ({ batchItemFailures: [] }), { batchSize: 3, batchWindowSeconds: 1.5 });
  await until(() => batches.length === 1, 'one batch');
  expect([...batches[0].messageIds].sort()).toEqual([...ids].sort());
  await until(async () => (await queueDepth(servers.queueUrls.resize)).inFlight === 0, 'the batch to be deleted with its latest receipts');
  expect(await queueDepth(servers.queueUrls.resize)).toEqual({ visible: 0, inFlight: 0 });
});

test('stop() waits for the batch in flight, which is acknowledged', async () => {
  await send('in flight');
  let finished = false;
  let started = false;
  run(async () => {
    started = true;
    await new Promise((resolve) => setTimeout(resolve, 300));
    finished = true;
    return { batchItemFailures: [] };
  });
  await until(() => started, 'the invocation to start');
  await poller!.stop();
  poller = undefined;
  expect(finished).toBe(true);
  expect(await queueDepth(servers.queueUrls.resize)).toEqual({ visible: 0, inFlight: 0 });
});

describe('failedRecordIds (Lambda rules for a partial batch response)', () => {
  const ids = ['a', 'b', 'c'];
  test.each([
    [undefined, []],
    [null, []],
    [{}, []],
    [{ batchItemFailures: [] }, []],
    [{ batchItemFailures: [{ itemIdentifier: 'b' }] }, ['b']],
    [{ batchItemFailures: [{ itemIdentifier: 'c' }, { itemIdentifier: 'a' }, { itemIdentifier: 'a' }] }, ['a', 'c']],
  ])('%j -> retry %j', (response, failed) => {
    expect(failedRecordIds(response, ids)).toEqual({ failed });
  });

  test.each([
    [{ batchItemFailures: [{ itemIdentifier: 'zzz' }] }],
    [{ batchItemFailures: [{ itemIdentifier: '' }] }],
    [{ batchItemFailures: [{}] }],
    [{ batchItemFailures: 'a' }],
    ['ok'],
  ])('a malformed response %j fails the whole batch', (response) => {
    const result = failedRecordIds(response, ids);
    expect(result.failed).toEqual(ids);
    expect(result.malformed).toEqual(expect.any(String));
  });
});
