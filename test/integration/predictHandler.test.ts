import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createRandom } from '../../scripts/model/random';
import { randomShapeSpec, renderShape, SHAPE_LABELS } from '../../scripts/model/shapes';
import { lambdaContext, s3NotificationBody, sqsEvent, sqsRecord } from '../helpers/events';
import { CORPUS, type HandlerHarness, startHandlerHarness } from '../helpers/handlerHarness';

const HANDLER = path.resolve(__dirname, '../../functions/predict/handler');
const DEMO_MODEL = path.resolve(__dirname, '../../models/shapes/1');
const photo = readFileSync(path.join(CORPUS, 'exif-orientation/Portrait_6.jpg'));
const modelBytes = readFileSync(path.join(DEMO_MODEL, 'model.onnx'));
const manifest = JSON.parse(readFileSync(path.join(DEMO_MODEL, 'manifest.json'), 'utf8'));

let harness: HandlerHarness;

const putModel = async (prefix: string, files: { model?: Buffer; manifest?: unknown }) => {
  if (files.model) await harness.s3.send(new PutObjectCommand({ Bucket: 'models', Key: `${prefix}model.onnx`, Body: files.model }));
  if (files.manifest !== undefined) {
    const body = typeof files.manifest === 'string' ? files.manifest : JSON.stringify(files.manifest);
    await harness.s3.send(new PutObjectCommand({ Bucket: 'models', Key: `${prefix}manifest.json`, Body: body }));
  }
};
const uploadAndEvent = async (key: string, body: Buffer) =>
  s3NotificationBody({ bucket: 'uploads', key, eTag: await harness.put(key, body), size: body.length });
const readPrediction = async (key: string) =>
  JSON.parse((await harness.get('thumbnails', `predictions/${key}.json`)).data.toString('utf8'));
const dlq = () => harness.drain(harness.servers.queueUrls.predictDlq);
const attribute = (message: { MessageAttributes?: Record<string, { StringValue?: string }> }, name: string) =>
  message.MessageAttributes?.[name]?.StringValue;

beforeAll(async () => {
  harness = await startHandlerHarness();
  await putModel('shapes/1/', { model: modelBytes, manifest });
});
afterAll(() => harness.close());

describe('predict handler against the embedded S3 and SQS', () => {
  test('writes predictions/<key>.json with the model, top-k labels, image size and timings', async () => {
    const handler = harness.loadHandler(HANDLER, { MODEL_URI: 's3://models/shapes/1/', PREDICTION_TOP_K: '3' });
    const response = await handler(sqsEvent(await uploadAndEvent('holiday/photo.jpg', photo)), lambdaContext('predict'));
    expect(response.batchItemFailures).toEqual([]);

    const object = await harness.get('thumbnails', 'predictions/holiday/photo.jpg.json');
    expect(object.contentType).toBe('application/json');
    const prediction = JSON.parse(object.data.toString('utf8'));
    expect(prediction.model).toEqual({ name: manifest.name, version: manifest.version, uri: 's3://models/shapes/1/' });
    expect(prediction.source).toMatchObject({ bucket: 'uploads', key: 'holiday/photo.jpg', format: 'jpeg', width: 1200, height: 1800 });
    expect(prediction.labels).toHaveLength(3);
    for (const entry of prediction.labels) expect(manifest.labels).toContain(entry.label);
    const scores = prediction.labels.map((entry: { score: number }) => entry.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(scores.every((score: number) => score >= 0 && score <= 1)).toBe(true);
    for (const timing of ['downloadMs', 'preprocessMs', 'inferenceMs']) expect(prediction.timings[timing]).toBeGreaterThan(0);
  });

  test('known pictures get their labels: synthetic shapes the model never saw, through S3 and the handler', async () => {
    const handler = harness.loadHandler(HANDLER, { MODEL_URI: 's3://models/shapes/1/' });
    const rng = createRandom(7_310_042);
    const pictures = SHAPE_LABELS.flatMap((label) =>
      [0, 1, 2].map((i) => ({ label, key: `known/${label}-${i}.img`, spec: randomShapeSpec(rng, label) })),
    );
    const bodies = [];
    for (const picture of pictures) bodies.push(await uploadAndEvent(picture.key, await renderShape(picture.spec)));
    for (let i = 0; i < bodies.length; i += 10) {
      expect((await handler(sqsEvent(...bodies.slice(i, i + 10)), lambdaContext('predict'))).batchItemFailures).toEqual([]);
    }
    const predicted = await Promise.all(pictures.map(async ({ key }) => (await readPrediction(key)).labels[0].label));
    const correct = predicted.filter((label, i) => label === pictures[i].label).length;
    // The demo model's held-out accuracy is >= 95% (test/unit/demoModel.test.ts); 15 pictures allow one miss.
    expect(correct).toBeGreaterThanOrEqual(pictures.length - 1);
  });

  test('an image the resize path would refuse is refused here too, straight to the DLQ', async () => {
    const handler = harness.loadHandler(HANDLER, { MODEL_URI: 's3://models/shapes/1/' });
    const response = await handler(sqsEvent(await uploadAndEvent('bad/notes.jpg', Buffer.from('plain text'))), lambdaContext('predict'));
    expect(response.batchItemFailures).toEqual([]);
    const [dead] = await dlq();
    expect(attribute(dead, 'reason')).toBe('not-an-image');
    expect(await harness.exists('thumbnails', 'predictions/bad/notes.jpg.json')).toBe(false);
  });

  test('a deleted source takes its prediction with it', async () => {
    const handler = harness.loadHandler(HANDLER, { MODEL_URI: 's3://models/shapes/1/' });
    await handler(sqsEvent(await uploadAndEvent('gone/photo.jpg', photo)), lambdaContext('predict'));
    expect(await harness.exists('thumbnails', 'predictions/gone/photo.jpg.json')).toBe(true);
    const removed = s3NotificationBody({ bucket: 'uploads', key: 'gone/photo.jpg', eventName: 'ObjectRemoved:Delete' });
    expect((await handler(sqsEvent(removed), lambdaContext('predict'))).batchItemFailures).toEqual([]);
    expect(await harness.exists('thumbnails', 'predictions/gone/photo.jpg.json')).toBe(false);
  });

  test('a new model at the same URI is picked up once its ETag changes, without a redeploy', async () => {
    await putModel('swap/', { model: modelBytes, manifest });
    const handler = harness.loadHandler(HANDLER, { MODEL_URI: 's3://models/swap/', MODEL_REFRESH_SECONDS: '1' });
    await handler(sqsEvent(await uploadAndEvent('swap/a.jpg', photo)), lambdaContext('predict'));
    expect((await readPrediction('swap/a.jpg')).model.version).toBe(manifest.version);

    await putModel('swap/', { manifest: { ...manifest, version: 'swapped-2' } });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await handler(sqsEvent(await uploadAndEvent('swap/b.jpg', photo)), lambdaContext('predict'));
    expect((await readPrediction('swap/b.jpg')).model.version).toBe('swapped-2');
  });

  describe.each([
    ['missing', 's3://models/nowhere/', async () => undefined, /nowhere/],
    ['corrupt', 's3://models/corrupt/', () => putModel('corrupt/', { model: Buffer.from('not an onnx graph'), manifest }), /corrupt/],
    [
      'with a bad manifest',
      's3://models/badmanifest/',
      () => putModel('badmanifest/', { model: modelBytes, manifest: { ...manifest, layout: 'CHW' } }),
      /"layout"/,
    ],
    [
      'whose manifest names a tensor the graph lacks',
      's3://models/badtensor/',
      () => putModel('badtensor/', { model: modelBytes, manifest: { ...manifest, inputName: 'pixels' } }),
      /"inputName"/,
    ],
  ])('a %s model', (_, uri, prepare, messagePattern) => {
    beforeAll(prepare);

    test('fails the record as transient (retried), nothing in the DLQ yet', async () => {
      const handler = harness.loadHandler(HANDLER, { MODEL_URI: uri });
      const event = sqsEvent(await uploadAndEvent('waiting/photo.jpg', photo));
      expect((await handler(event, lambdaContext('predict'))).batchItemFailures).toEqual([{ itemIdentifier: event.Records[0].messageId }]);
      expect(await dlq()).toEqual([]);
    });

    test('on the last allowed attempt it is dead-lettered as model-unavailable, never lost', async () => {
      const handler = harness.loadHandler(HANDLER, { MODEL_URI: uri });
      const body = await uploadAndEvent('waiting/photo.jpg', photo);
      expect((await handler({ Records: [sqsRecord(body, 5)] }, lambdaContext('predict'))).batchItemFailures).toEqual([]);
      const [dead, ...rest] = await dlq();
      expect(rest).toEqual([]);
      expect(attribute(dead, 'reason')).toBe('model-unavailable');
      expect(attribute(dead, 'failureClass')).toBe('transient');
      expect(attribute(dead, 'errorMessage')).toMatch(messagePattern);
    });

    test('an upload that is not an image is still a permanent not-an-image failure, at once', async () => {
      const handler = harness.loadHandler(HANDLER, { MODEL_URI: uri });
      const body = await uploadAndEvent('waiting/notes.txt', Buffer.from('plain text, no image signature'));
      expect((await handler({ Records: [sqsRecord(body, 1)] }, lambdaContext('predict'))).batchItemFailures).toEqual([]);
      const [dead, ...rest] = await dlq();
      expect(rest).toEqual([]);
      expect(attribute(dead, 'reason')).toBe('not-an-image');
      expect(attribute(dead, 'failureClass')).toBe('permanent');
    });
  });
});
