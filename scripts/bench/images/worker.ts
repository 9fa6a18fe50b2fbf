import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../../../shared/config';
import { type PathName, type PathOutput, runNaive, runOurs, runVipsthumbnail, timedProcess } from './paths';

/**
 * One path in a process of its own, so that its peak RSS is its own. The parent starts it with
 *   node --require tsx/cjs scripts/bench/images/worker.ts <path> <single|default> <sizes> <quality>
 * and an IPC channel, then sends one file at a time ({ file }) and waits for the timing, so that
 * the three paths take turns on the same file and a noisy neighbour hits them alike; { finish: true }
 * returns the process figures and ends it. The parent sets the threading through the environment
 * (UV_THREADPOOL_SIZE and VIPS_CONCURRENCY must be set before the process starts); `single` also
 * calls sharp.concurrency(1).
 */

export type Threading = 'single' | 'default';

export interface FileTiming {
  file: string;
  /** Wall time of the path on this file (all sizes). */
  ms: number;
  /** CPU time of this process during it (all threads); null for vipsthumbnail, whose work is in child processes. */
  cpuMs: number | null;
  bytesOut: number;
  edges: number[];
}

export interface WorkerSummary {
  settings: { uvThreadpoolSize: string; vipsConcurrency: string; sharpConcurrency: number | null };
  /** Peak RSS: of this Node process for ours/naive, of the largest vipsthumbnail process for vipsthumbnail. MB. */
  peakRssMb: number;
  /** RSS after start-up and a warm-up image, before the first file (Node + sharp), MB; null for vipsthumbnail. */
  baselineRssMb: number | null;
  /** vipsthumbnail only: median wall time of `vipsthumbnail --vips-version` (process start-up), run before each file, ms. */
  startupMs: number | null;
}

export type WorkerReply = { ready: true } | { timing: FileTiming } | { summary: WorkerSummary } | { error: string };

const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;

export async function serve(name: PathName, threading: Threading, sizes: number[], quality: number): Promise<void> {
  if (threading === 'single') sharp.concurrency(1);
  const { limits } = loadConfig();
  const thumbnails = { sizes, format: 'webp' as const, quality };
  const send = (reply: WorkerReply) => new Promise<void>((resolve) => process.send!(reply, () => resolve()));
  const outDir = mkdtempSync(path.join(tmpdir(), 'bench-vips-'));
  let peakChildKb = 0;
  let baselineRssMb: number | null = null;
  let startupMs: number | null = null;

  const startups: number[] = [];
  if (name !== 'vipsthumbnail') {
    // Start-up costs (thread pool, libvips init, code loading) are not charged to the first file.
    const warm = await sharp({
      create: { width: 640, height: 480, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } },
    })
      .jpeg()
      .toBuffer();
    if (name === 'ours') await runOurs(warm, thumbnails, limits);
    else await runNaive(warm, sizes, quality);
    baselineRssMb = mb(process.resourceUsage().maxRSS);
  }

  const runFile = async (file: string): Promise<FileTiming> => {
    if (name === 'vipsthumbnail') {
      // Its process start-up, measured beside each file so that it sees the same load.
      startups.push((await timedProcess('vipsthumbnail', ['--vips-version'])).ms);
      const run = await runVipsthumbnail(file, sizes, quality, outDir);
      peakChildKb = Math.max(peakChildKb, run.peakRssKb);
      return { file, ms: run.ms, cpuMs: null, bytesOut: run.bytesOut, edges: run.edges };
    }
    const input = readFileSync(file);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const output: PathOutput = name === 'ours' ? await runOurs(input, thumbnails, limits) : await runNaive(input, sizes, quality);
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    return { file, ms, cpuMs: (used.user + used.system) / 1000, bytesOut: output.bytesOut, edges: output.edges };
  };

  process.on('message', (message: { file?: string; finish?: boolean }) => {
    void (async () => {
      try {
        if (message.file !== undefined) {
          await send({ timing: await runFile(message.file) });
        } else if (message.finish) {
          rmSync(outDir, { recursive: true, force: true });
          if (startups.length > 0) startupMs = [...startups].sort((a, b) => a - b)[Math.floor(startups.length / 2)];
          await send({
            summary: {
              settings: {
                uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? 'unset (libuv default 4)',
                vipsConcurrency: process.env.VIPS_CONCURRENCY ?? 'unset (libvips default: number of cores)',
                sharpConcurrency: name === 'vipsthumbnail' ? null : sharp.concurrency(),
              },
              peakRssMb: name === 'vipsthumbnail' ? mb(peakChildKb) : mb(process.resourceUsage().maxRSS),
              baselineRssMb,
              startupMs,
            },
          });
          process.exit(0);
        }
      } catch (error) {
        await send({ error: (error as Error).stack ?? String(error) });
      }
    })();
  });
  await send({ ready: true });
}

if (require.main === module) {
  const [name, threading, sizes, quality] = process.argv.slice(2);
  serve(name as PathName, threading as Threading, sizes.split(',').map(Number), Number(quality)).catch((error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exit(1);
  });
}
