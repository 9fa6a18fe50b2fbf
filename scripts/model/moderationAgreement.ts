/**
 * `npx tsx scripts/model/moderationAgreement.ts [--offline]`: how close the pipeline's moderation
 * prediction is to nsfwjs's own, photograph by photograph. Not a test and not accuracy (there is
 * no labelled moderation data here): agreement with the reference implementation.
 *
 *   pipeline: the file's bytes -> shared/predict/preprocess (sharp: orient, sRGB, antialiased
 *             resize to 224x224, v / 255) -> models/moderation/1/model.onnx in onnxruntime-node
 *   nsfwjs:   the file decoded by sharp at full size (oriented, alpha dropped, sRGB: what
 *             tf.browser.fromPixels gives in a browser) as an int32 tf.Tensor3D ->
 *             nsfwjs.load('MobileNetV2').classify(tensor), which divides by 255 and resizes with
 *             tf.image.resizeBilinear(alignCorners = true), no antialiasing
 *   control:  nsfwjs's own resized tensor fed to the ONNX model: separates the model from the resize.
 *
 * Photographs: scripts/model/moderationPhotos.ts (fetched with apt-get download unless --offline).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { createClassifier } from '../../shared/predict/classifier';
import { parseManifest } from '../../shared/predict/manifest';
import { preprocess } from '../../shared/predict/preprocess';
import { distinctPhotographs, fetchModerationPhotos, listModerationPhotos } from './moderationPhotos';

const root = path.resolve(__dirname, '../..');
const MODEL_DIR = path.join(root, 'models/moderation/1');

const argmax = (scores: ArrayLike<number>) => Array.from(scores).reduce((best, v, i, all) => (v > all[best] ? i : best), 0);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((max, v, i) => Math.max(max, Math.abs(v - b[i])), 0);

async function main() {
  tf.env().set('PROD', true);
  if (!process.argv.includes('--offline')) await fetchModerationPhotos((line) => console.log(line));
  const photos = listModerationPhotos();
  const manifest = parseManifest(readFileSync(path.join(MODEL_DIR, 'manifest.json'), 'utf8'));
  const classifier = await createClassifier(readFileSync(path.join(MODEL_DIR, 'model.onnx')), manifest, 1);
  // nsfwjs logs which model it uses on load; keep the table readable.
  const info = console.info;
  console.info = () => {};
  const nsfwjs = await import('nsfwjs');
  const model = await nsfwjs.load('MobileNetV2');
  console.info = info;

  const rows = [];
  for (const photo of photos) {
    const bytes = readFileSync(photo.file);
    const pipeline = await classifier.classify(await preprocess(bytes, manifest));

    const { data, info: decoded } = await sharp(bytes)
      .autoOrient()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const image = tf.tensor3d(Int32Array.from(data), [decoded.height, decoded.width, 3], 'int32');
    const predictions = await model.classify(image, 5);
    const reference = Float32Array.from(manifest.labels, (label) => predictions.find((p) => p.className === label)!.probability);
    // The control: nsfwjs's input tensor (its resize), our model.
    const resized = tf.tidy(() => tf.image.resizeBilinear(image.toFloat().div<tf.Tensor3D>(255), [manifest.height, manifest.width], true));
    const tfjsInput = resized.dataSync() as Float32Array;
    const control = await classifier.classify({ tensor: Float32Array.from(tfjsInput), dims: [1, manifest.height, manifest.width, 3] });
    // How far apart the two 224x224 inputs are, in 0-255 steps.
    const ours = (await preprocess(bytes, manifest)).tensor;
    let pixelSum = 0;
    for (let i = 0; i < ours.length; i++) pixelSum += Math.abs(ours[i] - tfjsInput[i]) * 255;
    resized.dispose();
    image.dispose();

    rows.push({
      label: photo.label,
      size: `${decoded.width}x${decoded.height}`,
      pipelineTop: manifest.labels[argmax(pipeline)],
      pipelineScore: pipeline[argmax(pipeline)],
      nsfwjsTop: manifest.labels[argmax(reference)],
      nsfwjsScore: reference[argmax(reference)],
      sameTop1: argmax(pipeline) === argmax(reference),
      maxDiff: maxDiff(pipeline, reference),
      controlDiff: maxDiff(control, reference),
      meanPixelDiff: pixelSum / ours.length,
      pipeline: Array.from(pipeline),
      nsfwjs: Array.from(reference),
    });
  }
  await classifier.release();
  model.dispose();

  const same = rows.filter((row) => row.sameTop1).length;
  const worst = rows.reduce((a, b) => (b.maxDiff > a.maxDiff ? b : a));
  const controlWorst = Math.max(...rows.map((row) => row.controlDiff));
  const sorted = rows.map((row) => row.maxDiff).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log(
    `${'photograph'.padEnd(40)} ${'size'.padEnd(10)} ${'pipeline'.padEnd(15)} ${'nsfwjs classify'.padEnd(15)} max|d|  control  mean|px d|`,
  );
  for (const r of rows)
    console.log(
      `${r.label.padEnd(40)} ${r.size.padEnd(10)} ${`${r.pipelineTop} ${r.pipelineScore.toFixed(3)}`.padEnd(15)} ` +
        `${`${r.nsfwjsTop} ${r.nsfwjsScore.toFixed(3)}`.padEnd(15)} ${r.maxDiff.toFixed(3)}${r.sameTop1 ? ' ' : '*'} ` +
        `${r.controlDiff.toExponential(1)}  ${r.meanPixelDiff.toFixed(2)}`,
    );
  console.log(
    `\n${rows.length} files (${distinctPhotographs(photos)} distinct photographs): top-1 agreement ${same}/${rows.length}; ` +
      `largest score difference ${worst.maxDiff.toFixed(3)} (${worst.label}), median ${median.toFixed(3)}; ` +
      `nsfwjs's own resized tensor through the ONNX model vs classify(): max ${controlWorst.toExponential(2)}`,
  );
  const out = path.join(root, '.cache/moderation/agreement.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ labels: manifest.labels, rows }, null, 2)}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
