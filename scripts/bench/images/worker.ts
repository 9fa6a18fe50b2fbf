import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../../../shared/config';
import { runNaive, runOurs, runVipsthumbnail, timedProcess, type PathName, type PathOutput } from './paths';

/**
 * One path over a list of files, in a process of its own so that its peak RSS is its own:
 *   node --require tsx/cjs scripts/bench/images/worker.ts <spec.json>
 * The parent sets the threading through the environment (UV_THREADPOOL_SIZE and VIPS_CONCURRENCY
 * must be set before the process starts); `single` also calls sharp.concurrency(1).
 * Prints one WorkerResult as JSON on stdout.
 */

export type Threading = 'single' | 'default';

export interface WorkerSpec {
  path: PathName;
  threading: Threading;
  files: string[];
  sizes: number[];
  quality: number;
}

export interface FileTiming {
  file: string;
  ms: number;
  bytesOut: number;
  edges: number[];
}

export interface WorkerResult {
  path: PathName;
  threading: Threading;
  settings: { uvThreadpoolSize: string; vipsConcurrency: string; sharpConcurrency: number | null };
  files: FileTiming[];
  /** Peak RSS: of this Node process for ours/naive, of the largest vipsthumbnail process for vipsthumbnail. MB. */
  peakRssMb: number;
  /** RSS after start-up and a warm-up image, before the first file (Node + sharp), MB; null for vipsthumbnail. */
  baselineRssMb: number | null;
  /** vipsthumbnail only: median wall time of `vipsthumbnail --vips-version` (process start-up), ms. */
  startupMs: number | null;
}

const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;

async function warmUp(spec: WorkerSpec): Promise<void> {
  const image = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .jpeg()
    .toBuffer();
  const config = loadConfig();
  if (spec.path === 'ours') await runOurs(image, { sizes: spec.sizes, format: 'webp', quality: spec.quality }, config.limits);
  if (spec.path === 'naive') await runNaive(image, spec.sizes, spec.quality);
}

export async function runWorker(spec: WorkerSpec): Promise<WorkerResult> {
  if (spec.threading === 'single') sharp.concurrency(1);
  const config = loadConfig();
  const thumbnails = { sizes: spec.sizes, format: 'webp' as const, quality: spec.quality };
  const files: FileTiming[] = [];
  let peakRssKb = 0;
  let baselineRssMb: number | null = null;
  let startupMs: number | null = null;

  if (spec.path === 'vipsthumbnail') {
    const outDir = mkdtempSync(path.join(tmpdir(), 'bench-vips-'));
    try {
      const startups: number[] = [];
      for (let i = 0; i < 5; i++) startups.push((await timedProcess('vipsthumbnail', ['--vips-version'])).ms);
      startupMs = startups.sort((a, b) => a - b)[2];
      for (const file of spec.files) {
        const run = await runVipsthumbnail(file, spec.sizes, spec.quality, outDir);
        peakRssKb = Math.max(peakRssKb, run.peakRssKb);
        files.push({ file, ms: run.ms, bytesOut: run.bytesOut, edges: run.edges });
      }
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  } else {
    await warmUp(spec);
    baselineRssMb = mb(process.resourceUsage().maxRSS);
    for (const file of spec.files) {
      const input = readFileSync(file);
      const started = performance.now();
      const output: PathOutput = spec.path === 'ours' ? await runOurs(input, thumbnails, config.limits) : await runNaive(input, spec.sizes, spec.quality);
      files.push({ file, ms: performance.now() - started, bytesOut: output.bytesOut, edges: output.edges });
    }
    peakRssKb = process.resourceUsage().maxRSS;
  }

  return {
    path: spec.path,
    threading: spec.threading,
    settings: {
      uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? 'unset (libuv default 4)',
      vipsConcurrency: process.env.VIPS_CONCURRENCY ?? 'unset (libvips default: number of cores)',
      sharpConcurrency: spec.path === 'vipsthumbnail' ? null : sharp.concurrency(),
    },
    files,
    peakRssMb: mb(peakRssKb),
    baselineRssMb,
    startupMs,
  };
}

if (require.main === module) {
  const spec = JSON.parse(readFileSync(process.argv[2], 'utf8')) as WorkerSpec;
  runWorker(spec).then(
    (result) => process.stdout.write(JSON.stringify(result)),
    (error) => {
      process.stderr.write(`${(error as Error).stack ?? error}\n`);
      process.exitCode = 1;
    },
  );
}
