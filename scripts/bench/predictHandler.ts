/**
 * The whole predict handler in a process of its own: S3 download, validation, sharp preprocessing,
 * inference and the JSON write, against embedded S3/SQS servers that run in the parent process (so
 * the child's peak RSS is the predict function's alone). For each image: the cold first invocation
 * (model load included), warm p50/p95 and the child's peak RSS; then, in the same child, the
 * pipeline's preprocess() against sharp's own fastest 224x224 thumbnail of the same bytes
 * (`sharp(bytes).resize(224, 224, { fit: 'fill' }).raw()`), printed as a ratio.
 *   npx tsx scripts/bench/predictHandler.ts [--model <dir>] [--runs 20]
 * Images, generated deterministically with sharp from the repository's EXIF-orientation photograph:
 * a 12 MP (4240x2832) JPEG at quality 90, as a phone uploads, and a 2560x1600 PNG, as a screenshot.
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { freePort, startLocalServers } from '../../local/servers';
import { createS3Client } from '../../shared/clients';
import { declaredConfig } from '../../shared/config';
import { parseManifest } from '../../shared/predict/manifest';
import { preprocess } from '../../shared/predict/preprocess';

const root = path.resolve(__dirname, '../..');
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const modelDir = path.resolve(option('model', path.join(root, 'models/moderation/1')));
const runs = Number(option('runs', '20'));
const SOURCE = path.resolve(root, 'test/fixtures/corpus/exif-orientation/Landscape_0.jpg');

interface ChildJob {
  env: Record<string, string>;
  keys: string[];
  eTags: string[];
  size: number;
  file: string;
}
interface ChildResult {
  cold: number;
  warm: number[];
  maxRssMb: number;
  rssBeforeHandlerMb: number;
  preprocessMs: number[];
  thumbnailMs: number[];
  fullDecodeMs: number[];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const at = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];

async function child(job: ChildJob): Promise<ChildResult> {
  Object.assign(process.env, job.env);
  const rssBeforeHandlerMb = process.resourceUsage().maxRSS / 1024;
  const { handler } = require('../../functions/predict/handler');
  const context = { functionName: 'predict', awsRequestId: 'bench', getRemainingTimeInMillis: () => 30_000 };
  const invoke = async (i: number) => {
    const body = JSON.stringify({
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: 'uploads' }, object: { key: job.keys[i], size: job.size, eTag: job.eTags[i] } },
        },
      ],
    });
    const started = performance.now();
    const response = await handler(
      {
        Records: [
          {
            messageId: `m${i}`,
            body,
            attributes: { ApproximateReceiveCount: '1' },
            eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:predict',
          },
        ],
      },
      context,
    );
    if (response.batchItemFailures.length) throw new Error(`invocation ${i} failed`);
    return performance.now() - started;
  };
  const cold = await invoke(0);
  const warm: number[] = [];
  for (let i = 1; i < job.keys.length; i++) warm.push(await invoke(i));
  const maxRssMb = process.resourceUsage().maxRSS / 1024;

  // Preprocessing against sharp's fastest 224x224, interleaved so both see the same machine load.
  const bytes = readFileSync(job.file);
  const manifest = parseManifest(readFileSync(path.join(job.env.BENCH_MODEL_DIR, 'manifest.json'), 'utf8'));
  const preprocessMs: number[] = [];
  const thumbnailMs: number[] = [];
  const fullDecodeMs: number[] = [];
  const time = async (into: number[], work: () => Promise<unknown>) => {
    const started = performance.now();
    await work();
    into.push(performance.now() - started);
  };
  for (let i = 0; i < 23; i++) {
    const p: number[] = i < 3 ? [] : preprocessMs;
    const t: number[] = i < 3 ? [] : thumbnailMs;
    await time(p, () => preprocess(bytes, manifest));
    await time(t, () => sharp(bytes).resize(manifest.width, manifest.height, { fit: 'fill' }).raw().toBuffer());
    if (i % 4 === 3) await time(fullDecodeMs, () => sharp(bytes).raw().toBuffer());
  }
  return { cold, warm, maxRssMb, rssBeforeHandlerMb, preprocessMs, thumbnailMs, fullDecodeMs };
}

async function main() {
  if (args[0] === '--child') {
    const job: ChildJob = JSON.parse(readFileSync(args[1], 'utf8'));
    process.stdout.write(`${JSON.stringify(await child(job))}\n`);
    return;
  }
  const stateDir = mkdtempSync(path.join(tmpdir(), 'bench-predict-'));
  const servers = await startLocalServers({ s3Port: await freePort(), sqsPort: await freePort(), stateDir });
  const env = {
    ...servers.env,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    MODEL_URI: 's3://models/bench/1/',
    BENCH_MODEL_DIR: modelDir,
  };
  const s3 = createS3Client(servers.env);
  const put = (Bucket: string, Key: string, Body: Buffer) => s3.send(new PutObjectCommand({ Bucket, Key, Body }));
  await put('models', 'bench/1/model.onnx', readFileSync(path.join(modelDir, 'model.onnx')));
  await put('models', 'bench/1/manifest.json', readFileSync(path.join(modelDir, 'manifest.json')));

  const images = [
    { name: '12 MP JPEG (4240x2832, q90)', ext: 'jpg', bytes: await sharp(SOURCE).resize(4240, 2832).jpeg({ quality: 90 }).toBuffer() },
    { name: '2560x1600 PNG', ext: 'png', bytes: await sharp(SOURCE).resize(2560, 1600).png().toBuffer() },
  ];
  console.log(
    `predict handler, model ${path.relative(root, modelDir)}, ${runs} warm runs per image, configured memory ${declaredConfig.functions.predict.memoryMb} MB`,
  );
  console.log(
    '| image | bytes | first invocation (model load) | warm p50 | warm p95 | peak RSS (before handler) | preprocess | sharp 224x224 | ratio | full decode |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  try {
    for (const [index, image] of images.entries()) {
      const keys = Array.from({ length: runs + 1 }, (_, i) => `bench/${index}-photo-${i}.${image.ext}`);
      const eTags: string[] = [];
      for (const key of keys) eTags.push((await put(declaredConfig.local.buckets.uploads, key, image.bytes)).ETag!.replace(/"/g, ''));
      const file = path.join(stateDir, `input.${image.ext}`);
      const jobFile = path.join(stateDir, 'job.json');
      writeFileSync(file, image.bytes);
      writeFileSync(jobFile, JSON.stringify({ env, keys, eTags, size: image.bytes.length, file } satisfies ChildJob));
      // The servers answer from this process, so it must not block: the child runs asynchronously.
      const output = await new Promise<string>((resolve, reject) => {
        execFile(process.execPath, [...process.execArgv, __filename, '--child', jobFile], { maxBuffer: 1 << 24 }, (error, stdout) =>
          error ? reject(error) : resolve(stdout),
        );
      });
      const r: ChildResult = JSON.parse(output.trim().split('\n').pop()!);
      const pre = median(r.preprocessMs);
      const thumb = median(r.thumbnailMs);
      console.log(
        `| ${image.name} | ${image.bytes.length.toLocaleString('en')} | ${r.cold.toFixed(0)} ms | ${at(r.warm, 0.5).toFixed(1)} ms | ${at(r.warm, 0.95).toFixed(1)} ms | ` +
          `${r.maxRssMb.toFixed(0)} MB (${r.rssBeforeHandlerMb.toFixed(0)} MB) | ${pre.toFixed(1)} ms | ${thumb.toFixed(1)} ms | ${(pre / thumb).toFixed(2)}x | ${median(r.fullDecodeMs).toFixed(0)} ms |`,
      );
    }
  } finally {
    s3.destroy();
    await servers.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
