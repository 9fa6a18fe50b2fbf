import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import sharp from 'sharp';
import { localQueueArn } from '../../local/endpoints';
import { type BurstImage, burstImages } from '../../scripts/burst';
import { type FaultProxy, startFaultProxy } from '../helpers/faultProxy';
import { startTestStack, type TestStack } from '../helpers/localStack';
import { waitFor } from '../helpers/waitFor';

/**
 * Injected faults on the whole local pipeline: the resize function's S3 traffic goes through a fault
 * proxy (the test's own reads and the fan-out talk to S3 directly), the queue redelivers what the
 * function reported failed once the visibility timeout passes, and a second poller in a child
 * process is killed (SIGKILL) while it holds a batch. The predict function is a stand-in that
 * acknowledges every message: the repository has no model for it yet.
 */

const ROOT = path.resolve(__dirname, '../..');
const SIZES = [1024, 512, 256];
const MAX_RECEIVE_COUNT = 5;
// Long enough for the worker below to receive its batch and hang on it before the batch is visible
// again, even on a loaded machine; short enough for the redeliveries the tests wait for.
const VISIBILITY_TIMEOUT_SECONDS = 6;

// Each test waits for at least two visibility timeouts and several slow steps: far above Jest's default.
jest.setTimeout(120_000);

let t: TestStack;
let proxy: FaultProxy;
let images: BurstImage[];
const children: ChildProcess[] = [];

beforeAll(async () => {
  images = await burstImages(4);
  proxy = await startFaultProxy();
  t = await startTestStack({
    seed: false,
    visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS,
    batchWindowSeconds: 0,
    env: { AWS_ENDPOINT_URL_S3: proxy.url },
    handlers: { predict: async (): Promise<SQSBatchResponse> => ({ batchItemFailures: [] }) },
  });
  proxy.target = t.stack.servers.s3Endpoint;
});
afterAll(async () => {
  // Only the processes this file started, by their handles.
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await t?.stop();
  await proxy?.close();
});
afterEach(() => proxy.clear());

async function counts(queueUrl: string) {
  const { Attributes = {} } = await t.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  // local-aws-sqs counts in-flight messages in ApproximateNumberOfMessages too.
  return { messages: Number(Attributes.ApproximateNumberOfMessages), inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible) };
}
const empty = async (queueUrl: string) => {
  const { messages, inFlight } = await counts(queueUrl);
  return messages === 0 && inFlight === 0;
};
const thumbnailsExist = async (key: string) =>
  (await Promise.all(SIZES.map((size) => t.exists('thumbnails', `${size}/${key}.webp`)))).every(Boolean);

async function expectThumbnails(key: string, eTag: string, source: BurstImage) {
  for (const size of SIZES) {
    const thumbnail = await t.get('thumbnails', `${size}/${key}.webp`);
    const meta = await sharp(thumbnail.data).metadata();
    const scale = Math.min(1, size / Math.max(source.width, source.height));
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', Math.round(source.width * scale), Math.round(source.height * scale)]);
    expect(thumbnail.metadata).toMatchObject({ 'source-etag': eTag, 'source-key': encodeURIComponent(key) });
  }
}

/** Every delivery of a resize message since `from`: [messageId, receiveCount, failed]. */
const deliveriesSince = (from: number) =>
  t.batches
    .slice(from)
    .filter((report) => report.functionName === 'resize')
    .flatMap((report) =>
      report.messageIds.map((id, i) => ({
        id,
        receiveCount: report.receiveCounts[i],
        failed: report.failedMessageIds.includes(id),
        report,
      })),
    );

test('S3 answering 503 for a while: the failed records come back after the visibility timeout, stay out of the DLQ, and are written once S3 recovers', async () => {
  const keys = ['outage/a.jpg', 'outage/b.jpg', 'outage/c.jpg'];
  const from = t.batches.length;
  const outage = proxy.inject({ fault: 'service-unavailable' });
  const eTags = await Promise.all(keys.map((key, i) => t.put(key, images[i].data)));

  // Keep S3 down until every message has failed on its first delivery and again after redelivery.
  await t.waitFor(
    () => {
      const failedTwice = new Set(
        deliveriesSince(from)
          .filter((d) => d.failed && d.receiveCount >= 2)
          .map((d) => d.id),
      );
      return failedTwice.size === keys.length;
    },
    40_000,
    'every record to fail on two deliveries',
  );
  expect(await counts(t.queueUrls.resizeDlq)).toEqual({ messages: 0, inFlight: 0 });
  outage.remove();

  await t.waitFor(async () => (await Promise.all(keys.map(thumbnailsExist))).every(Boolean), 45_000, 'the thumbnails after recovery');
  // An empty queue means the messages were deleted; the poller records each batch only after its delete
  // returns, so also wait for the reports of the successful deliveries read below.
  await t.waitFor(
    async () =>
      (await empty(t.queueUrls.resize)) &&
      new Set(
        deliveriesSince(from)
          .filter((d) => !d.failed)
          .map((d) => d.id),
      ).size >= keys.length,
    30_000,
    'an empty resize queue and the report of every successful delivery',
  );

  const deliveries = deliveriesSince(from);
  expect(new Set(deliveries.map((d) => d.id)).size).toBe(keys.length);
  // Failed record by record (partial batch responses), never as a whole invocation.
  expect(deliveries.filter((d) => d.report.invocationError)).toEqual([]);
  // Each message: failures first, then exactly one success, all below maxReceiveCount.
  for (const id of new Set(deliveries.map((d) => d.id))) {
    const own = deliveries.filter((d) => d.id === id);
    expect(own.map((d) => d.failed)).toEqual([...own.slice(0, -1).map(() => true), false]);
    expect(own.map((d) => d.receiveCount)).toEqual(own.map((_, i) => i + 1));
    expect(own.length).toBeLessThan(MAX_RECEIVE_COUNT);
  }
  expect(outage.hits).toBeGreaterThan(0);
  expect(await empty(t.queueUrls.resizeDlq)).toBe(true);
  for (const [i, key] of keys.entries()) await expectThumbnails(key, eTags[i], images[i]);
});

/**
 * A second resize "worker": the local poller and the real resize handler in a child process of its
 * own, polling this test's SQS and reading S3 through the fault proxy. Its log lines go to its stdout.
 */
const WORKER = `
require('tsx/cjs/api').register();
const { startPoller } = require('./local/poller.ts');
const { createSqsClient } = require('./shared/clients.ts');
// Loaded before the first receive, as Lambda initialises a function before invoking it: the poller
// would load it lazily, after receiving, and compiling it on a loaded machine can outlast the
// visibility timeout, making the held batch visible again before the test looks at it.
const { handler } = require('./functions/resize/handler.ts');
startPoller({
  sqs: createSqsClient(),
  queueUrl: process.env.WORKER_QUEUE_URL,
  queueArn: process.env.WORKER_QUEUE_ARN,
  region: process.env.AWS_REGION,
  functionName: 'resize',
  loadHandler: () => handler,
  batchSize: 10,
  batchWindowSeconds: 0,
  log: (line) => console.log(line),
});
console.log('worker polling');
`;

function startWorker(): { child: ChildProcess; output: () => string } {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...t.stack.env,
    WORKER_QUEUE_URL: t.queueUrls.resize,
    WORKER_QUEUE_ARN: localQueueArn('resize'),
  };
  const child = spawn(process.execPath, ['-e', WORKER], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return { child, output: () => output };
}

test('the worker process dies mid-batch (SIGKILL): its unfinished messages come back after the visibility timeout and a surviving poller completes them', async () => {
  const keys = ['worker/a.jpg', 'worker/b.jpg', 'worker/c.jpg', 'worker/d.jpg'];
  const survivor = t.stack.pollers.resize;
  await survivor.pause();
  const eTags: string[] = [];
  for (const [i, key] of keys.entries()) eTags.push(await t.put(key, images[i].data));
  await t.stack.fanout.idle();
  await t.waitFor(async () => (await counts(t.queueUrls.resize)).messages === keys.length, 30_000, 'the four messages on the resize queue');

  // The worker processes its batch in order and hangs on the third object's download: S3 holds that
  // one request unanswered (once; later reads of it are answered).
  proxy.inject({ fault: 'stall', method: 'GET', path: '/uploads/worker/c.jpg', times: 1 });
  const worker = startWorker();
  await waitFor(
    () => proxy.stalled === 1,
    30_000,
    () => `the worker to hang on worker/c.jpg (worker output: ${worker.output()})`,
    100,
  );
  // The worker holds every message of the batch: none visible to anyone else, none deleted.
  expect(await counts(t.queueUrls.resize)).toEqual({ messages: keys.length, inFlight: keys.length });
  const finishedByWorker = (await Promise.all(keys.map(async (key) => ((await thumbnailsExist(key)) ? key : undefined)))).filter(Boolean);

  worker.child.kill('SIGKILL');
  const [code, signal] = await once(worker.child, 'exit');
  expect([code, signal]).toEqual([null, 'SIGKILL']);
  await t.waitFor(() => proxy.stalled === 0, 15_000, 'the proxy to see the dead worker’s connection close');

  const from = t.batches.length;
  survivor.resume();
  await t.waitFor(
    async () => (await Promise.all(keys.map(thumbnailsExist))).every(Boolean),
    45_000,
    'every thumbnail from the surviving poller',
  );
  // As above: the reports of the survivor's batches come after their deletes, so wait for them too.
  await t.waitFor(
    async () => (await empty(t.queueUrls.resize)) && deliveriesSince(from).filter((d) => !d.failed).length >= keys.length,
    30_000,
    'an empty resize queue and the report of every delivery to the surviving poller',
  );

  // Every message came back once (receive count 2: the dead worker's receive, then this one) and was completed.
  const deliveries = deliveriesSince(from);
  expect(deliveries.map((d) => [d.receiveCount, d.failed]).sort()).toEqual(keys.map(() => [2, false]));
  expect(deliveries.filter((d) => d.report.invocationError)).toEqual([]);
  expect(await empty(t.queueUrls.resizeDlq)).toBe(true);

  // Objects the worker had finished were not redone (the largest thumbnail's source-etag proves the run):
  // one download each in all; the others were downloaded again by the survivor.
  const downloads = (key: string) => proxy.requests.filter((r) => r.method === 'GET' && r.path === `/uploads/${key}`).length;
  for (const key of keys) expect([key, downloads(key)]).toEqual([key, finishedByWorker.includes(key) ? 1 : key === 'worker/c.jpg' ? 2 : 1]);
  for (const [i, key] of keys.entries()) await expectThumbnails(key, eTags[i], images[i]);
});
