/**
 * The whole predict handler, warm, in a fresh process: S3 download, validation, sharp preprocessing,
 * inference and the JSON write, against the embedded S3/SQS servers. Prints per-invocation p50/p95,
 * the cold first invocation (model load included) and peak RSS, to compare with the function's memory.
 *   npx tsx scripts/bench/predictHandler.ts [--model <dir>] [--runs 20]
 */

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { freePort, startLocalServers } from '../../local/servers';
import { createS3Client } from '../../shared/clients';
import { declaredConfig } from '../../shared/config';

const root = path.resolve(__dirname, '../..');
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const modelDir = path.resolve(option('model', path.join(root, 'models/shapes/1')));
const runs = Number(option('runs', '20'));

async function main() {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'bench-predict-'));
  const servers = await startLocalServers({ s3Port: await freePort(), sqsPort: await freePort(), stateDir });
  Object.assign(process.env, servers.env, {
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    MODEL_URI: 's3://models/bench/1/',
  });
  const s3 = createS3Client(servers.env);
  const put = (Bucket: string, Key: string, Body: Buffer) => s3.send(new PutObjectCommand({ Bucket, Key, Body }));
  await put('models', 'bench/1/model.onnx', readFileSync(path.join(modelDir, 'model.onnx')));
  await put('models', 'bench/1/manifest.json', readFileSync(path.join(modelDir, 'manifest.json')));
  // A 12 MP JPEG, as a phone would upload.
  const photo = await sharp(path.resolve(root, 'test/fixtures/corpus/exif-orientation/Landscape_0.jpg'))
    .resize(4240, 2832)
    .jpeg({ quality: 90 })
    .toBuffer();
  const keys = Array.from({ length: runs + 1 }, (_, i) => `bench/photo-${i}.jpg`);
  const eTags: string[] = [];
  for (const key of keys) eTags.push((await put(declaredConfig.local.buckets.uploads, key, photo)).ETag!.replace(/"/g, ''));
  const rssBefore = process.resourceUsage().maxRSS / 1024;

  const { handler } = require('../../functions/predict/handler');
  const context = { functionName: 'predict', awsRequestId: 'bench', getRemainingTimeInMillis: () => 30_000 };
  const invoke = async (i: number) => {
    const body = JSON.stringify({
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: 'uploads' }, object: { key: keys[i], size: photo.length, eTag: eTags[i] } },
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
  for (let i = 1; i <= runs; i++) warm.push(await invoke(i));
  warm.sort((a, b) => a - b);
  const at = (q: number) => warm[Math.min(warm.length - 1, Math.floor(q * warm.length))].toFixed(1);
  console.log(`predict handler, ${photo.length} B 4240x2832 JPEG, model ${path.relative(root, modelDir)}`);
  console.log(`first invocation (model load included): ${cold.toFixed(1)} ms; warm p50 ${at(0.5)} ms, p95 ${at(0.95)} ms over ${runs}`);
  console.log(
    `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (the embedded servers and the 12 MP test photo in this process: ${rssBefore.toFixed(0)} MB before the handler loaded); configured memory ${declaredConfig.functions.predict.memoryMb} MB`,
  );
  s3.destroy();
  await servers.close();
  rmSync(stateDir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
