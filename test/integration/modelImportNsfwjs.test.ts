/**
 * The importer on a real model: nsfwjs 4.4.0's MobileNetV2 (224x224, 5 classes, uint8-quantized
 * weights, published as model.min.js + a base64 shard module). The converted graph runs in
 * onnxruntime-node and the original in tfjs (loaded from the same files through an IO handler),
 * on the same preprocessed photographs; their probabilities must agree to 1e-4.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { type ConvertedModel, convertLayersModel, readTfjsLayersModel, type TfjsLayersModel } from '../../ops/modelImport';
import { tfjsPredict } from '../helpers/tfjsReference';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '../..');
const MODEL_DIR = path.join(ROOT, 'node_modules/nsfwjs/dist/models/mobilenet_v2');
const LABELS = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];
const SIZE = 224;
const TOLERANCE = 1e-4;

const fixture = (...parts: string[]) => path.join(ROOT, ...parts);
const PHOTOS = [
  ...readdirSync(fixture('test/fixtures/corpus/exif-orientation'))
    .filter((name) => name.endsWith('.jpg'))
    .map((name) => fixture('test/fixtures/corpus/exif-orientation', name)),
  ...readdirSync(fixture('events/samples'))
    .filter((name) => name.endsWith('.jpg'))
    .map((name) => fixture('events/samples', name)),
  // Colour PNGs with gradients (8 and 16 bit, with alpha), the most photograph-like of PngSuite.
  ...['basn2c08.png', 'basn2c16.png', 'basn6a08.png', 'bgan6a16.png'].map((name) => fixture('test/fixtures/corpus/pngsuite', name)),
];

/** What nsfwjs feeds its model: RGB, 224x224 stretched, values / 255, NHWC float32. */
async function preprocess(file: string): Promise<Float32Array> {
  const { data, info } = await sharp(file)
    .rotate()
    .flatten({ background: '#ffffff' })
    .resize(SIZE, SIZE, { fit: 'fill' })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  expect(info).toMatchObject({ width: SIZE, height: SIZE, channels: 3 });
  return Float32Array.from(data, (v) => v / 255);
}

let source: TfjsLayersModel;
let converted: ConvertedModel;
let conversionMs: number;

beforeAll(() => {
  const started = performance.now();
  source = readTfjsLayersModel(MODEL_DIR);
  converted = convertLayersModel(source.model, source.weightData, { inputName: 'image', outputName: 'probabilities', labels: LABELS });
  conversionMs = performance.now() - started;
});

test('reads the model.min.js form and converts every layer of MobileNetV2', () => {
  expect(source.format).toBe('min.js');
  expect(converted).toMatchObject({ inputShape: [SIZE, SIZE, 3], layout: 'NHWC', outputShape: [5], labels: LABELS });
  expect(converted.layerCounts).toMatchObject({ Conv2D: 35, DepthwiseConv2D: 17, BatchNormalization: 52, Add: 10, Dense: 3 });
  expect(converted.foldedBatchNorms).toBe(52);
  console.log(
    `nsfwjs MobileNetV2: read + converted in ${conversionMs.toFixed(0)} ms, ${(converted.onnx.length / 1e6).toFixed(1)} MB ONNX, ` +
      `${converted.parameterCount} parameters, ${converted.foldedBatchNorms} batch norms folded`,
  );
});

test(`agrees with tfjs on ${PHOTOS.length} photographs to ${TOLERANCE} (probabilities)`, async () => {
  expect(PHOTOS.length).toBeGreaterThanOrEqual(20);
  const inputs = await Promise.all(PHOTOS.map(preprocess));
  const pixels = SIZE * SIZE * 3;

  const session = await ort.InferenceSession.create(converted.onnx, { executionProviders: ['cpu'] });
  const onnxStarted = performance.now();
  const onnxScores: Float32Array[] = [];
  try {
    // One image per run, [1, 224, 224, 3], as the predict function feeds it.
    for (const input of inputs) {
      const result = await session.run({ image: new ort.Tensor('float32', input, [1, SIZE, SIZE, 3]) });
      onnxScores.push(Float32Array.from(result.probabilities.data as Float32Array));
    }
  } finally {
    await session.release();
  }
  const onnxMs = performance.now() - onnxStarted;

  const batch = new Float32Array(inputs.length * pixels);
  inputs.forEach((input, i) => batch.set(input, i * pixels));
  // Batched: one predict call for every image.
  const { scores: tfScores, ms: tfMs } = await tfjsPredict(source, batch, inputs.length, SIZE);

  const argmax = (scores: ArrayLike<number>) => Array.from(scores).reduce((best, v, i, all) => (v > all[best] ? i : best), 0);
  let worst = 0;
  let sameTop1 = 0;
  const rows = PHOTOS.map((file, i) => {
    const expected = tfScores.subarray(i * 5, (i + 1) * 5);
    const diff = onnxScores[i].reduce((max, v, k) => Math.max(max, Math.abs(v - expected[k])), 0);
    worst = Math.max(worst, diff);
    const top = argmax(onnxScores[i]);
    if (top === argmax(expected)) sameTop1++;
    return { file: path.basename(file), diff, top: LABELS[top], score: onnxScores[i][top] };
  });
  console.log(
    `nsfwjs MobileNetV2, ONNX vs tfjs on ${PHOTOS.length} images: max abs diff ${worst.toExponential(2)}, top-1 agreement ${sameTop1}/${PHOTOS.length}; ` +
      `onnxruntime ${(onnxMs / PHOTOS.length).toFixed(0)} ms/image, tfjs (pure JS, batched) ${(tfMs / PHOTOS.length).toFixed(0)} ms/image\n` +
      rows.map((r) => `  ${r.diff.toExponential(2)}  ${r.top.padEnd(8)} ${r.score.toFixed(3)}  ${r.file}`).join('\n'),
  );
  for (const row of rows) expect({ file: row.file, ok: row.diff < TOLERANCE }).toEqual({ file: row.file, ok: true });
  expect(sameTop1).toBe(PHOTOS.length);
});
