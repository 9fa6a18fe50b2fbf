/**
 * `npm run model:mobilenet [-- --seed N]`: writes a MobileNetV2-shaped ONNX graph with random
 * weights (~3.5 M parameters, 1x3x224x224 in, 1000 probabilities out) and its manifest into
 * .cache/models/mobilenetv2-like/ (git-ignored), for timing the runtimes on a realistic model size
 * (scripts/bench/modelRuntimes.ts). Then checks that both onnxruntime-node and onnxruntime-web
 * (WASM, loaded in Node) load it and agree on an output.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { validateManifest } from '../../shared/predict/manifest';
import { MOBILENET_CLASSES, MOBILENET_INPUT, mobileNetV2Like } from './mobileNetLike';
import { maxAbsDifference } from './onnxRun';
import { createRandom } from './random';

type Ort = typeof import('onnxruntime-node');

const root = path.resolve(__dirname, '../..');
const outDir = path.join(root, '.cache/models/mobilenetv2-like');

function option(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  const index = args.indexOf(`--${name}`);
  return index >= 0 && args[index + 1] !== undefined ? args[index + 1] : fallback;
}

/** One single-threaded inference; returns the output, the load time and the run time. */
async function runOnce(ort: Ort, runtime: 'node' | 'web', model: Uint8Array, input: Float32Array, inputName: string, outputName: string) {
  const loadStart = performance.now();
  const session = await ort.InferenceSession.create(
    model,
    runtime === 'web' ? { executionProviders: ['wasm'] } : { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 },
  );
  const loadMs = performance.now() - loadStart;
  const runStart = performance.now();
  const result = await session.run({ [inputName]: new ort.Tensor('float32', input, [1, 3, MOBILENET_INPUT, MOBILENET_INPUT]) });
  const runMs = performance.now() - runStart;
  const output = Float32Array.from(result[outputName].data as Float32Array);
  await session.release();
  return { output, loadMs, runMs };
}

async function main() {
  const seed = Number(option('seed', '1'));
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got ${option('seed', '')}`);
  const model = mobileNetV2Like(seed);
  const manifest = validateManifest({
    name: 'mobilenetv2-like',
    version: `random-${seed}`,
    inputName: model.inputName,
    width: MOBILENET_INPUT,
    height: MOBILENET_INPUT,
    layout: 'NCHW',
    channelOrder: 'RGB',
    scale: 255,
    // ImageNet statistics, as a real MobileNetV2 from the ONNX model zoo expects.
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    fit: 'cover',
    outputName: model.outputName,
    outputType: 'probabilities',
    labels: Array.from({ length: MOBILENET_CLASSES }, (_, i) => `class-${i}`),
  });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'model.onnx'), model.bytes);
  writeFileSync(path.join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const sha256 = createHash('sha256').update(model.bytes).digest('hex');
  console.log(
    `wrote ${path.relative(root, outDir)}/model.onnx: ${model.parameterCount.toLocaleString('en-US')} parameters, ${(model.bytes.length / 1e6).toFixed(2)} MB (${model.bytes.length} bytes), sha256 ${sha256}`,
  );

  // A normalised-looking input (roughly what preprocess gives for a photo), seeded.
  const rng = createRandom(seed + 1);
  const input = Float32Array.from({ length: 3 * MOBILENET_INPUT * MOBILENET_INPUT }, () => rng.uniform(-2, 2));
  const ortNode: Ort = require('onnxruntime-node');
  // onnxruntime-web in Node runs its WASM build; one thread, like the Lambda measurement.
  const ortWeb: Ort = require('onnxruntime-web');
  (ortWeb.env as { wasm: { numThreads: number } }).wasm.numThreads = 1;
  const viaNode = await runOnce(ortNode, 'node', model.bytes, input, model.inputName, model.outputName);
  const viaWeb = await runOnce(ortWeb, 'web', model.bytes, input, model.inputName, model.outputName);
  for (const [runtime, run] of [
    ['onnxruntime-node', viaNode],
    ['onnxruntime-web', viaWeb],
  ] as const) {
    const sum = run.output.reduce((a, b) => a + b, 0);
    if (run.output.length !== MOBILENET_CLASSES || Math.abs(sum - 1) > 1e-4 || run.output.some((p) => !Number.isFinite(p))) {
      throw new Error(`${runtime}: expected ${MOBILENET_CLASSES} probabilities summing to 1, got ${run.output.length} summing to ${sum}`);
    }
    console.log(
      `${runtime}: loaded in ${run.loadMs.toFixed(0)} ms, first inference ${run.runMs.toFixed(0)} ms, ${run.output.length} probabilities summing to ${sum.toFixed(6)}`,
    );
  }
  const difference = maxAbsDifference(viaNode.output, viaWeb.output);
  console.log(`onnxruntime-node vs onnxruntime-web: max abs difference ${difference.toExponential(2)}`);
  if (!(difference < 1e-4)) throw new Error(`the runtimes disagree by ${difference}`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
