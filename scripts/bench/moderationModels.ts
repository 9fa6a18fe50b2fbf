/**
 * `npm run bench:moderation [-- --offline]`: nsfwjs's three models as moderation candidates.
 * Imports InceptionV3 and MobileNetV2Mid with ops/modelImport into .cache/moderation/models (not
 * committed), then for each model, in a fresh process of its own: model file size, load ms
 * (onnxruntime-node session), p50/p95 inference ms on 1 thread over the photographs, the process's
 * peak RSS, and top-1 agreement with the default (models/moderation/1, MobileNetV2) on them.
 * Preprocessing (the pipeline's, with each model's manifest) is done before timing starts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { readTfjsLayersModel } from '../../ops/modelImport';
import { createClassifier } from '../../shared/predict/classifier';
import { parseManifest } from '../../shared/predict/manifest';
import { type PreprocessedImage, preprocess } from '../../shared/predict/preprocess';
import { importNsfwjsModel, type NsfwjsModel, nsfwjsModelDir } from '../model/moderation';
import { fetchModerationPhotos, listModerationPhotos } from '../model/moderationPhotos';

const root = path.resolve(__dirname, '../..');
const CACHE = path.join(root, '.cache/moderation/models');

interface ChildResult {
  loadMs: number;
  inference: number[];
  top1: number[];
  maxRssMb: number;
  /** Peak RSS after sharp decoded and preprocessed every photograph, before the model was read. */
  rssBeforeModelMb: number;
}

async function child(dir: string): Promise<void> {
  const manifest = parseManifest(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const photos = listModerationPhotos();
  const tensors: PreprocessedImage[] = [];
  for (const photo of photos) tensors.push(await preprocess(readFileSync(photo.file), manifest));
  const rssBeforeModelMb = process.resourceUsage().maxRSS / 1024;
  const bytes = readFileSync(path.join(dir, 'model.onnx'));
  const started = performance.now();
  const classifier = await createClassifier(bytes, manifest, 1);
  const loadMs = performance.now() - started;
  for (let i = 0; i < 2; i++) await classifier.classify(tensors[i % tensors.length]);
  const inference: number[] = [];
  const top1: number[] = [];
  for (const tensor of tensors) {
    const t = performance.now();
    const scores = await classifier.classify(tensor);
    inference.push(performance.now() - t);
    top1.push(Array.from(scores).reduce((best, v, i, all) => (v > all[best] ? i : best), 0));
  }
  await classifier.release();
  const result: ChildResult = { loadMs, inference, top1, maxRssMb: process.resourceUsage().maxRSS / 1024, rssBeforeModelMb };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

const percentile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args[1]);
  const offline = args.includes('--offline');
  if (!offline) await fetchModerationPhotos((line) => console.log(line));
  const photos = listModerationPhotos();

  const candidates: { name: string; model: NsfwjsModel; dir: string; error?: string }[] = [
    { name: 'MobileNetV2 (default, models/moderation/1)', model: 'mobilenet_v2', dir: path.join(root, 'models/moderation/1') },
    { name: 'MobileNetV2Mid', model: 'mobilenet_v2_mid', dir: path.join(CACHE, 'mobilenet_v2_mid') },
    { name: 'InceptionV3', model: 'inception_v3', dir: path.join(CACHE, 'inception_v3') },
  ];
  for (const candidate of candidates.slice(1)) {
    if (existsSync(path.join(candidate.dir, 'model.onnx'))) continue;
    try {
      importNsfwjsModel(candidate.model, candidate.dir, `moderation-${candidate.model}`, '1');
    } catch (error) {
      const format = readTfjsLayersModel(nsfwjsModelDir(candidate.model)).model as { format?: string };
      // nsfwjs loads this one with tf.loadGraphModel (options.type 'graph'): a TF op graph, not Keras layers.
      candidate.error = `${(error as Error).message}${format.format ? ` (it is a TF.js ${format.format}, nsfwjs loads it with loadGraphModel)` : ''}`;
    }
  }

  const results = new Map<string, ChildResult>();
  for (const candidate of candidates) {
    if (candidate.error) continue;
    const output = execFileSync(process.execPath, [...process.execArgv, __filename, '--child', candidate.dir], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    results.set(candidate.name, JSON.parse(output.trim().split('\n').pop()!));
  }
  const reference = results.get(candidates[0].name)!;

  console.log(`\n${photos.length} photograph files, onnxruntime-node, 1 intra-op thread, one image per run\n`);
  console.log('| model | input | model.onnx | load ms | p50 ms | p95 ms | peak RSS (before model) | top-1 = default |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const candidate of candidates) {
    const result = results.get(candidate.name);
    if (!result) {
      console.log(`| ${candidate.name} | - | not importable: ${candidate.error} | | | | | |`);
      continue;
    }
    const manifest = JSON.parse(readFileSync(path.join(candidate.dir, 'manifest.json'), 'utf8'));
    const same = result.top1.filter((top, i) => top === reference.top1[i]).length;
    console.log(
      `| ${candidate.name} | ${manifest.width}x${manifest.height} | ${(statSync(path.join(candidate.dir, 'model.onnx')).size / 1e6).toFixed(1)} MB | ` +
        `${result.loadMs.toFixed(0)} | ${percentile(result.inference, 0.5).toFixed(1)} | ${percentile(result.inference, 0.95).toFixed(1)} | ` +
        `${result.maxRssMb.toFixed(0)} MB (${result.rssBeforeModelMb.toFixed(0)} MB) | ${same}/${result.top1.length} |`,
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
