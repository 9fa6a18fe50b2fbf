/**
 * The committed moderation model (models/moderation/1, converted from nsfwjs 4.4.0's MobileNetV2
 * by `npm run model:moderation`) against the original: the same input tensors (the pipeline's own
 * preprocess() of each photograph) through onnxruntime-node (the predict function's classifier)
 * and through tfjs running nsfwjs's Layers model loaded from the package's files. Probabilities
 * must agree to 1e-4.
 *
 * Photographs: the repository's (one picture in 18 EXIF variants, plus events/samples/landscape.jpg)
 * and, when they have been fetched (`npx tsx scripts/model/moderationAgreement.ts` or
 * `npm run bench:moderation` does it, with apt-get download), 23 wallpaper photographs under
 * .cache. Without them the test still runs, on the repository's files (one distinct photograph)
 * topped up with PngSuite's colour gradients: it never touches the network.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readTfjsLayersModel } from '../../ops/modelImport';
import { distinctPhotographs, listModerationPhotos } from '../../scripts/model/moderationPhotos';
import { createClassifier } from '../../shared/predict/classifier';
import { parseManifest, validateManifest } from '../../shared/predict/manifest';
import { type PreprocessedImage, preprocess } from '../../shared/predict/preprocess';
import { tfjsPredict } from '../helpers/tfjsReference';

jest.setTimeout(300_000);

const ROOT = path.resolve(__dirname, '../..');
const MODEL_DIR = path.join(ROOT, 'models/moderation/1');
const NSFWJS_DIR = path.join(ROOT, 'node_modules/nsfwjs/dist/models/mobilenet_v2');
const TOLERANCE = 1e-4;
const MIN_IMAGES = 20;

const manifestText = readFileSync(path.join(MODEL_DIR, 'manifest.json'), 'utf8');
const photos = listModerationPhotos();
const PNGSUITE = ['basn2c08.png', 'basn2c16.png', 'basn6a08.png', 'bgan6a16.png'].map((name) =>
  path.join(ROOT, 'test/fixtures/corpus/pngsuite', name),
);
const images = [
  ...photos.map((photo) => ({ file: photo.file, label: photo.label })),
  ...(photos.length < MIN_IMAGES ? PNGSUITE.map((file) => ({ file, label: `pngsuite/${path.basename(file)}` })) : []),
];

test('the committed manifest is valid and describes nsfwjs: NHWC RGB 224x224, v / 255, stretched, softmax outputs', () => {
  const manifest = parseManifest(manifestText);
  expect(validateManifest(JSON.parse(manifestText))).toEqual(manifest);
  expect(manifest).toEqual({
    name: 'moderation',
    version: '1',
    inputName: 'image',
    width: 224,
    height: 224,
    layout: 'NHWC',
    channelOrder: 'RGB',
    scale: 255,
    mean: [0, 0, 0],
    std: [1, 1, 1],
    fit: 'fill',
    outputName: 'probabilities',
    outputType: 'probabilities',
    labels: ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'],
  });
});

test(`ONNX (onnxruntime-node) equals nsfwjs's model in tfjs on the same tensors, to ${TOLERANCE}`, async () => {
  expect(images.length).toBeGreaterThanOrEqual(MIN_IMAGES);
  // CI fetches the wallpaper photographs first (`npm run photos`) and says so: then 20 distinct ones are a must.
  if (process.env.MODERATION_PHOTOS_REQUIRED === '1') expect(distinctPhotographs(photos)).toBeGreaterThanOrEqual(MIN_IMAGES);
  const manifest = parseManifest(manifestText);
  const size = manifest.width;
  const pixels = size * size * 3;
  const tensors: PreprocessedImage[] = [];
  for (const image of images) {
    const tensor = await preprocess(readFileSync(image.file), manifest);
    expect({ image: image.label, dims: tensor.dims }).toEqual({ image: image.label, dims: [1, 224, 224, 3] });
    tensors.push(tensor);
  }

  const classifier = await createClassifier(readFileSync(path.join(MODEL_DIR, 'model.onnx')), manifest, 1);
  const onnx: Float32Array[] = [];
  try {
    for (const tensor of tensors) onnx.push(await classifier.classify(tensor));
  } finally {
    await classifier.release();
  }

  // tfjs, batched, split over the cores.
  const source = readTfjsLayersModel(NSFWJS_DIR);
  const workers = Math.max(1, Math.min(2, os.availableParallelism()));
  const per = Math.ceil(tensors.length / workers);
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const slice = tensors.slice(w * per, (w + 1) * per);
      const batch = new Float32Array(slice.length * pixels);
      slice.forEach((tensor, i) => batch.set(tensor.tensor, i * pixels));
      return tfjsPredict(source, batch, slice.length, size).then((result) => result.scores);
    }),
  );
  const tfjs = parts.flatMap((part) => Array.from({ length: part.length / 5 }, (_, i) => part.subarray(i * 5, (i + 1) * 5)));

  const argmax = (scores: ArrayLike<number>) => Array.from(scores).reduce((best, v, i, all) => (v > all[best] ? i : best), 0);
  const rows = images.map((image, i) => ({
    image: image.label,
    diff: onnx[i].reduce((max, v, k) => Math.max(max, Math.abs(v - tfjs[i][k])), 0),
    sameTop1: argmax(onnx[i]) === argmax(tfjs[i]),
    top: manifest.labels[argmax(onnx[i])],
  }));
  const worst = Math.max(...rows.map((row) => row.diff));
  console.log(
    `moderation/1 vs nsfwjs MobileNetV2 in tfjs: ${images.length} images (${distinctPhotographs(photos)} distinct photographs), ` +
      `max abs diff ${worst.toExponential(2)}\n${rows.map((r) => `  ${r.diff.toExponential(2)}  ${r.top.padEnd(8)} ${r.image}`).join('\n')}`,
  );
  for (const row of rows)
    expect({ image: row.image, close: row.diff < TOLERANCE, sameTop1: row.sameTop1 }).toEqual({
      image: row.image,
      close: true,
      sameTop1: true,
    });
});
