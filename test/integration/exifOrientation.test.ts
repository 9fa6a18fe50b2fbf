import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { perceptualDistance } from '../../scripts/perceptual';
import { lambdaContext, s3NotificationBody, sqsEvent } from '../helpers/events';
import { CORPUS, type HandlerHarness, startHandlerHarness } from '../helpers/handlerHarness';

const HANDLER = path.resolve(__dirname, '../../functions/resize/handler');
const ORIENTATIONS = [0, 1, 2, 3, 4, 5, 6, 7, 8];
// dHash bits that may differ between two encodings of the same upright picture; a wrong
// rotation or mirror flips far more (checked below against a deliberately mirrored copy).
const SAME_PICTURE = 6;

let harness: HandlerHarness;
beforeAll(async () => {
  harness = await startHandlerHarness();
  const handler = harness.loadHandler(HANDLER);
  const bodies = [];
  for (const shape of ['Landscape', 'Portrait']) {
    for (const orientation of ORIENTATIONS) {
      const key = `exif/${shape}_${orientation}.jpg`;
      const data = readFileSync(path.join(CORPUS, `exif-orientation/${shape}_${orientation}.jpg`));
      bodies.push(s3NotificationBody({ bucket: 'uploads', key, eTag: await harness.put(key, data), size: data.length }));
    }
  }
  for (let i = 0; i < bodies.length; i += 10) {
    expect((await handler(sqsEvent(...bodies.slice(i, i + 10)), lambdaContext())).batchItemFailures).toEqual([]);
  }
}, 60000);
afterAll(() => harness.close());

const thumbnail = async (shape: string, orientation: number) =>
  (await harness.get('thumbnails', `256/exif/${shape}_${orientation}.jpg.webp`)).data;

describe.each(['Landscape', 'Portrait'])('%s EXIF orientations', (shape) => {
  test.each(ORIENTATIONS)('orientation %i comes out upright, like orientation 0', async (orientation) => {
    const reference = await thumbnail(shape, 0);
    const candidate = await thumbnail(shape, orientation);
    const [ref, got] = await Promise.all([sharp(reference).metadata(), sharp(candidate).metadata()]);
    expect([got.width, got.height]).toEqual([ref.width, ref.height]);
    expect(got.orientation).toBeUndefined();
    expect(await perceptualDistance(reference, candidate)).toBeLessThanOrEqual(SAME_PICTURE);
  });

  test('the comparison is able to fail: a mirrored thumbnail is far from upright', async () => {
    const reference = await thumbnail(shape, 0);
    const mirrored = await sharp(reference).flop().toBuffer();
    expect(await perceptualDistance(reference, mirrored)).toBeGreaterThan(SAME_PICTURE * 2);
  });
});
