/**
 * `npm run model:moderation [-- --model mobilenet_v2|inception_v3|mobilenet_v2_mid --out DIR]`:
 * the recipe for models/moderation/1. Converts nsfwjs's packaged TF.js Layers model (installed
 * devDependency, node_modules/nsfwjs/dist/models/<model>/model.min.js + group1-shard*.min.js) to
 * ONNX with ops/modelImport, writes model.onnx + manifest.json, loads the file in onnxruntime-node
 * once and prints the files' sha256. No randomness, no clock, no network: the same package
 * versions give the same bytes.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { type ImportedModel, importTfjsModel, type ManifestFields, TFJS_IMAGE_INPUT } from '../../ops/modelImport';

const root = path.resolve(__dirname, '../..');

/** nsfwjs's output order: dist/cjs/nsfw_classes.js, NSFW_CLASSES 0..4. */
export const NSFWJS_LABELS = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];

export const NSFWJS_MODELS = {
  mobilenet_v2: { size: 224 },
  inception_v3: { size: 299 },
  mobilenet_v2_mid: { size: 224 },
} as const;
export type NsfwjsModel = keyof typeof NSFWJS_MODELS;

export const nsfwjsModelDir = (model: NsfwjsModel) => path.join(root, 'node_modules/nsfwjs/dist/models', model);
export const nsfwjsVersion = (): string => JSON.parse(readFileSync(path.join(root, 'node_modules/nsfwjs/package.json'), 'utf8')).version;

/**
 * What the graph cannot tell: nsfwjs feeds its model RGB values / 255 (no mean, no std), the
 * image stretched to the square input (resizeBilinear to [size, size], no crop), and the model
 * ends in a softmax Dense layer, so its outputs are probabilities.
 */
export const moderationFields = (name: string, version: string): ManifestFields => ({
  ...TFJS_IMAGE_INPUT,
  mean: [...TFJS_IMAGE_INPUT.mean],
  std: [...TFJS_IMAGE_INPUT.std],
  name,
  version,
  fit: 'fill',
  labels: NSFWJS_LABELS,
});

export function importNsfwjsModel(model: NsfwjsModel, targetDir: string, name = 'moderation', version = '1'): ImportedModel {
  return importTfjsModel(nsfwjsModelDir(model), targetDir, moderationFields(name, version), {
    inputName: 'image',
    outputName: 'probabilities',
    docString: `nsfwjs ${nsfwjsVersion()} ${model} (MIT, Copyright (c) 2019 Infinite Red, Inc.), converted by ops/modelImport`,
  });
}

export const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

async function main() {
  const args = process.argv.slice(2);
  const option = (flag: string, fallback: string) => (args.includes(`--${flag}`) ? args[args.indexOf(`--${flag}`) + 1] : fallback);
  const model = option('model', 'mobilenet_v2') as NsfwjsModel;
  if (!(model in NSFWJS_MODELS)) throw new Error(`--model must be one of ${Object.keys(NSFWJS_MODELS).join(', ')}`);
  const out = path.resolve(root, option('out', 'models/moderation/1'));

  const started = performance.now();
  const imported = importNsfwjsModel(model, out);
  const { converted, manifest } = imported;
  // The written file loads and answers a probability distribution for a blank image.
  const session = await ort.InferenceSession.create(readFileSync(imported.files[0]));
  const input = new ort.Tensor('float32', new Float32Array(manifest.height * manifest.width * 3), [1, manifest.height, manifest.width, 3]);
  const scores = (await session.run({ [manifest.inputName]: input }))[manifest.outputName].data as Float32Array;
  await session.release();
  const sum = scores.reduce((a, b) => a + b, 0);
  if (scores.length !== manifest.labels.length || Math.abs(sum - 1) > 1e-4) throw new Error(`the written model answers [${scores}]`);

  console.log(
    `nsfwjs ${nsfwjsVersion()} ${model} -> ${path.relative(root, out)} in ${(performance.now() - started).toFixed(0)} ms: ` +
      `input ${manifest.inputName} [batch, ${converted.inputShape}], output ${manifest.outputName} [batch, ${converted.outputShape}], ` +
      `${converted.parameterCount.toLocaleString('en')} parameters, ${converted.foldedBatchNorms} batch norms folded`,
  );
  for (const file of imported.files)
    console.log(`  ${sha256(file)}  ${path.basename(file)} (${readFileSync(file).length.toLocaleString('en')} bytes)`);
}

if (require.main === module)
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
