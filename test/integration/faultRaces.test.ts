import path from 'node:path';
import { declaredConfig } from '../../shared/config';
import sharp from 'sharp';
import { lambdaContext, s3NotificationBody, sqsEvent } from '../helpers/events';
import { startFaultProxy, type FaultProxy } from '../helpers/faultProxy';
import { startHandlerHarness, type HandlerHarness } from '../helpers/handlerHarness';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';

const HANDLER = path.resolve(__dirname, '../../functions/resize/handler');
let harness: HandlerHarness;
let proxy: FaultProxy;
beforeAll(async () => {
  harness = await startHandlerHarness();
  proxy = await startFaultProxy(harness.servers.s3Endpoint);
});
afterAll(async () => {
  await proxy?.close();
  await harness?.close();
});
const image = (seed: number) => sharp({ create: { width: 640, height: 480, channels: 3, background: { r: seed * 60, g: 100, b: 200 - seed * 50 } } }).jpeg().toBuffer();
const upload = async (key: string, body: Buffer) => {
  const eTag = await harness.put(key, body);
  return { eTag, body: s3NotificationBody({ bucket: 'uploads', key, eTag, size: body.length }) };
};
const until = async (check: () => boolean | Promise<boolean>) => {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 50));
};

// Races and stalls found by fault injection: each of these failed before the fix named in its test.

test('an overwrite racing an earlier event: the thumbnails end from the newest version (or the record is retried)', async () => {
  const key = 'race/photo.jpg';
  const v1 = await upload(key, await image(1));
  const [slow, fast] = [harness.loadHandler(HANDLER, { AWS_ENDPOINT_URL_S3: proxy.url }), harness.loadHandler(HANDLER, { AWS_ENDPOINT_URL_S3: proxy.url })];
  proxy.inject({ fault: 'stall', method: 'PUT', path: `/thumbnails/1024/${key}`, times: 1 });
  const first = slow(sqsEvent(v1.body), lambdaContext()); // downloads v1, hangs on its marker write
  await until(() => proxy.stalled === 1);
  const v2 = await upload(key, await image(2)); // the object is overwritten meanwhile
  expect((await fast(sqsEvent(v2.body), lambdaContext())).batchItemFailures).toEqual([]);
  proxy.release();
  const firstResult = await first;
  const markers = await Promise.all([1024, 512, 256].map(async (size) => (await harness.get('thumbnails', `${size}/${key}.webp`)).metadata['source-etag']));
  // Either the stale run noticed and asked for a retry, or every thumbnail is from v2.
  if (firstResult.batchItemFailures.length === 0) expect(markers).toEqual([v2.eTag, v2.eTag, v2.eTag]);
});

test('a deletion racing an earlier creation event: no thumbnails outlive their source', async () => {
  const key = 'race/deleted.jpg';
  const v1 = await upload(key, await image(3));
  const [slow, fast] = [harness.loadHandler(HANDLER, { AWS_ENDPOINT_URL_S3: proxy.url }), harness.loadHandler(HANDLER, { AWS_ENDPOINT_URL_S3: proxy.url })];
  proxy.inject({ fault: 'stall', method: 'PUT', path: `/thumbnails/1024/${key}`, times: 1 });
  const created = slow(sqsEvent(v1.body), lambdaContext());
  await until(() => proxy.stalled === 1);
  await harness.s3.send(new DeleteObjectCommand({ Bucket: 'uploads', Key: key }));
  const removed = s3NotificationBody({ bucket: 'uploads', key, eventName: 'ObjectRemoved:Delete' });
  expect((await fast(sqsEvent(removed), lambdaContext())).batchItemFailures).toEqual([]);
  proxy.release();
  const result = await created;
  const left = await harness.list('thumbnails', '');
  if (result.batchItemFailures.length === 0) expect(left.filter((k) => k.includes(key))).toEqual([]);
});

test('a stalled S3 response fails its record alone (transient timeout) before the invocation times out', async () => {
  const a = await upload('stall/a.jpg', await image(1));
  const b = await upload('stall/b.jpg', await image(2));
  const handler = harness.loadHandler(HANDLER, { AWS_ENDPOINT_URL_S3: proxy.url });
  proxy.inject({ fault: 'stall', method: 'GET', path: '/uploads/stall/a.jpg' });
  const event = sqsEvent(a.body, b.body);
  const timeoutMs = declaredConfig.functions.resize.timeoutSeconds * 1000;
  const deadline = Date.now() + timeoutMs;
  const context = { ...lambdaContext(), getRemainingTimeInMillis: () => deadline - Date.now() };
  const outcome = await Promise.race([handler(event, context), new Promise((resolve) => setTimeout(() => resolve('Task timed out'), timeoutMs))]);
  proxy.release();
  expect(outcome).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0].messageId }] });
  expect(await harness.exists('thumbnails', '1024/stall/b.jpg.webp')).toBe(true);
}, 60_000);
