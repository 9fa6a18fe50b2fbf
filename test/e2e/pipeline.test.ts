import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, type Message } from '@aws-sdk/client-sqs';
import sharp from 'sharp';
import { localEndpoints, localStackEnv } from '../../local/endpoints';
import config from '../../pipeline.config.json';
import { startTestStack, type TestStack } from '../helpers/localStack';

/**
 * The whole local pipeline with the real handlers: upload through the S3 API over HTTP, the
 * fan-out, the queue, the poller, the resize function, the thumbnails bucket and the DLQ.
 */

const SAMPLES = path.resolve(__dirname, '../../events/samples');
const photo = readFileSync(path.join(SAMPLES, 'landscape.jpg')); // 1800x1200 upright, stored rotated (EXIF 5)
const corrupt = readFileSync(path.join(SAMPLES, 'corrupt.png'));
const SIZES = [256, 512, 1024];

// The waits below allow up to 45 s on a loaded machine; Jest must not cut them short.
jest.setTimeout(90_000);

let t: TestStack;

beforeAll(async () => {
  // As a developer's shell might export them: the local stack must not send these to its S3.
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'AKIAEXPORTEDINSHELL1',
    AWS_SECRET_ACCESS_KEY: 'not-for-local',
    AWS_SESSION_TOKEN: 'token',
  });
  t = await startTestStack();
});

afterAll(async () => {
  await t?.stop();
});

const thumbnailKeys = (key: string) => SIZES.map((size) => `${size}/${key}.webp`);
const allExist = async (keys: string[]) => (await Promise.all(keys.map((key) => t.exists('thumbnails', key)))).every(Boolean);

async function queueDepth(queueUrl: string) {
  const { Attributes = {} } = await t.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return { visible: Number(Attributes.ApproximateNumberOfMessages), inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible) };
}

async function expectThumbnails(key: string, eTag: string) {
  for (const size of SIZES) {
    const thumbnail = await t.get('thumbnails', `${size}/${key}.webp`);
    expect(thumbnail.contentType).toBe('image/webp');
    const meta = await sharp(thumbnail.data).metadata();
    expect(meta.format).toBe('webp');
    expect(Math.max(meta.width!, meta.height!)).toBe(size); // the source is larger than every size
    expect(meta.width! > meta.height!).toBe(true); // auto-oriented: the upright picture is landscape
    expect(decodeURIComponent(thumbnail.metadata['source-key'])).toBe(key);
    expect(thumbnail.metadata['source-etag']).toBe(eTag);
    expect(thumbnail.metadata).toMatchObject({ width: String(meta.width), height: String(meta.height) });
  }
}

test('the handlers get the environment of the running stack (as `pipeline replay` rebuilds it)', () => {
  expect(localStackEnv(localEndpoints(t.ports))).toEqual(t.stack.servers.env);
  // All four servers on the test's own ports; the catalogue table by its local name; the API without an authorizer.
  expect(t.stack.servers.env).toMatchObject({
    AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${t.ports.s3Port}`,
    AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${t.ports.sqsPort}`,
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${t.ports.dynamodbPort}`,
    IMAGES_TABLE: config.local.tables.catalogue,
    API_AUTH: 'local',
  });
});

test('an uploaded JPEG gets its three thumbnails', async () => {
  const key = 'holiday/photo.jpg';
  const eTag = await t.put(key, photo);
  await t.waitFor(() => allExist(thumbnailKeys(key)), 45_000, 'the thumbnails of holiday/photo.jpg');
  await expectThumbnails(key, eTag);
});

test('a key with spaces, a plus and unicode', async () => {
  const key = 'holiday 2024/my photo+1 ü 日本.jpg';
  const eTag = await t.put(key, photo);
  await t.waitFor(() => allExist(thumbnailKeys(key)), 45_000, 'the thumbnails of the special key');
  await expectThumbnails(key, eTag);
  expect(await t.list('thumbnails', '256/holiday 2024/')).toEqual(['256/holiday 2024/my photo+1 ü 日本.jpg.webp']);
});

describe('a batch with a poison record', () => {
  const good = ['batch/one.jpg', 'batch/two.jpg'];
  const poison = 'batch/corrupt.png';
  let dlq: Message[];

  beforeAll(async () => {
    // Hold the resize poller so the three uploads wait on the queue and arrive in one batch.
    await t.stack.pollers.resize.pause();
    await Promise.all([...good.map((key) => t.put(key, photo)), t.put(poison, corrupt)]);
    await t.stack.fanout.idle();
    await t.waitFor(async () => (await queueDepth(t.queueUrls.resize)).visible === 3, 30_000, 'three messages on the resize queue');
    t.stack.pollers.resize.resume();
    await t.waitFor(
      async () => (await Promise.all(good.map((key) => allExist(thumbnailKeys(key))))).every(Boolean),
      45_000,
      'the good thumbnails',
    );
    // The stack's seeded samples include a corrupt image of their own: only this batch's entries count.
    const fromThisBatch = (message: Message) => message.MessageAttributes?.sourceKey?.StringValue?.startsWith('batch/');
    dlq = await t.waitFor(
      async () => {
        const messages = (await t.drain(t.queueUrls.resizeDlq)).filter(fromThisBatch);
        return messages.length > 0 ? messages : undefined;
      },
      30_000,
      'the poison record in the resize DLQ',
    );
    // The poller reports a batch only after the function returned and the batch was acknowledged,
    // which is later than the thumbnails and the DLQ entry: wait for the report the tests read.
    const poisonMessageId = dlq[0].MessageAttributes?.originalMessageId?.StringValue;
    await t.waitFor(
      () => t.batches.some((report) => report.functionName === 'resize' && report.messageIds.includes(poisonMessageId!)),
      30_000,
      'the report of the batch that held the poison record',
    );
  });

  test('the good records are written', async () => {
    for (const key of good) expect(await t.list('thumbnails', `1024/${key}`)).toEqual([`1024/${key}.webp`]);
  });

  test('the three records were delivered together and the batch reported no failure', () => {
    const batch = t.batches.find((report) => report.functionName === 'resize' && report.messageIds.length === 3);
    expect(batch).toBeDefined();
    expect(batch!.failedMessageIds).toEqual([]);
    expect(batch!.invocationError).toBeUndefined();
  });

  test('the poison record is in the DLQ with its reason, after a single attempt', () => {
    expect(dlq).toHaveLength(1);
    const attributes = Object.fromEntries(Object.entries(dlq[0].MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue]));
    expect(attributes).toMatchObject({
      failureClass: 'permanent',
      reason: 'not-an-image',
      sourceBucket: 'uploads',
      sourceKey: poison,
      attempts: '1',
      sourceQueueArn: 'arn:aws:sqs:us-east-1:000000000000:resize',
    });
    // The DLQ body is the notification for that object alone, replayable as it is.
    const body = JSON.parse(dlq[0].Body!);
    expect(body.Records).toHaveLength(1);
    expect(body.Records[0].s3.object.key).toBe(poison);
    // Received once: the poller saw its message in exactly one batch.
    const deliveries = t.batches.filter((report) => report.messageIds.includes(attributes.originalMessageId!));
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0].receiveCounts[deliveries[0].messageIds.indexOf(attributes.originalMessageId!)]).toBe(1);
  });

  test('nothing is left on the resize queue to be retried', async () => {
    await t.waitFor(async () => (await queueDepth(t.queueUrls.resize)).inFlight === 0, 30_000, 'the batch to be acknowledged');
    expect(await queueDepth(t.queueUrls.resize)).toEqual({ visible: 0, inFlight: 0 });
  });

  test('no thumbnail was written for the poison image', async () => {
    expect(await t.list('thumbnails', `256/${poison}`)).toEqual([]);
  });
});

test('deleting the source removes its thumbnails', async () => {
  const key = 'to-remove/photo.jpg';
  await t.put(key, photo);
  await t.waitFor(() => allExist(thumbnailKeys(key)), 45_000, 'the thumbnails');
  await t.s3.send(new DeleteObjectCommand({ Bucket: 'uploads', Key: key }));
  await t.waitFor(
    async () => (await t.list('thumbnails')).every((thumbnail) => !thumbnail.includes('to-remove/')),
    45_000,
    'the thumbnails to go',
  );
});

test('thumbnails written by the pipeline never come back to it', async () => {
  await t.stack.fanout.idle();
  const resizeBatches = t.batches.filter((report) => report.functionName === 'resize');
  expect(resizeBatches.every((report) => !report.invocationError)).toBe(true);
  expect(await t.drain(t.queueUrls.resizeDlq)).toEqual([]); // a thumbnail event would be refused there as recursion
});
