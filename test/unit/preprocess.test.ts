import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { ModelManifest } from '../../shared/predict/manifest';
import { preprocess, toTensor } from '../../shared/predict/preprocess';

const manifest = (change: Partial<ModelManifest> = {}): ModelManifest => ({
  name: 't',
  version: '1',
  inputName: 'x',
  width: 2,
  height: 1,
  layout: 'NCHW',
  channelOrder: 'RGB',
  scale: 255,
  mean: [0, 0.5, 1],
  std: [1, 0.5, 2],
  fit: 'fill',
  outputName: 'y',
  outputType: 'probabilities',
  labels: ['a', 'b'],
  ...change,
});

// Two pixels: pure red (255,0,0) and mid grey (51,102,204).
const pixels = Uint8Array.from([255, 0, 0, 51, 102, 204]);
// Hand computed, (v/255 - mean)/std per channel: R: mean 0 std 1; G: mean .5 std .5; B: mean 1 std 2.
const R = [1, 0.2];
const G = [(0 - 0.5) / 0.5, (0.4 - 0.5) / 0.5];
const B = [(0 - 1) / 2, (0.8 - 1) / 2];

describe('toTensor', () => {
  test('NCHW, RGB: planes in channel order', () => {
    const { tensor, dims } = toTensor(pixels, manifest());
    expect(dims).toEqual([1, 3, 1, 2]);
    for (const [i, value] of Array.from(tensor).entries()) expect(value).toBeCloseTo([...R, ...G, ...B][i], 6);
  });

  test('NHWC, RGB: channels interleaved per pixel', () => {
    const { tensor, dims } = toTensor(pixels, manifest({ layout: 'NHWC' }));
    expect(dims).toEqual([1, 1, 2, 3]);
    for (const [i, value] of Array.from(tensor).entries()) expect(value).toBeCloseTo([R[0], G[0], B[0], R[1], G[1], B[1]][i], 6);
  });

  test('BGR swaps the planes, each with its own channel statistics', () => {
    const { tensor } = toTensor(pixels, manifest({ channelOrder: 'BGR' }));
    for (const [i, value] of Array.from(tensor).entries()) expect(value).toBeCloseTo([...B, ...G, ...R][i], 6);
  });

  test('scale 1 keeps raw 0-255 values', () => {
    const { tensor } = toTensor(pixels, manifest({ scale: 1, mean: [0, 0, 0], std: [1, 1, 1] }));
    expect(Array.from(tensor)).toEqual([255, 51, 0, 102, 0, 204]);
  });

  test('refuses a buffer of the wrong size', () => {
    expect(() => toTensor(new Uint8Array(5), manifest())).toThrow(RangeError);
  });
});

describe('preprocess', () => {
  test('drops alpha and fits a real image to the model size', async () => {
    const png = await sharp({ create: { width: 8, height: 4, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } } })
      .png()
      .toBuffer();
    const { tensor, dims } = await preprocess(png, manifest({ mean: [0, 0, 0], std: [1, 1, 1] }));
    expect(dims).toEqual([1, 3, 1, 2]);
    expect(Array.from(tensor)).toEqual([1, 1, 0, 0, 0, 0]);
  });

  test('applies EXIF orientation before resizing', async () => {
    // 32x16 stored as left half red / right half blue, tagged orientation 3 (rotated 180): upright it is blue then red.
    const raw = Buffer.alloc(32 * 16 * 3);
    for (let p = 0; p < 32 * 16; p++) raw[p * 3 + (p % 32 < 16 ? 0 : 2)] = 255;
    const jpeg = await sharp(raw, { raw: { width: 32, height: 16, channels: 3 } })
      .withMetadata({ orientation: 3 })
      .jpeg({ quality: 100 })
      .toBuffer();
    const { tensor } = await preprocess(jpeg, manifest({ mean: [0, 0, 0], std: [1, 1, 1] }));
    const [r0, r1] = tensor;
    expect(r0).toBeLessThan(0.3);
    expect(r1).toBeGreaterThan(0.7);
  });
});

describe('preprocess on the EXIF-orientation photographs (shrink-on-load before orienting)', () => {
  const dir = path.resolve(__dirname, '../fixtures/corpus/exif-orientation');
  const upright: ModelManifest = manifest({ width: 56, height: 56, layout: 'NHWC', mean: [0, 0, 0], std: [1, 1, 1] });

  test.each(['Landscape', 'Portrait'])('%s_0..8: every orientation gives the same upright tensor', async (stem) => {
    const tensors = await Promise.all(
      Array.from({ length: 9 }, (_, i) => preprocess(readFileSync(path.join(dir, `${stem}_${i}.jpg`)), upright)),
    );
    for (const { tensor } of tensors.slice(1)) {
      let sum = 0;
      for (let i = 0; i < tensor.length; i++) sum += Math.abs(tensor[i] - tensors[0].tensor[i]);
      // Mean difference in 0-255 steps: JPEG re-encoding of the rotated pixels, measured 0.5-1.1; a picture flipped or rotated 180 degrees is 70-83.
      expect((sum / tensor.length) * 255).toBeLessThan(3);
    }
  });
});
