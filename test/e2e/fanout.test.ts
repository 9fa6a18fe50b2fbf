import { createHash } from 'node:crypto';
import { CopyObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { decodeS3EventKey } from '../../shared/s3Key';
import { startTestStack, type TestStack } from '../helpers/localStack';

/**
 * The local fan-out (uploads bucket -> SNS raw delivery -> resize and predict queues) with stub
 * functions that record what they receive: the bodies must be exactly what AWS would deliver.
 */

// Every wait below may take up to 30 s on a loaded machine; Jest must not cut it short.
jest.setTimeout(90_000);

let t: TestStack;
const received: Record<'resize' | 'predict', SQSRecord[]> = { resize: [], predict: [] };
const recorder = (name: 'resize' | 'predict') => async (event: SQSEvent) => {
  received[name].push(...event.Records);
  return { batchItemFailures: [] };
};

beforeAll(async () => {
  t = await startTestStack({ handlers: { resize: recorder('resize'), predict: recorder('predict') }, batchWindowSeconds: 0 });
});

afterAll(async () => {
  await t?.stop();
});

const bodies = (name: 'resize' | 'predict') => received[name].map((record) => JSON.parse(record.body));
const recordsFor = (name: 'resize' | 'predict', key: string, eventName?: string) =>
  bodies(name)
    .flatMap((body) => body.Records ?? [])
    .filter((record: any) => decodeS3EventKey(record.s3.object.key) === key && (!eventName || record.eventName === eventName));

test('the seeded samples go through the pipeline like any upload', async () => {
  expect(t.stack.seeded).toEqual(['samples/landscape.jpg', 'samples/my photo+1 ü.jpg', 'samples/corrupt.png']);
  for (const key of t.stack.seeded) {
    await t.waitFor(
      () => recordsFor('resize', key).length === 1 && recordsFor('predict', key).length === 1,
      30_000,
      `both deliveries of ${key}`,
    );
  }
});

test('an upload reaches both queues as the S3 notification AWS would deliver, key URL-encoded', async () => {
  const key = 'holiday 2024/my photo+1 ü (copy).jpg';
  const eTag = await t.put(key, Buffer.from('not really a jpeg'));
  await t.waitFor(() => recordsFor('resize', key).length === 1 && recordsFor('predict', key).length === 1, 30_000, 'both deliveries');

  const [sqsRecord] = received.resize.filter((record) => record.body.includes('holiday+2024'));
  expect(sqsRecord.eventSourceARN).toBe('arn:aws:sqs:us-east-1:000000000000:resize');
  expect(sqsRecord.md5OfBody).toBe(createHash('md5').update(sqsRecord.body).digest('hex'));
  expect(sqsRecord.messageAttributes).toEqual({});
  const predictRecord = received.predict.find((record) => record.body === sqsRecord.body);
  expect(predictRecord?.eventSourceARN).toBe('arn:aws:sqs:us-east-1:000000000000:predict');

  const body = JSON.parse(sqsRecord.body);
  expect(Object.keys(body)).toEqual(['Records']);
  expect(body.Records).toHaveLength(1);
  expect(body.Records[0]).toEqual({
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    eventName: 'ObjectCreated:Put',
    userIdentity: { principalId: expect.any(String) },
    requestParameters: { sourceIPAddress: expect.any(String) },
    responseElements: { 'x-amz-request-id': expect.any(String), 'x-amz-id-2': expect.any(String) },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: expect.any(String),
      bucket: { name: 'uploads', ownerIdentity: { principalId: expect.any(String) }, arn: 'arn:aws:s3:::uploads' },
      object: {
        key: 'holiday+2024/my+photo%2B1+%C3%BC+%28copy%29.jpg',
        size: 17,
        eTag,
        sequencer: expect.stringMatching(/^[0-9A-F]{16,}$/),
      },
    },
  });
});

test('sequencers order the events of one key', async () => {
  const key = 'order/same.jpg';
  await t.put(key, Buffer.from('1'));
  await t.put(key, Buffer.from('22'));
  await t.waitFor(() => recordsFor('resize', key).length === 2, 30_000, 'two deliveries');
  const records = recordsFor('resize', key).sort((a: any, b: any) => a.s3.object.size - b.s3.object.size);
  expect(records[0].s3.object.sequencer < records[1].s3.object.sequencer).toBe(true);
});

test('a deletion is forwarded as ObjectRemoved:Delete, without size or ETag', async () => {
  const key = 'to-delete/a b.jpg';
  await t.put(key, Buffer.from('x'));
  await t.s3.send(new DeleteObjectCommand({ Bucket: 'uploads', Key: key }));
  // Two queues, two pollers: the removal reaching resize says nothing about predict, so wait for both.
  await t.waitFor(
    () => recordsFor('resize', key, 'ObjectRemoved:Delete').length === 1 && recordsFor('predict', key, 'ObjectRemoved:Delete').length === 1,
    30_000,
    'the removal on both the resize and the predict queue',
  );
  const [removal] = recordsFor('resize', key, 'ObjectRemoved:Delete');
  expect(removal.s3.object).toEqual({ key: 'to-delete/a+b.jpg', sequencer: expect.any(String) });
  expect(recordsFor('predict', key, 'ObjectRemoved:Delete')).toHaveLength(1);
});

test('a copy into the uploads bucket is forwarded with the ETag S3 reports', async () => {
  const eTag = await t.put('copy/source.jpg', Buffer.from('copy me'));
  await t.s3.send(new CopyObjectCommand({ Bucket: 'uploads', Key: 'copy/target.jpg', CopySource: 'uploads/copy/source.jpg' }));
  await t.waitFor(() => recordsFor('resize', 'copy/target.jpg').length === 1, 30_000, 'the copy event');
  const [copy] = recordsFor('resize', 'copy/target.jpg');
  expect(copy.eventName).toBe('ObjectCreated:Copy');
  expect(copy.s3.object).toMatchObject({ key: 'copy/target.jpg', eTag, size: 7 });
});

test('events of the other buckets are never forwarded', async () => {
  await t.put('foreign/thumb.webp', Buffer.from('t'), 'thumbnails');
  await t.put('foreign/model.onnx', Buffer.from('m'), 'models');
  await t.put('marker/after.jpg', Buffer.from('m'));
  // The marker must have reached both consumers: a forwarded foreign event, sent before it, would
  // otherwise still be on its way to the predict poller when the buckets are collected.
  await t.waitFor(
    () => recordsFor('resize', 'marker/after.jpg').length === 1 && recordsFor('predict', 'marker/after.jpg').length === 1,
    30_000,
    'the marker upload on both the resize and the predict queue',
  );
  await t.stack.fanout.idle();
  const buckets = new Set(
    [...bodies('resize'), ...bodies('predict')].flatMap((body) => body.Records.map((record: any) => record.s3.bucket.name)),
  );
  expect([...buckets]).toEqual(['uploads']);
});
