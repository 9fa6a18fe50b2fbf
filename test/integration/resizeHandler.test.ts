import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { freePort } from '../../local/servers';
import { lambdaContext, s3NotificationBody, sqsEvent, sqsRecord } from '../helpers/events';
import { CORPUS, type HandlerHarness, startHandlerHarness } from '../helpers/handlerHarness';

const HANDLER = path.resolve(__dirname, '../../functions/resize/handler');
const photo = readFileSync(path.join(CORPUS, 'exif-orientation/Landscape_0.jpg'));

let harness: HandlerHarness;
let handler: ReturnType<HandlerHarness['loadHandler']>;

beforeAll(async () => {
  harness = await startHandlerHarness();
  handler = harness.loadHandler(HANDLER);
});
afterAll(() => harness.close());

const uploadAndEvent = async (key: string, body: Buffer) => {
  const eTag = await harness.put(key, body);
  return s3NotificationBody({ bucket: 'uploads', key, eTag, size: body.length });
};
const dlqMessages = () => harness.drain(harness.servers.queueUrls.resizeDlq);
/** An S3 endpoint nothing answers on: a port the OS just handed out, not a fixed one (such as 9) that may be in use. */
const unreachableEndpoint = async () => `http://127.0.0.1:${await freePort()}`;
const attribute = (message: { MessageAttributes?: Record<string, { StringValue?: string }> }, name: string) =>
  message.MessageAttributes?.[name]?.StringValue;

describe('resize handler against the embedded S3 and SQS', () => {
  test('writes every configured size as WebP with source metadata, never enlarged', async () => {
    const body = await uploadAndEvent('holiday/photo.jpg', photo);
    const response = await handler(sqsEvent(body), lambdaContext());
    expect(response.batchItemFailures).toEqual([]);

    expect(await harness.list('thumbnails', '')).toEqual(
      expect.arrayContaining(['1024/holiday/photo.jpg.webp', '256/holiday/photo.jpg.webp', '512/holiday/photo.jpg.webp']),
    );
    for (const size of [256, 512, 1024]) {
      const thumbnail = await harness.get('thumbnails', `${size}/holiday/photo.jpg.webp`);
      const metadata = await sharp(thumbnail.data).metadata();
      expect(thumbnail.contentType).toBe('image/webp');
      expect(metadata.format).toBe('webp');
      expect(Math.max(metadata.width, metadata.height)).toBe(size);
      expect(metadata.exif).toBeUndefined();
      expect(thumbnail.metadata).toMatchObject({
        'source-bucket': 'uploads',
        'source-key': 'holiday%2Fphoto.jpg',
        width: String(metadata.width),
        height: String(metadata.height),
      });
      expect(thumbnail.metadata['source-etag']).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  test('a small image keeps its own dimensions at every size', async () => {
    const small = await sharp({ create: { width: 120, height: 80, channels: 3, background: '#3366cc' } })
      .png()
      .toBuffer();
    const body = await uploadAndEvent('small/icon.png', small);
    expect((await handler(sqsEvent(body), lambdaContext())).batchItemFailures).toEqual([]);
    for (const size of [256, 512, 1024]) {
      const { metadata } = await harness.get('thumbnails', `${size}/small/icon.png.webp`);
      expect([metadata.width, metadata.height]).toEqual(['120', '80']);
    }
  });

  test('decodes keys with spaces, a literal plus and unicode', async () => {
    const key = 'my photos/summer+winter ü 日本.jpg';
    const body = await uploadAndEvent(key, photo);
    expect(body).toContain('my+photos/summer%2Bwinter+%C3%BC+');
    expect((await handler(sqsEvent(body), lambdaContext())).batchItemFailures).toEqual([]);
    expect(await harness.exists('thumbnails', `256/${key}.webp`)).toBe(true);
  });

  test('one poison record goes to the DLQ with its reason while the rest of the batch succeeds', async () => {
    const good = await uploadAndEvent('batch/good.jpg', photo);
    const poison = await uploadAndEvent('batch/notes.jpg', Buffer.from('this is a text file named .jpg\n'));
    const response = await handler(sqsEvent(good, poison), lambdaContext());

    expect(response.batchItemFailures).toEqual([]);
    expect(await harness.exists('thumbnails', '256/batch/good.jpg.webp')).toBe(true);
    expect(await harness.exists('thumbnails', '256/batch/notes.jpg.webp')).toBe(false);
    const [dead, ...rest] = await dlqMessages();
    expect(rest).toEqual([]);
    expect(attribute(dead, 'reason')).toBe('not-an-image');
    expect(attribute(dead, 'failureClass')).toBe('permanent');
    expect(attribute(dead, 'sourceKey')).toBe('batch/notes.jpg');
    expect(attribute(dead, 'attempts')).toBe('1');
    expect(JSON.parse(dead.Body!).Records[0].s3.object.key).toBe('batch/notes.jpg');
  });

  test('drops the s3:TestEvent and sends a malformed body to the DLQ as invalid-event', async () => {
    const testEvent = JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: new Date().toISOString(), Bucket: 'uploads' });
    const response = await handler(sqsEvent(testEvent, '{"not":"a notification"', JSON.stringify({ Records: 'nope' })), lambdaContext());
    expect(response.batchItemFailures).toEqual([]);
    const dead = await dlqMessages();
    expect(dead.map((message) => attribute(message, 'reason'))).toEqual(['invalid-event', 'invalid-event']);
  });

  test('refuses to read from the thumbnails bucket (recursion guard)', async () => {
    const body = s3NotificationBody({ bucket: 'thumbnails', key: '256/holiday/photo.jpg.webp' });
    expect((await handler(sqsEvent(body), lambdaContext())).batchItemFailures).toEqual([]);
    const [dead] = await dlqMessages();
    expect(attribute(dead, 'reason')).toBe('recursion');
    expect(await harness.exists('thumbnails', '256/256/holiday/photo.jpg.webp.webp')).toBe(false);
  });

  test('refuses an object over the byte limit before downloading it', async () => {
    const limited = harness.loadHandler(HANDLER, { MAX_INPUT_BYTES: '1000' });
    const body = await uploadAndEvent('big/photo.jpg', photo);
    expect((await limited(sqsEvent(body), lambdaContext())).batchItemFailures).toEqual([]);
    const [dead] = await dlqMessages();
    expect(attribute(dead, 'reason')).toBe('too-large');
  });

  test('a deleted source takes its thumbnails with it', async () => {
    const created = await uploadAndEvent('gone/photo.jpg', photo);
    await handler(sqsEvent(created), lambdaContext());
    expect(await harness.list('thumbnails', '256/gone/')).toEqual(['256/gone/photo.jpg.webp']);
    const removed = s3NotificationBody({ bucket: 'uploads', key: 'gone/photo.jpg', eventName: 'ObjectRemoved:Delete' });
    expect((await handler(sqsEvent(removed), lambdaContext())).batchItemFailures).toEqual([]);
    for (const size of [256, 512, 1024]) expect(await harness.exists('thumbnails', `${size}/gone/photo.jpg.webp`)).toBe(false);
  });

  test('S3 unreachable: the record fails alone as transient and nothing reaches the DLQ', async () => {
    const unreachable = harness.loadHandler(HANDLER, { AWS_ENDPOINT_URL_S3: await unreachableEndpoint() });
    const body = s3NotificationBody({ bucket: 'uploads', key: 'holiday/photo.jpg', size: photo.length });
    const event = sqsEvent(body);
    const response = await unreachable(event, lambdaContext());
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0].messageId }]);
    expect(await dlqMessages()).toEqual([]);
  });

  test('a transient failure on the last allowed attempt is dead-lettered with its reason, not dropped', async () => {
    const unreachable = harness.loadHandler(HANDLER, { AWS_ENDPOINT_URL_S3: await unreachableEndpoint() });
    const body = s3NotificationBody({ bucket: 'uploads', key: 'holiday/photo.jpg', size: photo.length });
    const response = await unreachable({ Records: [sqsRecord(body, 5)] }, lambdaContext());
    expect(response.batchItemFailures).toEqual([]);
    const [dead, ...rest] = await dlqMessages();
    expect(rest).toEqual([]);
    expect(attribute(dead, 'failureClass')).toBe('transient');
    expect(attribute(dead, 'reason')).toBe('service-unavailable');
    expect(attribute(dead, 'attempts')).toBe('5');
  });

  test('records are not started when the invocation is about to time out: they fail alone and are redelivered', async () => {
    const body = await uploadAndEvent('late/photo.jpg', photo);
    const event = sqsEvent(body, body);
    let remaining = 20_000;
    const context = { ...lambdaContext(), getRemainingTimeInMillis: () => (remaining -= 8_000) };
    const response = await handler(event, context);
    // 12 s left for the first record (processed), 4 s for the second (not started).
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[1].messageId }]);
    expect(await harness.exists('thumbnails', '256/late/photo.jpg.webp')).toBe(true);
    expect(await dlqMessages()).toEqual([]);
  });

  test('every log line of a record carries the S3 key, the message id and the request id', async () => {
    const verbose = harness.loadHandler(HANDLER, { POWERTOOLS_LOG_LEVEL: 'INFO' });
    const body = await uploadAndEvent('logged/photo.jpg', photo);
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const context = lambdaContext();
    const event = sqsEvent(body);
    try {
      await verbose(event, context);
    } finally {
      spy.mockRestore();
    }
    const lines = written
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.message)).toContain('processed');
    for (const line of lines) {
      expect(line).toMatchObject({
        s3Key: 'logged/photo.jpg',
        messageId: event.Records[0].messageId,
        function_request_id: context.awsRequestId,
        level: 'INFO',
        service: 'resize',
      });
    }
  });
});
