import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SQSBatchResponse } from 'aws-lambda';
import sharp from 'sharp';
import type * as Servers from '../../local/servers';
import type * as Stack from '../../local/stack';
import { declaredConfig, loadConfig } from '../../shared/config';
import { renderThumbnails } from '../../shared/image/thumbnails';
import { thumbnailKeys } from '../../shared/outputs';
import { type BenchImage, ensureCorpus, spread } from './images/corpus';
import { median, round, sum } from './images/stats';

/**
 * `npm run bench -- --e2e`: N photos through the local stack, from the first upload to the last
 * thumbnail in the thumbnails bucket, against the pure image time of the same photos
 * (renderThumbnails in the same process, one after the other). Each run is a child process of its
 * own (the resize handler reads its endpoints when its module loads), with the embedded S3 and SQS
 * on free ports and a temporary state folder. The N photos go through with the configured batching
 * window and with none, and so does a single photo (a trickle, where the window is never cut short
 * by a full batch), so the window's share of the overhead is measured, not guessed.
 */

export const DEFAULT_PHOTOS = 10;
const CHILD_FLAG = '--e2e-child';

interface ChildSpec {
  files: { file: string; label: string }[];
  batchWindowSeconds: number;
}

export interface E2eRun {
  photos: number;
  batch_window_seconds: number;
  /** First upload started -> every thumbnail of every photo listed in the bucket. */
  wall_ms: number;
  /** Uploading the photos (one after the other), within the wall time. */
  upload_ms: number;
  /** Pure image time of the same photos in the same process just before (renderThumbnails). */
  pure_ms: number;
  overhead_ratio: number;
  /** resize invocations: records and handler time each. */
  batches: { records: number; duration_ms: number }[];
  handler_ms_total: number;
  /** Per photo: its upload finished -> its thumbnails listed. */
  latency_ms_p50: number;
  latency_ms_max: number;
}

export interface E2eResult {
  benchmark: 'e2e';
  date: string;
  photos: { label: string; format: string; width: number; height: number; bytes: number }[];
  settings: {
    batch_size: number;
    configured_batch_window_seconds: number;
    sizes: number[];
    format: string;
    predict: string;
    uv_threadpool_size: string;
    sharp_concurrency: number;
  };
  runs: E2eRun[];
  /** Of the N photos with the configured window. */
  overhead_ratio: number;
  /** Wall time the configured window added (with window - without window), for the N photos and for one photo. */
  batch_window_cost_ms: { burst: number; single: number };
}

async function listAll(s3: S3Client, bucket: string): Promise<Map<string, true>> {
  const keys = new Map<string, true>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const object of page.Contents ?? []) keys.set(object.Key!, true);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** Runs in the child process: pure timing, then the stack. */
async function childRun(spec: ChildSpec): Promise<E2eRun> {
  // Required here: the stack module pulls in the servers, which the parent never needs.
  const { requireHandler, startLocalStack } = require('../../local/stack') as typeof Stack;
  const { freePort } = require('../../local/servers') as typeof Servers;
  const config = loadConfig();
  const inputs = spec.files.map(({ file, label }) => ({ label, data: readFileSync(file) }));

  const warm = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#808080' } })
    .jpeg()
    .toBuffer();
  await renderThumbnails(warm, config.thumbnails, config.limits);
  let pureMs = 0;
  for (const input of inputs) {
    const started = performance.now();
    await renderThumbnails(input.data, config.thumbnails, config.limits);
    pureMs += performance.now() - started;
  }

  const stateDir = mkdtempSync(path.join(tmpdir(), 'bench-e2e-'));
  const batches: E2eRun['batches'] = [];
  const acknowledgeAll = async (): Promise<SQSBatchResponse> => ({ batchItemFailures: [] });
  const stack = await startLocalStack({
    s3Port: await freePort(),
    sqsPort: await freePort(),
    dynamodbPort: await freePort(),
    apiPort: await freePort(),
    stateDir,
    quiet: true,
    seed: false,
    batchWindowSeconds: spec.batchWindowSeconds,
    loadHandler: (fn) => (fn.name === 'resize' ? requireHandler(fn) : acknowledgeAll),
    onBatch: (report) => {
      if (report.functionName === 'resize') batches.push({ records: report.messageIds.length, duration_ms: report.durationMs });
    },
  });
  try {
    const { buckets } = declaredConfig.local;
    const { sizes, format } = config.thumbnails;
    const expected = inputs.map((input, i) => ({ key: `bench/${i}-${input.label.replace(/[^A-Za-z0-9._-]+/g, '_')}`, data: input.data }));
    const uploadedAt: number[] = [];
    const doneAt: number[] = [];
    const started = performance.now();
    const uploads = (async () => {
      for (const [i, photo] of expected.entries()) {
        await stack.s3.send(new PutObjectCommand({ Bucket: buckets.uploads, Key: photo.key, Body: photo.data }));
        uploadedAt[i] = performance.now();
      }
    })();
    const deadline = started + 300_000;
    while (doneAt.filter((at) => at !== undefined).length < expected.length) {
      if (performance.now() > deadline) throw new Error('thumbnails still missing after 300 s');
      await new Promise((resolve) => setTimeout(resolve, 25));
      const present = await listAll(stack.s3, buckets.thumbnails);
      const now = performance.now();
      expected.forEach((photo, i) => {
        if (doneAt[i] === undefined && thumbnailKeys(photo.key, sizes, format).every((key) => present.has(key))) doneAt[i] = now;
      });
    }
    await uploads;
    const wall = Math.max(...doneAt) - started;
    const latencies = doneAt.map((at, i) => at - uploadedAt[i]);
    // The last invocation is still deleting its messages when its thumbnails appear: let it report.
    const reported = performance.now() + 10_000;
    while (sum(batches.map((batch) => batch.records)) < expected.length && performance.now() < reported)
      await new Promise((resolve) => setTimeout(resolve, 10));
    return {
      photos: expected.length,
      batch_window_seconds: spec.batchWindowSeconds,
      wall_ms: round(wall),
      upload_ms: round(Math.max(...uploadedAt) - started),
      pure_ms: round(pureMs),
      overhead_ratio: round(wall / pureMs, 2),
      batches,
      handler_ms_total: sum(batches.map((batch) => batch.duration_ms)),
      latency_ms_p50: round(median(latencies)),
      latency_ms_max: round(Math.max(...latencies)),
    };
  } finally {
    await stack.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

function spawnChild(spec: ChildSpec): Promise<E2eRun> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-e2e-spec-'));
  const specFile = path.join(dir, 'spec.json');
  writeFileSync(specFile, JSON.stringify(spec));
  return new Promise<E2eRun>((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT' };
    const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), __filename, CHILD_FLAG, specFile], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      try {
        if (code !== 0) throw new Error(`the e2e run failed (${signal ?? `exit ${code}`}):\n${stderr.trim()}`);
        const line = stdout.trim().split('\n').pop()!;
        resolve(JSON.parse(line) as E2eRun);
      } catch (error) {
        reject(error);
      }
    });
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
}

export async function runE2eBench(options: { photos?: number; log?: (line: string) => void } = {}): Promise<E2eResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const corpus = await ensureCorpus(log);
  const photos: BenchImage[] = spread([...corpus.wallpapers, ...corpus.exifOrientation], options.photos ?? DEFAULT_PHOTOS);
  const configuredWindow = declaredConfig.functions.resize.batchWindowSeconds;
  const files = photos.map(({ file, label }) => ({ file, label }));
  const runs: E2eRun[] = [];
  const plan = [
    { files, window: configuredWindow },
    { files, window: 0 },
    { files: files.slice(0, 1), window: configuredWindow },
    { files: files.slice(0, 1), window: 0 },
  ];
  for (const { files: batch, window } of plan) {
    log(`e2e: ${batch.length} photo(s) through the local stack, batching window ${window} s ...`);
    const run = await spawnChild({ files: batch, batchWindowSeconds: window });
    log(`  wall ${run.wall_ms} ms, pure ${run.pure_ms} ms, ${run.batches.length} batch(es)`);
    runs.push(run);
  }
  return {
    benchmark: 'e2e',
    date: new Date().toISOString(),
    photos: photos.map(({ label, format, width, height, bytes }) => ({ label, format, width, height, bytes })),
    settings: {
      batch_size: declaredConfig.functions.resize.batchSize,
      configured_batch_window_seconds: configuredWindow,
      sizes: [...declaredConfig.thumbnails.sizes],
      format: declaredConfig.thumbnails.format,
      predict: 'replaced by a stub that acknowledges every record (the thumbnail path alone; no model needed)',
      uv_threadpool_size: process.env.UV_THREADPOOL_SIZE ?? 'unset (libuv default 4)',
      sharp_concurrency: sharp.concurrency(),
    },
    runs,
    overhead_ratio: runs[0].overhead_ratio,
    batch_window_cost_ms: { burst: round(runs[0].wall_ms - runs[1].wall_ms), single: round(runs[2].wall_ms - runs[3].wall_ms) },
  };
}

export function e2eReport(result: E2eResult): string {
  const [withWindow, without, single, singleWithout] = result.runs;
  const mb = sum(result.photos.map((photo) => photo.bytes)) / 1e6;
  const lines = [
    `End to end: ${result.photos.length} photos (${mb.toFixed(1)} MB) uploaded one after the other to the local stack, until all ${result.photos.length * result.settings.sizes.length} thumbnails are listed;`,
    `then the first photo alone. Resize batch size ${result.settings.batch_size}; predict ${result.settings.predict}.`,
    '',
    `  ${'photos'.padEnd(8)}${'window'.padEnd(8)}${'wall ms'.padStart(9)}${'upload ms'.padStart(11)}${'pure ms'.padStart(9)}${'handler ms'.padStart(12)}${'batches'.padStart(9)}${'latency p50/max ms'.padStart(20)}${'wall/pure'.padStart(11)}`,
  ];
  for (const run of result.runs) {
    lines.push(
      `  ${String(run.photos).padEnd(8)}${`${run.batch_window_seconds} s`.padEnd(8)}${String(run.wall_ms).padStart(9)}${String(run.upload_ms).padStart(11)}${String(run.pure_ms).padStart(9)}${String(round(run.handler_ms_total)).padStart(12)}${String(run.batches.length).padStart(9)}${`${run.latency_ms_p50} / ${run.latency_ms_max}`.padStart(20)}${run.overhead_ratio.toFixed(2).padStart(11)}`,
    );
  }
  const signed = (ms: number) => `${ms >= 0 ? '+' : ''}${ms} ms`;
  lines.push(
    '',
    `Pipeline overhead, ${withWindow.photos} photos with the configured window: wall ${withWindow.wall_ms} ms = ${withWindow.overhead_ratio.toFixed(2)} x the pure image time (${withWindow.pure_ms} ms).`,
    `Batching window (functions.resize.batchWindowSeconds = ${withWindow.batch_window_seconds} s): the poller, like Lambda's event source mapping, waits up to the`,
    `window after the first message for a full batch (${result.settings.batch_size}) before invoking. A burst that fills the batch cuts it short:`,
    `${withWindow.photos} photos ${signed(result.batch_window_cost_ms.burst)} against no window (${without.wall_ms} ms, ${without.overhead_ratio.toFixed(2)} x). A lone upload waits it out:`,
    `1 photo ${signed(result.batch_window_cost_ms.single)} (${single.wall_ms} ms against ${singleWithout.wall_ms} ms, ${single.overhead_ratio.toFixed(2)} x against ${singleWithout.overhead_ratio.toFixed(2)} x its pure time).`,
    `The rest: uploads to the embedded S3 (${withWindow.upload_ms} ms for ${withWindow.photos}, overlapping), the handler's own S3 GET/HEAD/PUTs (handler time`,
    `${round(withWindow.handler_ms_total)} ms against ${withWindow.pure_ms} ms pure), short-poll naps (200 ms when idle) and the 25 ms listing poll. Everything runs`,
    'in one Node process on this machine (S3, SQS, fan-out, handler), so they also compete for the same cores.',
  );
  return lines.join('\n');
}

if (require.main === module && process.argv[2] === CHILD_FLAG) {
  const spec = JSON.parse(readFileSync(process.argv[3], 'utf8')) as ChildSpec;
  childRun(spec).then(
    (run) => {
      process.stdout.write(`\n${JSON.stringify(run)}\n`);
      // Handler modules keep timers and sockets (Powertools, SDK agents): end here rather than wait for them.
      process.exit(0);
    },
    (error) => {
      process.stderr.write(`${(error as Error).stack ?? error}\n`);
      process.exit(1);
    },
  );
}
