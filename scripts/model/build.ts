/**
 * `npm run model:build [-- --seed N --out DIR]`: the reproducible recipe for the demo model.
 *
 * Generates synthetic shape pictures (seeded), passes them through the predict function's own
 * `preprocess`, trains a small CNN with tfjs on the CPU, exports it to ONNX, checks the ONNX file
 * in onnxruntime-node against tfjs on a held-out set drawn from a different seed, and only then
 * puts model.onnx + manifest.json in place. Same seed, same package versions, same platform:
 * same bytes.
 */

import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { validateManifest } from '../../shared/predict/manifest';
import { generateShapeSet } from './dataset';
import { checkAgainstReference, installFastConvFilterGrad } from './fastConvFilterGrad';
import { maxAbsDifference, onnxScores } from './onnxRun';
import { deriveSeed } from './random';
import { SHAPES_INPUT_SIZE, SHAPES_MANIFEST } from './shapesManifest';
import { layersModelToOnnx } from './tfjsToOnnx';
import { accuracy, buildCnn, predictProbabilities, train } from './train';

const root = path.resolve(__dirname, '../..');

/** Everything that decides the model. Changing any of it changes the bytes: bump the version. */
const RECIPE = {
  trainPictures: 4000,
  heldOutPictures: 1000,
  filters: [8, 16, 32, 48],
  epochs: 12,
  batchSize: 16,
  learningRate: 0.004,
  finalLearningRate: 0.0002,
};
/** The accuracy bar; the build fails below it rather than ship a worse model. */
const MIN_ACCURACY = 0.95;
/** tfjs (NHWC, its own kernels) and onnxruntime (NCHW) sum in different orders; beyond this is a bug, not rounding. */
const MAX_DIFFERENCE = 1e-4;

function option(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  const index = args.indexOf(`--${name}`);
  return index >= 0 && args[index + 1] !== undefined ? args[index + 1] : fallback;
}

const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);
const percent = (share: number) => `${(share * 100).toFixed(2)}%`;

async function main() {
  const seed = Number(option('seed', '1'));
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got ${option('seed', '')}`);
  // One master seed, separate streams: the held-out pictures never repeat a training picture.
  const seeds = {
    trainPictures: deriveSeed(seed, 'train-pictures'),
    heldOutPictures: deriveSeed(seed, 'held-out-pictures'),
    weights: deriveSeed(seed, 'weights'),
    shuffle: deriveSeed(seed, 'shuffle'),
  };
  const outDir = path.resolve(root, option('out', 'models/shapes/1'));
  const started = performance.now();

  await tf.setBackend('cpu');
  installFastConvFilterGrad();
  const kernelDifference = checkAgainstReference();
  console.log(`fast Conv2DBackpropFilter vs tfjs's own: max difference ${kernelDifference.toExponential(2)}`);
  // Sums of a few hundred products of unit normals: float32 rounding stays far below this.
  if (!(kernelDifference < 1e-3)) throw new Error(`the replacement Conv2DBackpropFilter is wrong (difference ${kernelDifference})`);

  let step = performance.now();
  const trainSet = await generateShapeSet(seeds.trainPictures, RECIPE.trainPictures, SHAPES_MANIFEST);
  const heldOut = await generateShapeSet(seeds.heldOutPictures, RECIPE.heldOutPictures, SHAPES_MANIFEST);
  console.log(
    `seed ${seed}: generated ${trainSet.count} training pictures (stream ${seeds.trainPictures}) and ${heldOut.count} held-out (stream ${seeds.heldOutPictures}) in ${seconds(step)} s`,
  );

  const model = buildCnn({
    inputSize: SHAPES_INPUT_SIZE,
    classes: SHAPES_MANIFEST.labels.length,
    filters: RECIPE.filters,
    seed: seeds.weights,
  });
  console.log(
    `CNN: ${RECIPE.filters.length} stride-2 3x3 convolutions (${RECIPE.filters.join(', ')} filters), global average pool, dense softmax; ${model.countParams()} parameters`,
  );
  step = performance.now();
  await train(model, trainSet, {
    ...RECIPE,
    seed: seeds.shuffle,
    onEpoch: (epoch, loss, trainAccuracy, epochSeconds) =>
      console.log(
        `epoch ${String(epoch).padStart(2)}/${RECIPE.epochs}  loss ${loss.toFixed(4)}  accuracy ${percent(trainAccuracy)}  ${epochSeconds.toFixed(1)} s`,
      ),
  });
  const trainSeconds = seconds(step);
  const classes = SHAPES_MANIFEST.labels.length;
  const tfjsScores = predictProbabilities(model, heldOut);
  const tfjsAccuracy = accuracy(tfjsScores, heldOut.labels, classes);
  console.log(`trained in ${trainSeconds} s; held-out accuracy (tfjs): ${percent(tfjsAccuracy)}`);

  const manifest = validateManifest(JSON.parse(JSON.stringify(SHAPES_MANIFEST)));
  const exported = layersModelToOnnx(
    model,
    manifest.inputName,
    manifest.outputName,
    `Demo shape classifier (${manifest.labels.join(', ')}), trained on synthetic pictures by scripts/model/build.ts, seed ${seed}.`,
  );

  // Checked from a file in a scratch directory, then copied: a model that fails never replaces the committed one.
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'shapes-model-'));
  try {
    const scratchModel = path.join(scratch, 'model.onnx');
    writeFileSync(scratchModel, exported.bytes);
    writeFileSync(path.join(scratch, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const onnxScoresHeldOut = await onnxScores(readFileSync(scratchModel), heldOut, manifest.inputName, manifest.outputName);
    const difference = maxAbsDifference(onnxScoresHeldOut, tfjsScores);
    const onnxAccuracy = accuracy(onnxScoresHeldOut, heldOut.labels, classes);
    console.log(`ONNX (onnxruntime-node) vs tfjs on the held-out set: max abs difference ${difference.toExponential(2)}`);
    console.log(`held-out accuracy (ONNX): ${percent(onnxAccuracy)}`);
    if (!(difference < MAX_DIFFERENCE))
      throw new Error(`ONNX and tfjs disagree by ${difference} (limit ${MAX_DIFFERENCE}): the export is wrong`);
    if (onnxAccuracy < MIN_ACCURACY)
      throw new Error(`held-out accuracy ${percent(onnxAccuracy)} is under ${percent(MIN_ACCURACY)}: not written`);

    mkdirSync(outDir, { recursive: true });
    for (const file of ['model.onnx', 'manifest.json']) copyFileSync(path.join(scratch, file), path.join(outDir, file));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const sha256 = createHash('sha256').update(exported.bytes).digest('hex');
  const shown = outDir.startsWith(`${root}${path.sep}`) ? path.relative(root, outDir) : outDir;
  console.log(
    `wrote ${shown}/model.onnx (${exported.bytes.length} bytes, ${exported.parameterCount} parameters, sha256 ${sha256}) and manifest.json`,
  );
  console.log(`total ${seconds(started)} s`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
