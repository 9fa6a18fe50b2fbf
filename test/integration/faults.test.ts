import path from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import sharp from 'sharp';
import { perceptualDistance } from '../../scripts/perceptual';
import { declaredConfig } from '../../shared/config';
import { lambdaContext, s3NotificationBody, sqsEvent, sqsRecord } from '../helpers/events';
import { type FaultProxy, startFaultProxy } from '../helpers/faultProxy';
import { type HandlerHarness, startHandlerHarness } from '../helpers/handlerHarness';
import { waitFor } from '../helpers/waitFor';

/**
 * Injected faults against the real resize handler over real HTTP: S3 errors and dropped
 * connections from a fault proxy in front of the embedded S3, the same event delivered twice (one
 * after the other, and at once), and object keys that are awkward for S3, for the filesystem behind
 * s3rver, or for the thumbnail naming. Outcomes are read from the handler's own log lines and
 * metrics (EMF on stdout), never from mocks.
 */

const HANDLER = path.resolve(__dirname, '../../functions/resize/handler');
const SIZES = [1024, 512, 256];
const MAX_RECEIVE_COUNT = 5;

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
afterEach(() => proxy.clear());

type Handler = ReturnType<HandlerHarness['loadHandler']>;
/** A fresh handler (a new "container") whose S3 client talks to the fault proxy. */
const viaProxy = (env: Record<string, string> = {}): Handler => harness.loadHandler(HANDLER, { AWS_ENDPOINT_URL_S3: proxy.url, ...env });

/** A deterministic JPEG with structure (gradients and a checker), so perceptual hashes mean something. */
async function testImage(width: number, height: number, seed: number): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      pixels[i] = (Math.floor((x * 255) / width) + seed * 40) & 255;
      pixels[i + 1] = Math.floor((y * 255) / height);
      pixels[i + 2] = ((x >> 5) + (y >> 5) + seed) % 2 === 0 ? 220 : 30;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

let images: Buffer[];
beforeAll(async () => {
  images = await Promise.all([0, 1, 2].map((seed) => testImage(640, 480, seed)));
});

const uploadAndEvent = async (key: string, body: Buffer) => {
  const eTag = await harness.put(key, body);
  return { eTag, body: s3NotificationBody({ bucket: 'uploads', key, eTag, size: body.length }) };
};
const eventAt = (receiveCount: number, ...bodies: string[]): SQSEvent => ({ Records: bodies.map((body) => sqsRecord(body, receiveCount)) });
const allFailed = (event: SQSEvent) => event.Records.map((record) => ({ itemIdentifier: record.messageId }));
const dlqMessages = () => harness.drain(harness.servers.queueUrls.resizeDlq);
const attributesOf = (message: { MessageAttributes?: Record<string, { StringValue?: string }> }) =>
  Object.fromEntries(Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue]));

type Line = Record<string, any>;

/** Runs `work` with stdout and stderr captured: the handler's JSON log lines (errors go to stderr) and EMF metric blobs. */
async function captureStdout<T>(work: () => Promise<T>): Promise<{ result: T; lines: Line[] }> {
  const written: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  };
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(capture),
    jest.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
  let result: T;
  try {
    result = await work();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  const lines = written
    .join('')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      try {
        return JSON.parse(line) as Line;
      } catch {
        return { unparsed: line };
      }
    });
  return { result, lines };
}

/** Runs `work` with its log lines swallowed. */
const quietly = async <T>(work: () => Promise<T>): Promise<T> => (await captureStdout(work)).result;

/** [s3Key, outcome status] of every record the handler processed. */
const outcomes = (lines: Line[]) => lines.filter((line) => line.message === 'processed').map((line) => [line.s3Key, line.outcome.status]);
/** [s3Key, reason] of every record failed for a retry. */
const retried = (lines: Line[]) =>
  lines.filter((line) => line.message === 'transient failure: the record will be retried').map((line) => [line.s3Key, line.reason]);
/** A metric's total over the EMF blobs printed. */
const metric = (lines: Line[], name: string) =>
  lines.filter((line) => line._aws).reduce((sum, blob) => sum + [blob[name] ?? 0].flat().reduce((a: number, b: number) => a + b, 0), 0);

/** Every thumbnail of `key` exists, decodes, has the expected size and names its source and ETag. */
async function expectThumbnails(key: string, eTag: string, source: { width: number; height: number }) {
  for (const size of SIZES) {
    const thumbnail = await harness.get('thumbnails', `${size}/${key}.webp`);
    const meta = await sharp(thumbnail.data).metadata();
    expect(meta.format).toBe('webp');
    const scale = Math.min(1, size / Math.max(source.width, source.height));
    expect([meta.width, meta.height]).toEqual([Math.round(source.width * scale), Math.round(source.height * scale)]);
    expect(thumbnail.metadata).toMatchObject({ 'source-etag': eTag, width: String(meta.width), height: String(meta.height) });
    expect(decodeURIComponent(thumbnail.metadata['source-key'])).toBe(key);
  }
}

describe('S3 errors during a batch', () => {
  test('500 InternalError to every request: each record fails alone as transient, stays out of the DLQ on attempts 1-4, and is written once S3 is back', async () => {
    const keys = ['s3-500/a.jpg', 's3-500/b.jpg'];
    const uploads = await Promise.all(keys.map((key, i) => uploadAndEvent(key, images[i])));
    const handler = viaProxy({ POWERTOOLS_LOG_LEVEL: 'WARN' });
    const outage = proxy.inject({ fault: 'internal-error' });

    for (let receiveCount = 1; receiveCount < MAX_RECEIVE_COUNT; receiveCount++) {
      const event = eventAt(receiveCount, ...uploads.map((upload) => upload.body));
      const { result, lines } = await captureStdout(() => handler(event, lambdaContext()));
      expect(result.batchItemFailures).toEqual(allFailed(event));
      expect(retried(lines)).toEqual(keys.map((key) => [key, 'service-unavailable']));
      expect(await dlqMessages()).toEqual([]);
    }
    // Each failed call was retried by the SDK itself before the record failed (more faults than calls).
    expect(outage.hits).toBeGreaterThan((MAX_RECEIVE_COUNT - 1) * keys.length);
    expect(await harness.list('thumbnails', '256/s3-500/')).toEqual([]);

    outage.remove();
    const last = eventAt(MAX_RECEIVE_COUNT, ...uploads.map((upload) => upload.body));
    expect((await handler(last, lambdaContext())).batchItemFailures).toEqual([]);
    for (const [i, key] of keys.entries()) await expectThumbnails(key, uploads[i].eTag, { width: 640, height: 480 });
    expect(await dlqMessages()).toEqual([]);
  });

  test('503 SlowDown on one record’s writes: it fails alone as throttled while the batch goes on, and its last attempt is dead-lettered as throttled', async () => {
    const slow = await uploadAndEvent('slow/a.jpg', images[0]);
    const fine = await uploadAndEvent('fine/b.jpg', images[1]);
    const handler = viaProxy({ POWERTOOLS_LOG_LEVEL: 'INFO' });
    proxy.inject({ fault: 'slow-down', method: 'PUT', path: /^\/thumbnails\/\d+\/slow\// });

    const first = eventAt(1, slow.body, fine.body);
    const { result, lines } = await captureStdout(() => handler(first, lambdaContext()));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: first.Records[0].messageId }]);
    expect(retried(lines)).toEqual([['slow/a.jpg', 'throttled']]);
    expect(outcomes(lines)).toEqual([['fine/b.jpg', 'written']]);
    expect(await dlqMessages()).toEqual([]);
    await expectThumbnails('fine/b.jpg', fine.eTag, { width: 640, height: 480 });

    const last = eventAt(MAX_RECEIVE_COUNT, slow.body);
    expect((await quietly(() => handler(last, lambdaContext()))).batchItemFailures).toEqual([]);
    const [dead, ...rest] = await dlqMessages();
    expect(rest).toEqual([]);
    expect(attributesOf(dead)).toMatchObject({ failureClass: 'transient', reason: 'throttled', sourceKey: 'slow/a.jpg', attempts: '5' });
    expect(JSON.parse(dead.Body!).Records[0].s3.object).toMatchObject({ key: 'slow/a.jpg', eTag: slow.eTag });
    expect(await harness.list('thumbnails', '1024/slow/')).toEqual([]);
  });

  test('503 on the largest thumbnail only: the smaller ones are written but not the commit marker, so the retry does the whole work again', async () => {
    const upload = await uploadAndEvent('marker/a.jpg', images[2]);
    const handler = viaProxy({ POWERTOOLS_LOG_LEVEL: 'INFO' });
    const fault = proxy.inject({ fault: 'service-unavailable', method: 'PUT', path: '/thumbnails/1024/marker/' });

    const first = eventAt(1, upload.body);
    expect((await quietly(() => handler(first, lambdaContext()))).batchItemFailures).toEqual(allFailed(first));
    expect(await harness.exists('thumbnails', '256/marker/a.jpg.webp')).toBe(true);
    expect(await harness.exists('thumbnails', '512/marker/a.jpg.webp')).toBe(true);
    expect(await harness.exists('thumbnails', '1024/marker/a.jpg.webp')).toBe(false);

    fault.remove();
    const { result, lines } = await captureStdout(() => handler(eventAt(2, upload.body), lambdaContext()));
    expect(result.batchItemFailures).toEqual([]);
    expect(outcomes(lines)).toEqual([['marker/a.jpg', 'written']]);
    await expectThumbnails('marker/a.jpg', upload.eTag, { width: 640, height: 480 });
    expect(await dlqMessages()).toEqual([]);
  });

  test('connections dropped without an answer: the record fails as transient, outside the DLQ, and is written once they are answered again', async () => {
    const upload = await uploadAndEvent('dropped/a.jpg', images[0]);
    const handler = viaProxy({ POWERTOOLS_LOG_LEVEL: 'WARN' });
    const drops = proxy.inject({ fault: 'drop' });
    const event = eventAt(1, upload.body);
    const { result, lines } = await captureStdout(() => handler(event, lambdaContext()));
    expect(result.batchItemFailures).toEqual(allFailed(event));
    // The SDK names a reset connection TimeoutError (code ECONNRESET, "socket hang up"); it is the
    // network that failed, not a slow answer.
    expect(retried(lines)).toEqual([['dropped/a.jpg', 'service-unavailable']]);
    expect(drops.hits).toBeGreaterThan(1);
    expect(await dlqMessages()).toEqual([]);

    drops.remove();
    expect((await handler(eventAt(2, upload.body), lambdaContext())).batchItemFailures).toEqual([]);
    await expectThumbnails('dropped/a.jpg', upload.eTag, { width: 640, height: 480 });
  });

  test('a fault shorter than the SDK’s own retries is absorbed: the record is written at its first attempt', async () => {
    const upload = await uploadAndEvent('blip/a.jpg', images[1]);
    const handler = viaProxy({ POWERTOOLS_LOG_LEVEL: 'INFO' });
    const blip = proxy.inject({ fault: 'slow-down', method: 'GET', path: '/uploads/blip/', times: 2 });
    const { result, lines } = await captureStdout(() => handler(eventAt(1, upload.body), lambdaContext()));
    expect(result.batchItemFailures).toEqual([]);
    expect(blip.hits).toBe(2);
    expect(outcomes(lines)).toEqual([['blip/a.jpg', 'written']]);
    await expectThumbnails('blip/a.jpg', upload.eTag, { width: 640, height: 480 });
  });
});

describe('the same S3 event delivered twice', () => {
  const snapshot = async (key: string) =>
    Promise.all(SIZES.map(async (size) => ({ size, ...(await harness.get('thumbnails', `${size}/${key}.webp`)) })));

  test('one after the other: the second delivery costs two HEADs (its marker, the verdict), writes nothing, and is counted as DuplicatesSkipped', async () => {
    const key = 'dup/sequential.jpg';
    const upload = await uploadAndEvent(key, images[0]);
    const handler = viaProxy({ POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_METRICS_DISABLED: 'false' });

    const first = await captureStdout(() => handler(sqsEvent(upload.body), lambdaContext()));
    expect(first.result.batchItemFailures).toEqual([]);
    expect(outcomes(first.lines)).toEqual([[key, 'written']]);
    expect(metric(first.lines, 'ImagesProcessed')).toBe(1);
    expect(metric(first.lines, 'DuplicatesSkipped')).toBe(0);
    const before = await snapshot(key);

    const seen = proxy.requests.length;
    const second = await captureStdout(() => handler(sqsEvent(upload.body), lambdaContext()));
    expect(second.result.batchItemFailures).toEqual([]);
    expect(outcomes(second.lines)).toEqual([[key, 'duplicate-skipped']]);
    expect(metric(second.lines, 'DuplicatesSkipped')).toBe(1);
    expect(metric(second.lines, 'ImagesProcessed')).toBe(0);
    expect(second.lines.find((line) => line._aws)?._aws.CloudWatchMetrics[0].Metrics).toEqual(
      expect.arrayContaining([{ Name: 'DuplicatesSkipped', Unit: 'Count' }]),
    );
    // Its commit marker, then (the marker being clear) whether the prediction of that version flagged it.
    expect(proxy.requests.slice(seen).map((request) => `${request.method} ${request.path}`)).toEqual([
      `HEAD /thumbnails/1024/${key}.webp`,
      `HEAD /thumbnails/predictions/${key}.json`,
    ]);
    expect(await snapshot(key)).toEqual(before);
  });

  test('at the same time, in two handler instances: both succeed and the outputs are those of a single delivery', async () => {
    const reference = await uploadAndEvent('dup/reference.jpg', images[1]);
    const key = 'dup/concurrent.jpg';
    const upload = await uploadAndEvent(key, images[1]);
    expect(upload.eTag).toBe(reference.eTag);
    const [one, two] = [viaProxy({ POWERTOOLS_LOG_LEVEL: 'INFO' }), viaProxy({ POWERTOOLS_LOG_LEVEL: 'INFO' })];
    expect((await quietly(() => one(sqsEvent(reference.body), lambdaContext()))).batchItemFailures).toEqual([]);

    const { result, lines } = await captureStdout(() =>
      Promise.all([one(sqsEvent(upload.body), lambdaContext()), two(sqsEvent(upload.body), lambdaContext())]),
    );
    expect(result.map((response: SQSBatchResponse) => response.batchItemFailures)).toEqual([[], []]);
    const statuses = outcomes(lines).map(([, status]) => status);
    expect(statuses).toHaveLength(2);
    expect(statuses).toContain('written');
    for (const status of statuses) expect(['written', 'duplicate-skipped']).toContain(status);

    await expectThumbnails(key, upload.eTag, { width: 640, height: 480 });
    const [expected, actual] = [await snapshot('dup/reference.jpg'), await snapshot(key)];
    for (const [i, thumbnail] of actual.entries()) {
      expect(thumbnail.contentType).toBe(expected[i].contentType);
      expect(await perceptualDistance(thumbnail.data, expected[i].data)).toBe(0);
      expect(thumbnail.data.equals(expected[i].data)).toBe(true);
      const { 'source-key': sourceKey, ...metadata } = thumbnail.metadata;
      const { 'source-key': _referenceKey, ...expectedMetadata } = expected[i].metadata;
      expect(metadata).toEqual(expectedMetadata);
      expect(decodeURIComponent(sourceKey)).toBe(key);
    }

    // A third delivery finds the finished run.
    const { lines: third } = await captureStdout(() => two(sqsEvent(upload.body), lambdaContext()));
    expect(outcomes(third)).toEqual([[key, 'duplicate-skipped']]);
  });

  test('a new version of the object (another ETag) is not a duplicate: its thumbnails replace the old ones', async () => {
    const key = 'dup/replaced.jpg';
    const handler = viaProxy({ POWERTOOLS_LOG_LEVEL: 'INFO' });
    const first = await uploadAndEvent(key, images[0]);
    await quietly(() => handler(sqsEvent(first.body), lambdaContext()));
    const second = await uploadAndEvent(key, images[2]);
    expect(second.eTag).not.toBe(first.eTag);

    const { lines } = await captureStdout(() => handler(sqsEvent(second.body), lambdaContext()));
    expect(outcomes(lines)).toEqual([[key, 'written']]);
    await expectThumbnails(key, second.eTag, { width: 640, height: 480 });
    // The old event, delivered late, is not skipped either (its ETag is not the marker's) and rewrites from the current object.
    const { lines: late } = await captureStdout(() => handler(sqsEvent(first.body), lambdaContext()));
    expect(outcomes(late)).toEqual([[key, 'written']]);
    await expectThumbnails(key, second.eTag, { width: 640, height: 480 });
  });
});

describe('awkward object keys', () => {
  /** A key of exactly `bytes` UTF-8 bytes: `prefix`, then segments of `unit` under 255 bytes (a filename for s3rver), then `.jpg`. */
  function keyOfBytes(prefix: string, bytes: number, unit = 'k'): string {
    let key = prefix;
    const room = () => bytes - Buffer.byteLength(key) - '.jpg'.length;
    while (room() > 0) {
      const segment = unit.repeat(Math.min(100, Math.floor(room() / Buffer.byteLength(unit))));
      if (segment === '') break;
      key += segment;
      if (room() > 1) key += '/';
    }
    key += 'k'.repeat(Math.max(0, room()));
    return `${key}.jpg`;
  }
  // The largest thumbnail key is `1024/<key>.webp`: 10 bytes more than the source key.
  const atLimit = keyOfBytes('keys/limit/', 1024 - 10);
  const overLimit = keyOfBytes('keys/over/', 1024 - 9);
  const overInBytes = keyOfBytes('keys/umlaut/', 1024 - 8, 'ü');

  type Expected = { outcome: 'written' } | { outcome: 'source-missing' } | { dlq: string };
  const CASES: { name: string; key: string; upload: boolean; encodedKey?: string; expected: Expected }[] = [
    { name: 'largest thumbnail key exactly 1,024 bytes', key: atLimit, upload: true, expected: { outcome: 'written' } },
    { name: 'largest thumbnail key 1,025 bytes', key: overLimit, upload: true, expected: { dlq: 'key-too-long' } },
    { name: 'under 1,024 characters but over 1,024 bytes (ü)', key: overInBytes, upload: true, expected: { dlq: 'key-too-long' } },
    { name: '`..` segment', key: 'keys/dots/../up.jpg', upload: true, expected: { outcome: 'written' } },
    { name: '`.` segment', key: 'keys/./here.jpg', upload: true, expected: { outcome: 'written' } },
    { name: 'U+0001', key: 'keys/ctl\u0001a.jpg', upload: true, expected: { outcome: 'written' } },
    { name: 'tab', key: 'keys/tab\tb.jpg', upload: true, expected: { outcome: 'written' } },
    { name: 'newline', key: 'keys/line\nc.jpg', upload: true, expected: { outcome: 'written' } },
    { name: 'DEL', key: 'keys/del\u007fd.jpg', upload: true, expected: { outcome: 'written' } },
    { name: 'trailing spaces', key: 'keys/trailing.jpg  ', upload: true, expected: { outcome: 'written' } },
    { name: 'leading space', key: ' keys/leading-space.jpg', upload: true, expected: { outcome: 'written' } },
    // s3rver cannot store a key with a leading slash (its router answers 404 to `/uploads//...`), so
    // the object does not exist here and the event is built by hand, as AWS would send it.
    { name: 'leading slash (not storable in s3rver)', key: '/keys/slash.jpg', upload: false, expected: { outcome: 'source-missing' } },
    {
      name: 'invalid percent-encoding in the event',
      key: 'keys/bad%.jpg',
      encodedKey: 'keys/bad%E0%A4%A.jpg',
      upload: false,
      expected: { dlq: 'invalid-event' },
    },
    {
      name: 'UTF-8 of a lone surrogate in the event',
      key: 'keys/surrogate.jpg',
      encodedKey: 'keys/%ED%A0%80.jpg',
      upload: false,
      expected: { dlq: 'invalid-event' },
    },
  ];

  const bodyFor = async (testCase: (typeof CASES)[number], image: Buffer) => {
    if (testCase.upload) return (await uploadAndEvent(testCase.key, image)).body;
    const body = JSON.parse(
      s3NotificationBody({ bucket: 'uploads', key: testCase.key, eTag: '0123456789abcdef0123456789abcdef', size: image.length }),
    );
    if (testCase.encodedKey) body.Records[0].s3.object.key = testCase.encodedKey;
    return JSON.stringify(body);
  };

  test('every key gets a deterministic outcome, the same on redelivery, and the batch never fails as a whole', async () => {
    expect(Buffer.byteLength(atLimit)).toBe(1014);
    expect(Buffer.byteLength(overLimit)).toBe(1015);
    expect(Buffer.byteLength(overInBytes)).toBe(1016);
    expect(overInBytes.length).toBeLessThan(1024 - 10);

    const image = images[2];
    const bodies = await Promise.all(CASES.map((testCase) => bodyFor(testCase, image)));
    const handler = viaProxy({ POWERTOOLS_LOG_LEVEL: 'INFO' });

    for (const round of [1, 2]) {
      const event = sqsEvent(...bodies);
      const { result, lines } = await captureStdout(() => handler(event, lambdaContext()));
      expect(result.batchItemFailures).toEqual([]);

      const processed = new Map(lines.filter((line) => line.message === 'processed').map((line) => [line.messageId, line.outcome.status]));
      const dead = new Map((await dlqMessages()).map((message) => [attributesOf(message).originalMessageId, attributesOf(message)]));
      const observed = CASES.map((testCase, i) => {
        const id = event.Records[i].messageId;
        return { name: testCase.name, status: processed.get(id), reason: dead.get(id)?.reason, failureClass: dead.get(id)?.failureClass };
      });
      const expected = CASES.map(({ name, expected: e }) =>
        'dlq' in e
          ? { name, status: undefined, reason: e.dlq, failureClass: 'permanent' }
          : {
              name,
              status: round === 2 && e.outcome === 'written' ? 'duplicate-skipped' : e.outcome,
              reason: undefined,
              failureClass: undefined,
            },
      );
      expect(observed).toEqual(expected);
    }

    for (const testCase of CASES.filter((c) => 'outcome' in c.expected && c.expected.outcome === 'written')) {
      for (const size of SIZES) {
        // Read back by the literal key: S3 keys are opaque, the pipeline never normalises them.
        const thumbnail = await harness.get('thumbnails', `${size}/${testCase.key}.webp`);
        expect(decodeURIComponent(thumbnail.metadata['source-key'])).toBe(testCase.key);
        const meta = await sharp(thumbnail.data).metadata();
        expect([meta.format, Math.max(meta.width, meta.height)]).toEqual(['webp', Math.min(size, 640)]);
      }
    }
    expect(await harness.exists('thumbnails', `256/${overLimit}.webp`)).toBe(false);
  });

  test('the DLQ entry of a key-too-long record names the whole key, in its body and its attributes', async () => {
    const body = (await uploadAndEvent(overLimit, images[0])).body;
    const handler = viaProxy();
    expect((await handler(sqsEvent(body), lambdaContext())).batchItemFailures).toEqual([]);
    const [dead, ...rest] = await dlqMessages();
    expect(rest).toEqual([]);
    expect(attributesOf(dead)).toMatchObject({ reason: 'key-too-long', failureClass: 'permanent', sourceKey: overLimit, attempts: '1' });
    expect(attributesOf(dead).errorMessage).toMatch(/1025 bytes/);
    expect(JSON.parse(dead.Body!).Records[0].s3.object.key).toBe(overLimit);
  });
});

// Races and stalls found by fault injection: each of these failed before the fix named in its test.

test('an overwrite racing an earlier event: the thumbnails end from the newest version (or the record is retried)', async () => {
  const key = 'race/photo.jpg';
  const v1 = await uploadAndEvent(key, images[1]);
  const [slow, fast] = [
    harness.loadHandler(HANDLER, { AWS_ENDPOINT_URL_S3: proxy.url }),
    harness.loadHandler(HANDLER, { AWS_ENDPOINT_URL_S3: proxy.url }),
  ];
  proxy.inject({ fault: 'stall', method: 'PUT', path: `/thumbnails/1024/${key}`, times: 1 });
  const first = slow(sqsEvent(v1.body), lambdaContext()); // downloads v1, hangs on its marker write
  // The race only exists once the slow run hangs: going on without it would test something else.
  await waitFor(() => proxy.stalled === 1, 20_000, 'the slow run to hang on its marker write');
  const v2 = await uploadAndEvent(key, images[2]); // the object is overwritten meanwhile
  expect((await fast(sqsEvent(v2.body), lambdaContext())).batchItemFailures).toEqual([]);
  proxy.release();
  const firstResult = await first;
  const markers = await Promise.all(
    [1024, 512, 256].map(async (size) => (await harness.get('thumbnails', `${size}/${key}.webp`)).metadata['source-etag']),
  );
  // Either the stale run noticed and asked for a retry, or every thumbnail is from v2.
  if (firstResult.batchItemFailures.length === 0) expect(markers).toEqual([v2.eTag, v2.eTag, v2.eTag]);
});

test('a deletion racing an earlier creation event: no thumbnails outlive their source', async () => {
  const key = 'race/deleted.jpg';
  const v1 = await uploadAndEvent(key, images[0]);
  const [slow, fast] = [
    harness.loadHandler(HANDLER, { AWS_ENDPOINT_URL_S3: proxy.url }),
    harness.loadHandler(HANDLER, { AWS_ENDPOINT_URL_S3: proxy.url }),
  ];
  proxy.inject({ fault: 'stall', method: 'PUT', path: `/thumbnails/1024/${key}`, times: 1 });
  const created = slow(sqsEvent(v1.body), lambdaContext());
  await waitFor(() => proxy.stalled === 1, 20_000, 'the slow run to hang on its marker write');
  await harness.s3.send(new DeleteObjectCommand({ Bucket: 'uploads', Key: key }));
  const removed = s3NotificationBody({ bucket: 'uploads', key, eventName: 'ObjectRemoved:Delete' });
  expect((await fast(sqsEvent(removed), lambdaContext())).batchItemFailures).toEqual([]);
  proxy.release();
  const result = await created;
  const left = await harness.list('thumbnails', '');
  if (result.batchItemFailures.length === 0) expect(left.filter((k) => k.includes(key))).toEqual([]);
});

test('a stalled S3 response fails its record alone (transient timeout) before the invocation times out', async () => {
  const a = await uploadAndEvent('stall/a.jpg', images[1]);
  const b = await uploadAndEvent('stall/b.jpg', images[2]);
  const handler = harness.loadHandler(HANDLER, { AWS_ENDPOINT_URL_S3: proxy.url });
  proxy.inject({ fault: 'stall', method: 'GET', path: '/uploads/stall/a.jpg' });
  const event = sqsEvent(a.body, b.body);
  const timeoutMs = declaredConfig.functions.resize.timeoutSeconds * 1000;
  const deadline = Date.now() + timeoutMs;
  const context = { ...lambdaContext(), getRemainingTimeInMillis: () => deadline - Date.now() };
  const outcome = await Promise.race([
    handler(event, context),
    new Promise((resolve) => setTimeout(() => resolve('Task timed out'), timeoutMs)),
  ]);
  proxy.release();
  expect(outcome).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0].messageId }] });
  expect(await harness.exists('thumbnails', '1024/stall/b.jpg.webp')).toBe(true);
}, 60_000);
