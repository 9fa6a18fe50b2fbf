import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import sharp from 'sharp';
import type { LocalPorts } from '../local/endpoints';
import type { BatchReport } from '../local/poller';
import { MODELS_DIR, seedDirectory } from '../local/samples';
import { freePort } from '../local/servers';
import { requireHandler, startLocalStack } from '../local/stack';
import { declaredConfig } from '../shared/config';
import type { AuditReport } from '../shared/operations/audit';
import { listAllObjects } from '../shared/operations/auditSources';
import { differenceHash } from './perceptual';

/**
 * A burst of small uploads through the whole local pipeline (embedded S3 and SQS, fan-out, pollers,
 * the real resize function), then the proof that nothing was lost:
 *
 *   npx tsx scripts/burst.ts [--count 1000] [--concurrency 32] [--batch-window 1]
 *
 * Prints the total time (first upload -> both queues empty), the throughput, the deepest the resize
 * and predict queues got (GetQueueAttributes sampled every 100 ms: visible + in flight + delayed),
 * checks every thumbnail (decodes, right size, right source ETag, looks like its source), and runs
 * `pipeline audit --json --grace-seconds 0` against the stack's ports. Exit code 0 when all is well.
 *
 * The predict function needs a model (models/shapes/1). When the repository has none, a stand-in
 * predict handler acknowledges every message and the audit checks thumbnails only (--outputs thumbnails).
 *
 * test/e2e/burst.test.ts runs the same functions with a smaller count.
 */

export interface BurstTarget {
  s3: S3Client;
  sqs: SQSClient;
  /** By key, as the local stack names them (`resize`, `resizeDlq`, ...). */
  queueUrls: Record<string, string>;
  ports: LocalPorts;
  fanout: { idle(): Promise<void> };
}

export interface BurstImage {
  data: Buffer;
  width: number;
  height: number;
}

export interface BurstOptions {
  count: number;
  /** Key prefix of the uploads (default `burst/`). */
  prefix?: string;
  /** Parallel PUTs (default 32). */
  concurrency?: number;
  images: BurstImage[];
  /** Give up waiting for the queues to empty after this long (default 10 min). */
  timeoutMs?: number;
}

export interface BurstFigures {
  count: number;
  keys: string[];
  eTags: Map<string, string>;
  /** First PUT started -> last PUT answered. */
  uploadMs: number;
  /** First PUT started -> every notification delivered and the resize and predict queues empty. */
  totalMs: number;
  imagesPerSecond: number;
  /** Most messages seen in each queue (waiting + in flight + delayed), and most in flight. */
  maxDepth: { resize: number; predict: number };
  maxInFlight: { resize: number; predict: number };
  dlqDepth: { resize: number; predict: number };
  samples: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A few distinct small JPEGs (320x240, a few KB), generated once. Each has eight horizontal bands,
 * each a steep left-to-right or right-to-left ramp chosen by the variant's bits: every column
 * comparison of a difference hash is then clear-cut, so a thumbnail can be matched to its source.
 */
export async function burstImages(variants = 8, width = 320, height = 240): Promise<BurstImage[]> {
  const images: BurstImage[] = [];
  for (let seed = 0; seed < variants; seed++) {
    const pattern = (seed * 37 + 91) & 255;
    const pixels = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) {
      const rising = (pattern >> Math.floor((y * 8) / height)) & 1;
      for (let x = 0; x < width; x++) {
        const ramp = 30 + Math.round((195 * (rising ? x : width - 1 - x)) / (width - 1));
        const i = (y * width + x) * 3;
        pixels[i] = ramp;
        pixels[i + 1] = Math.min(255, ramp + seed * 6);
        pixels[i + 2] = Math.max(0, ramp - seed * 4);
      }
    }
    images.push({
      data: await sharp(pixels, { raw: { width, height, channels: 3 } })
        .jpeg({ quality: 80 })
        .toBuffer(),
      width,
      height,
    });
  }
  return images;
}

/**
 * A queue's messages (waiting, in flight and delayed) and how many of them are in flight.
 * local-aws-sqs, the only server this script runs against, counts in-flight messages in
 * ApproximateNumberOfMessages too (AWS counts only the visible ones there): adding
 * ApproximateNumberOfMessagesNotVisible would count them twice.
 */
export async function queueCounts(sqs: SQSClient, queueUrl: string): Promise<{ messages: number; inFlight: number }> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  const [listed, inFlight, delayed] = [
    Attributes.ApproximateNumberOfMessages,
    Attributes.ApproximateNumberOfMessagesNotVisible,
    Attributes.ApproximateNumberOfMessagesDelayed,
  ].map((value) => Number(value) || 0);
  return { messages: listed + delayed, inFlight };
}

async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Uploads `count` objects as fast as `concurrency` allows and waits until the pipeline has taken them all. */
export async function runBurst(target: BurstTarget, options: BurstOptions): Promise<BurstFigures> {
  const { count, images } = options;
  const prefix = options.prefix ?? 'burst/';
  const width = String(count - 1).length;
  const keys = Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(width, '0')}.jpg`);
  const eTags = new Map<string, string>();
  const maxDepth = { resize: 0, predict: 0 };
  const maxInFlight = { resize: 0, predict: 0 };
  let samples = 0;
  let sampling = true;

  const sample = async () => {
    const [resize, predict] = await Promise.all([
      queueCounts(target.sqs, target.queueUrls.resize),
      queueCounts(target.sqs, target.queueUrls.predict),
    ]);
    maxDepth.resize = Math.max(maxDepth.resize, resize.messages);
    maxDepth.predict = Math.max(maxDepth.predict, predict.messages);
    maxInFlight.resize = Math.max(maxInFlight.resize, resize.inFlight);
    maxInFlight.predict = Math.max(maxInFlight.predict, predict.inFlight);
    samples += 1;
    return resize.messages + resize.inFlight + predict.messages + predict.inFlight;
  };
  const sampler = (async () => {
    while (sampling) {
      await sample();
      await sleep(100);
    }
  })();

  const started = performance.now();
  let uploadMs: number;
  try {
    await forEachLimited(keys, options.concurrency ?? 32, async (key, index) => {
      const response = await target.s3.send(
        new PutObjectCommand({ Bucket: 'uploads', Key: key, Body: images[index % images.length].data }),
      );
      eTags.set(key, (response.ETag ?? '').replace(/"/g, ''));
    });
    uploadMs = performance.now() - started;
    await target.fanout.idle();
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    while ((await sample()) > 0) {
      if (Date.now() > deadline) throw new Error(`the queues still hold messages after ${options.timeoutMs ?? 600_000} ms`);
      await sleep(100);
    }
  } finally {
    sampling = false;
    await sampler;
  }
  const totalMs = performance.now() - started;
  const dlqDepth = {
    resize: (await queueCounts(target.sqs, target.queueUrls.resizeDlq)).messages,
    predict: (await queueCounts(target.sqs, target.queueUrls.predictDlq)).messages,
  };
  return { count, keys, eTags, uploadMs, totalMs, imagesPerSecond: count / (totalMs / 1000), maxDepth, maxInFlight, dlqDepth, samples };
}

/**
 * Every thumbnail of every burst upload: listed (ListObjects V1 fallback past 1,000 keys), decodes
 * as WebP, has the planned size, names the upload's ETag, and looks like its source (dHash).
 */
export async function verifyBurst(
  target: BurstTarget,
  figures: BurstFigures,
  images: BurstImage[],
): Promise<{ checked: number; problems: string[] }> {
  const { sizes, format } = declaredConfig.thumbnails;
  const problems: string[] = [];
  const listed = new Set<string>();
  for (const size of sizes) {
    const prefix = `${size}/${figures.keys[0].slice(0, figures.keys[0].lastIndexOf('/') + 1)}`;
    for (const object of await listAllObjects(target.s3, 'thumbnails', prefix)) listed.add(object.key);
  }
  const sourceHashes = await Promise.all(images.map((image) => differenceHash(image.data)));
  let checked = 0;
  const work = figures.keys.flatMap((key, index) => sizes.map((size) => ({ key, index, size })));
  await forEachLimited(work, 8, async ({ key, index, size }) => {
    const thumbnailKey = `${size}/${key}.${format}`;
    if (!listed.has(thumbnailKey)) {
      problems.push(`${thumbnailKey}: not listed`);
      return;
    }
    const image = images[index % images.length];
    const response = await target.s3.send(new GetObjectCommand({ Bucket: 'thumbnails', Key: thumbnailKey }));
    const data = Buffer.from(await response.Body!.transformToByteArray());
    const meta = await sharp(data).metadata();
    const scale = Math.min(1, size / Math.max(image.width, image.height));
    const expected = [Math.round(image.width * scale), Math.round(image.height * scale)];
    if (meta.format !== format || meta.width !== expected[0] || meta.height !== expected[1]) {
      problems.push(`${thumbnailKey}: ${meta.format} ${meta.width}x${meta.height}, expected ${format} ${expected.join('x')}`);
    }
    if (response.Metadata?.['source-etag'] !== figures.eTags.get(key)) {
      problems.push(`${thumbnailKey}: source-etag ${response.Metadata?.['source-etag']}, upload ${figures.eTags.get(key)}`);
    }
    if (size === Math.min(...sizes)) {
      let diff = (await differenceHash(data)) ^ sourceHashes[index % images.length];
      let bits = 0;
      for (; diff > 0n; diff >>= 1n) bits += Number(diff & 1n);
      if (bits > 6) problems.push(`${thumbnailKey}: does not look like its source (${bits} of 64 hash bits differ)`);
    }
    checked += 1;
  });
  return { checked, problems };
}

const ROOT = path.resolve(__dirname, '..');

/** `pipeline audit --json` as an operator runs it, in a child process, against the stack's ports. */
export async function auditStack(
  ports: LocalPorts,
  outputs: 'thumbnails' | 'all',
): Promise<{ code: number | null; report?: AuditReport; stderr: string }> {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    S3_PORT: String(ports.s3Port),
    SQS_PORT: String(ports.sqsPort),
    DYNAMODB_PORT: String(ports.dynamodbPort),
    API_PORT: String(ports.apiPort),
  };
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bin', 'pipeline.js'), 'audit', '--json', '--outputs', outputs, '--grace-seconds', '0'],
    {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  let report: AuditReport | undefined;
  try {
    report = JSON.parse(stdout);
  } catch {
    stderr += `\n(audit printed no JSON: ${stdout.slice(0, 200)})`;
  }
  return { code, report, stderr };
}

/** Whether the repository has the model the predict function loads (pipeline.config.json's modelUri). */
export function modelAvailable(): boolean {
  const uri = declaredConfig.prediction.modelUri.replace(/^s3:\/\/[^/]+\//, '');
  return existsSync(path.join(MODELS_DIR, uri, 'manifest.json'));
}

export function formatFigures(figures: BurstFigures, extra: Record<string, string | number> = {}): string {
  const rows: [string, string | number][] = [
    ['uploads', figures.count],
    ['upload phase', `${(figures.uploadMs / 1000).toFixed(2)} s`],
    ['total (first upload -> queues empty)', `${(figures.totalMs / 1000).toFixed(2)} s`],
    ['throughput', `${figures.imagesPerSecond.toFixed(1)} images/s`],
    ['max resize queue depth (in flight)', `${figures.maxDepth.resize} (${figures.maxInFlight.resize})`],
    ['max predict queue depth (in flight)', `${figures.maxDepth.predict} (${figures.maxInFlight.predict})`],
    ['queue depth samples', figures.samples],
    ['resize DLQ / predict DLQ', `${figures.dlqDepth.resize} / ${figures.dlqDepth.predict}`],
    ...Object.entries(extra),
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n');
}

function parseArgs(argv: string[]) {
  const options = { count: 1000, concurrency: 32, batchWindowSeconds: undefined as number | undefined, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].split('=', 2);
    const value = () => Number(inline ?? argv[++i]);
    if (name === '--count') options.count = value();
    else if (name === '--concurrency') options.concurrency = value();
    else if (name === '--batch-window') options.batchWindowSeconds = value();
    else if (name === '--keep') options.keep = true;
    else
      throw new Error(
        `unknown option ${argv[i]}; usage: npx tsx scripts/burst.ts [--count N] [--concurrency N] [--batch-window S] [--keep]`,
      );
  }
  for (const [name, number] of [
    ['--count', options.count],
    ['--concurrency', options.concurrency],
  ] as const) {
    if (!Number.isInteger(number) || number < 1) throw new Error(`${name} must be a whole number of at least 1`);
  }
  return options;
}

async function main(argv: string[]): Promise<number> {
  const options = parseArgs(argv);
  const withModel = modelAvailable();
  const stateDir = mkdtempSync(path.join(tmpdir(), 'pipeline-burst-'));
  const resizeBatches: BatchReport[] = [];
  const standInPredict = async (): Promise<SQSBatchResponse> => ({ batchItemFailures: [] });
  const stack = await startLocalStack({
    s3Port: await freePort(),
    sqsPort: await freePort(),
    dynamodbPort: await freePort(),
    apiPort: await freePort(),
    stateDir,
    quiet: true,
    seed: false,
    batchWindowSeconds: options.batchWindowSeconds,
    loadHandler: (fn) => (fn.name === 'resize' || withModel ? requireHandler(fn) : standInPredict),
    onBatch: (report) => {
      if (report.functionName === 'resize') resizeBatches.push(report);
    },
  });
  try {
    if (withModel) await seedDirectory(stack.s3, declaredConfig.local.buckets.models, MODELS_DIR);
    const target: BurstTarget = {
      s3: stack.s3,
      sqs: stack.sqs,
      queueUrls: stack.servers.queueUrls,
      ports: stack.ports,
      fanout: stack.fanout,
    };
    const images = await burstImages();
    console.log(
      `Burst of ${options.count} uploads (${images.length} distinct ${images[0].width}x${images[0].height} JPEGs, ~${Math.round(images[0].data.length / 1024)} KB), ${options.concurrency} parallel PUTs; predict: ${withModel ? 'the real function' : 'stand-in (no model in models/), audit --outputs thumbnails'}`,
    );
    const figures = await runBurst(target, { count: options.count, concurrency: options.concurrency, images });
    const verified = await verifyBurst(target, figures, images);
    const audit = await auditStack(target.ports, withModel ? 'all' : 'thumbnails');
    const records = resizeBatches.reduce((sum, batch) => sum + batch.messageIds.length, 0);
    const failed = resizeBatches.reduce((sum, batch) => sum + batch.failedMessageIds.length, 0);
    console.log(
      formatFigures(figures, {
        'resize batches (records, failed)': `${resizeBatches.length} (${records}, ${failed})`,
        'mean batch size': (records / Math.max(1, resizeBatches.length)).toFixed(1),
        'mean resize invocation': `${Math.round(resizeBatches.reduce((sum, batch) => sum + batch.durationMs, 0) / Math.max(1, resizeBatches.length))} ms`,
        'thumbnails checked': `${verified.checked}, problems ${verified.problems.length}`,
        audit: audit.report ? `exit ${audit.code}, ${JSON.stringify(audit.report.summary)}` : `exit ${audit.code}: ${audit.stderr.trim()}`,
      }),
    );
    for (const problem of verified.problems.slice(0, 20)) console.log(`  problem: ${problem}`);
    const ok =
      verified.problems.length === 0 &&
      audit.code === 0 &&
      audit.report?.summary.complete === options.count &&
      figures.dlqDepth.resize === 0;
    console.log(ok ? 'OK: every upload has its thumbnails and the audit is clean.' : 'NOT OK: see above.');
    return ok ? 0 : 1;
  } finally {
    await stack.stop();
    if (options.keep) console.log(`state kept in ${stateDir}`);
    else rmSync(stateDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 2;
    },
  );
}
