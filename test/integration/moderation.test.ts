import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { lambdaContext, s3NotificationBody, sqsEvent } from '../helpers/events';
import { CORPUS, type HandlerHarness, startHandlerHarness } from '../helpers/handlerHarness';

/**
 * A flagged upload never keeps a clear thumbnail: resize and predict run in parallel, and whichever
 * finishes first, under duplicate deliveries and after a crash between a flagged prediction and the
 * obscuring, the end state is obscured thumbnails and a flagged prediction. A later clean upload
 * under the same key gets clear thumbnails again.
 */

const RESIZE = path.resolve(__dirname, '../../functions/resize/handler');
const PREDICT = path.resolve(__dirname, '../../functions/predict/handler');
const DEMO_MODEL = path.resolve(__dirname, '../../models/shapes/1');
const SIZES = [1024, 512, 256];
const photo = readFileSync(path.join(CORPUS, 'exif-orientation/Landscape_1.jpg'));
const other = readFileSync(path.join(CORPUS, 'exif-orientation/Portrait_1.jpg'));

// With the demo model, every label over a tiny threshold flags every picture; `off` flags none.
const FLAG_ALL = {
  MODEL_URI: 's3://models/shapes/1/',
  MODERATION_FLAG: 'circle=0.0001,square=0.0001,triangle=0.0001,star=0.0001,cross=0.0001',
};
const FLAG_NONE = { MODEL_URI: 's3://models/shapes/1/', MODERATION_FLAG: 'off' };

let harness: HandlerHarness;
type Handler = ReturnType<HandlerHarness['loadHandler']>;
let resize: Handler;
let predict: Handler;
let predictClean: Handler;

beforeAll(async () => {
  harness = await startHandlerHarness();
  for (const file of ['model.onnx', 'manifest.json']) {
    await harness.s3.send(
      new PutObjectCommand({ Bucket: 'models', Key: `shapes/1/${file}`, Body: readFileSync(path.join(DEMO_MODEL, file)) }),
    );
  }
  resize = harness.loadHandler(RESIZE, FLAG_ALL);
  predict = harness.loadHandler(PREDICT, FLAG_ALL);
  predictClean = harness.loadHandler(PREDICT, FLAG_NONE);
}, 60_000);
afterAll(() => harness.close());

const upload = async (key: string, body: Buffer) =>
  s3NotificationBody({ bucket: 'uploads', key, eTag: await harness.put(key, body), size: body.length });
const run = async (handler: Handler, body: string, name: string) =>
  expect((await handler(sqsEvent(body), lambdaContext(name))).batchItemFailures).toEqual([]);
const thumbnailKeys = (key: string) => SIZES.map((size) => `${size}/${key}.webp`);
const prediction = async (key: string) => JSON.parse((await harness.get('thumbnails', `predictions/${key}.json`)).data.toString('utf8'));

/**
 * How much detail a picture has beyond an 8-pixel version of itself: the mean absolute difference
 * (0-255) between it and its own 8-pixel reduction blown back up. A photo has plenty; an obscured
 * thumbnail has next to none.
 */
async function detail(image: Buffer): Promise<number> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const small = await sharp(data, { raw: info }).resize(8, 8, { fit: 'inside' }).raw().toBuffer({ resolveWithObject: true });
  const back = await sharp(small.data, { raw: small.info })
    .resize(info.width, info.height, { fit: 'fill', kernel: 'cubic' })
    .blur(Math.max(info.width, info.height) / 32)
    .raw()
    .toBuffer();
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += Math.abs(data[i] - back[i]);
  return sum / data.length;
}

/** Measured on the fixtures: obscured thumbnails 3.4-6.1, clear ones 27-33. */
const OBSCURED_DETAIL = 10;
const CLEAR_DETAIL = 15;

async function expectObscured(key: string) {
  for (const thumbnail of thumbnailKeys(key)) {
    const object = await harness.get('thumbnails', thumbnail);
    expect({ thumbnail, moderation: object.metadata.moderation, obscured: (await detail(object.data)) < OBSCURED_DETAIL }).toEqual({
      thumbnail,
      moderation: 'flagged',
      obscured: true,
    });
  }
  const written = await prediction(key);
  expect(written.moderation.verdict).toBe('flagged');
}

async function expectClear(key: string) {
  for (const thumbnail of thumbnailKeys(key)) {
    const object = await harness.get('thumbnails', thumbnail);
    expect({ thumbnail, moderation: object.metadata.moderation }).toEqual({ thumbnail, moderation: undefined });
  }
  expect(await detail((await harness.get('thumbnails', thumbnailKeys(key)[0])).data)).toBeGreaterThan(CLEAR_DETAIL);
}

test('the clear thumbnails of the photo have the detail the obscured ones must lack (the measure the tests use)', async () => {
  const body = await upload('measure/photo.jpg', photo);
  await run(resize, body, 'resize');
  await expectClear('measure/photo.jpg');
});

test('resize first, then predict flags it: the thumbnails are obscured after the fact', async () => {
  const body = await upload('order/resize-first.jpg', photo);
  await run(resize, body, 'resize');
  await expectClear('order/resize-first.jpg');
  await run(predict, body, 'predict');
  await expectObscured('order/resize-first.jpg');
  const written = await prediction('order/resize-first.jpg');
  expect(written.moderation.flaggedBy.length).toBeGreaterThan(0);
  expect(written.moderation.policy).toMatchObject({ action: 'blur', applicable: true });
  expect(written.labels.length).toBe(5);
});

test('predict first, then resize: the thumbnails are written obscured from the start', async () => {
  const body = await upload('order/predict-first.jpg', photo);
  await run(predict, body, 'predict');
  expect(await harness.exists('thumbnails', thumbnailKeys('order/predict-first.jpg')[0])).toBe(false);
  await run(resize, body, 'resize');
  await expectObscured('order/predict-first.jpg');
});

test('both at once, several times: always obscured', async () => {
  for (let i = 0; i < 4; i++) {
    const key = `order/together-${i}.jpg`;
    const body = await upload(key, photo);
    await Promise.all([run(resize, body, 'resize'), run(predict, body, 'predict')]);
    await expectObscured(key);
  }
});

test('duplicate deliveries of both change nothing', async () => {
  const key = 'order/duplicates.jpg';
  const body = await upload(key, photo);
  await run(resize, body, 'resize');
  await run(predict, body, 'predict');
  const before = await Promise.all(thumbnailKeys(key).map(async (k) => (await harness.get('thumbnails', k)).data));
  await Promise.all([run(resize, body, 'resize'), run(predict, body, 'predict')]);
  await expectObscured(key);
  const after = await Promise.all(thumbnailKeys(key).map(async (k) => (await harness.get('thumbnails', k)).data));
  expect(after.map((data, i) => data.equals(before[i]))).toEqual([true, true, true]);
});

test('a predict run that stopped after its flagged prediction, before obscuring: the redelivery obscures them', async () => {
  const key = 'order/crashed.jpg';
  const body = await upload(key, photo);
  await run(predict, body, 'predict');
  // As if that run had stopped before obscuring: clear thumbnails of this version beside the flagged
  // prediction (written by a resize that could not see the prediction yet).
  const predictionKey = `predictions/${key}.json`;
  const saved = await harness.get('thumbnails', predictionKey);
  await harness.s3.send(new DeleteObjectCommand({ Bucket: 'thumbnails', Key: predictionKey }));
  await run(resize, body, 'resize');
  await harness.s3.send(
    new PutObjectCommand({
      Bucket: 'thumbnails',
      Key: predictionKey,
      Body: saved.data,
      Metadata: saved.metadata,
      ContentType: saved.contentType,
    }),
  );
  await expectClear(key);
  await run(predict, body, 'predict');
  await expectObscured(key);
});

test('a clean upload later under the same key gets clear thumbnails and a clean prediction', async () => {
  const key = 'order/reupload.jpg';
  const flagged = await upload(key, photo);
  await Promise.all([run(resize, flagged, 'resize'), run(predict, flagged, 'predict')]);
  await expectObscured(key);
  const clean = await upload(key, other);
  await Promise.all([run(resize, clean, 'resize'), run(predictClean, clean, 'predict')]);
  await expectClear(key);
  const written = await prediction(key);
  expect(written.moderation).toMatchObject({ verdict: 'clean', flaggedBy: [], policy: { applicable: false } });
});
