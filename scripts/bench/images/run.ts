import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { declaredConfig } from '../../../shared/config';
import { type BenchImage, corpusTools, ensureCorpus } from './corpus';
import { PATH_DESCRIPTIONS, PATH_NAMES, type PathName } from './paths';
import { mean, median, percentile, round, sum } from './stats';
import { requireTools, TOOLS, vipsVersion } from './tools';
import type { FileTiming, Threading, WorkerReply, WorkerSummary } from './worker';

/**
 * The image benchmark: the three paths on the same files, each path in its own child process per
 * round (so each peak RSS is its own), single-threaded and with default threading. Within a round
 * the three processes take turns file by file (the order rotating), never at the same time, so a
 * noisy neighbour hits every path alike. Ratios are taken within a round (same files, same
 * minute) and the median over rounds is reported.
 */

export const THREADINGS: readonly Threading[] = ['single', 'default'];
export const TARGETS = { ratio_vs_vipsthumbnail: 0.4, ratio_vs_naive: 0.5, peak_rss_mb_50mp: 512 } as const;
export const GROUPS = ['jpeg', 'png', 'webp', 'exif-orientation'] as const;
export type Group = (typeof GROUPS)[number];

export interface ImageBenchOptions {
  rounds?: number;
  threadings?: readonly Threading[];
  /** Skip the 50-megapixel memory runs. */
  skipFiftyMp?: boolean;
  log?: (line: string) => void;
}

export interface PathFigures {
  description: string;
  images: number;
  images_per_s: number;
  ms_p50: number;
  ms_p95: number;
  ms_mean: number;
  /** CPU time of the path's process per image (all threads), mean; null for vipsthumbnail (its work is in child processes). */
  cpu_ms_mean: number | null;
  peak_rss_mb: number;
  /** Node + sharp after a warm-up image, before the first file; null for vipsthumbnail (a C program). */
  baseline_rss_mb: number | null;
  output_kb_per_image: number;
}

export interface ThreadingFigures {
  settings: { UV_THREADPOOL_SIZE: string; VIPS_CONCURRENCY: string; sharp_concurrency: number | null };
  paths: Record<PathName, PathFigures>;
  ratio_vs_vipsthumbnail: number;
  ratio_vs_naive: number;
  ratio_vs_vipsthumbnail_per_round: number[];
  ratio_vs_naive_per_round: number[];
  /** The same ratio in CPU time instead of wall time: what a busy machine disturbs least. */
  ratio_vs_naive_cpu: number;
  /** vipsthumbnail's time minus 3 process start-ups per image: what libvips' work alone costs. */
  ratio_vs_vipsthumbnail_without_startup: number;
  vipsthumbnail_startup_ms: number;
  by_group: Record<Group, { images: number; ratio_vs_vipsthumbnail: number; ratio_vs_naive: number; ms_p50: Record<PathName, number> }>;
}

export interface FiftyMpFigures {
  file: string;
  width: number;
  height: number;
  bytes: number;
  progressive: boolean;
  runs: Record<Threading, Record<PathName, { ms: number; peak_rss_mb: number }>>;
}

export interface ImageBenchResult {
  benchmark: 'thumbnails';
  date: string;
  ratio_vs_vipsthumbnail: number;
  ratio_vs_naive: number;
  peak_rss_mb_50mp: number | null;
  peak_rss_mb_50mp_progressive: number | null;
  /** Our mean time per image, single-threaded, on the wallpapers and photos: the figure `pipeline cost` uses. */
  ms_per_image_mean: number;
  targets: Record<keyof typeof TARGETS, { target: string; single: number | null; default: number | null; met: boolean | null }>;
  machine: { cpus: number; cpu_model: string; node: string; sharp: string; sharp_libvips: string; vipsthumbnail: string; platform: string };
  settings: { sizes: number[]; format: 'webp'; quality: number; rounds: number; images: number; threadings: Threading[] };
  corpus: { label: string; format: string; width: number; height: number; bytes: number; progressive: boolean }[];
  threading: Partial<Record<Threading, ThreadingFigures>>;
  fifty_mp: FiftyMpFigures[];
}

const WORKER = path.join(__dirname, 'worker.ts');

/** The child's environment: the threading variables are the parent's to decide, never inherited. */
export function workerEnv(threading: Threading, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  delete env.UV_THREADPOOL_SIZE;
  delete env.VIPS_CONCURRENCY;
  if (threading === 'single') Object.assign(env, { UV_THREADPOOL_SIZE: '1', VIPS_CONCURRENCY: '1' });
  return env;
}

/** What one path's process did over a round. */
export interface WorkerResult extends WorkerSummary {
  path: PathName;
  threading: Threading;
  files: FileTiming[];
}

export interface WorkerHandle {
  run(file: string): Promise<FileTiming>;
  finish(): Promise<WorkerSummary>;
}

/** Starts one path's process and resolves once it has warmed up. */
export function startWorker(name: PathName, threading: Threading, sizes: readonly number[], quality: number): Promise<WorkerHandle> {
  const child = spawn(
    process.execPath,
    ['--require', require.resolve('tsx/cjs'), WORKER, name, threading, sizes.join(','), String(quality)],
    {
      env: workerEnv(threading),
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const waiting: { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void }[] = [];
  const failed = (why: string) => new Error(`the ${name} worker (${threading}) ${why}${stderr.trim() ? `:\n${stderr.trim()}` : ''}`);
  child.on('message', (reply: WorkerReply) => {
    const next = waiting.shift();
    if (!next) return;
    if ('error' in reply) next.reject(failed(`failed: ${reply.error}`));
    else next.resolve(reply);
  });
  child.on('exit', (code, signal) => {
    for (const next of waiting.splice(0)) next.reject(failed(`exited (${signal ?? `exit ${code}`})`));
  });
  const reply = (message?: object) =>
    new Promise<WorkerReply>((resolve, reject) => {
      waiting.push({ resolve, reject });
      if (message) child.send(message);
    });
  const handle: WorkerHandle = {
    run: async (file) => {
      const answer = await reply({ file });
      if (!('timing' in answer)) throw failed('answered out of turn');
      return answer.timing;
    },
    finish: async () => {
      const answer = await reply({ finish: true });
      if (!('summary' in answer)) throw failed('answered out of turn');
      return answer.summary;
    },
  };
  return reply().then((answer) => {
    if (!('ready' in answer)) throw failed('did not start');
    return handle;
  });
}

/** One round: the three paths' processes take turns on each file, the order rotating with the file and the round. */
async function runRound(
  threading: Threading,
  files: readonly string[],
  round: number,
  sizes: readonly number[],
  quality: number,
): Promise<Record<PathName, WorkerResult>> {
  const workers = await Promise.all(PATH_NAMES.map((name) => startWorker(name, threading, sizes, quality)));
  const timings = PATH_NAMES.map(() => [] as FileTiming[]);
  for (const [i, file] of files.entries()) {
    for (let k = 0; k < PATH_NAMES.length; k++) {
      const index = (i + round + k) % PATH_NAMES.length;
      timings[index].push(await workers[index].run(file));
    }
  }
  const summaries = await Promise.all(workers.map((worker) => worker.finish()));
  return Object.fromEntries(PATH_NAMES.map((name, i) => [name, { path: name, threading, files: timings[i], ...summaries[i] }])) as Record<
    PathName,
    WorkerResult
  >;
}

const groupOf = (image: BenchImage): Group => (image.group === 'exif-orientation' ? 'exif-orientation' : image.format);

/** Time of a path over a set of files in one round. */
const roundTotal = (result: WorkerResult, files: ReadonlySet<string>) =>
  sum(result.files.filter((f) => files.has(f.file)).map((f) => f.ms));

function summarise(runs: Record<PathName, WorkerResult[]>, images: readonly BenchImage[]): ThreadingFigures {
  const all = new Set(images.map((image) => image.file));
  const ratioPerRound = (theirs: PathName, files: ReadonlySet<string>) =>
    runs.ours.map((ours, i) => roundTotal(ours, files) / roundTotal(runs[theirs][i], files));

  const paths = {} as Record<PathName, PathFigures>;
  for (const name of PATH_NAMES) {
    const samples = runs[name].flatMap((result) => result.files.map((f) => f.ms));
    const bytes = runs[name].flatMap((result) => result.files.map((f) => f.bytesOut));
    const baselines = runs[name].map((result) => result.baselineRssMb).filter((value): value is number => value !== null);
    paths[name] = {
      description: PATH_DESCRIPTIONS[name],
      images: images.length,
      images_per_s: round(samples.length / (sum(samples) / 1000), 2),
      ms_p50: round(percentile(samples, 0.5)),
      ms_p95: round(percentile(samples, 0.95)),
      ms_mean: round(mean(samples), 1),
      cpu_ms_mean: name === 'vipsthumbnail' ? null : round(mean(runs[name].flatMap((result) => result.files.map((f) => f.cpuMs ?? 0))), 1),
      peak_rss_mb: round(Math.max(...runs[name].map((result) => result.peakRssMb))),
      baseline_rss_mb: baselines.length > 0 ? round(median(baselines)) : null,
      output_kb_per_image: round(mean(bytes) / 1024, 1),
    };
  }

  const cpuTotal = (result: WorkerResult) => sum(result.files.map((f) => f.cpuMs ?? 0));
  const cpuRatio = median(runs.ours.map((ours, i) => cpuTotal(ours) / cpuTotal(runs.naive[i])));
  const startupMs = median(runs.vipsthumbnail.map((result) => result.startupMs ?? 0));
  const sizes = declaredConfig.thumbnails.sizes.length;
  const withoutStartup = runs.ours.map(
    (ours, i) => roundTotal(ours, all) / (roundTotal(runs.vipsthumbnail[i], all) - startupMs * sizes * all.size),
  );

  const by_group = {} as ThreadingFigures['by_group'];
  for (const group of GROUPS) {
    const members = images.filter((image) => groupOf(image) === group);
    if (members.length === 0) continue;
    const files = new Set(members.map((image) => image.file));
    const p50 = {} as Record<PathName, number>;
    for (const name of PATH_NAMES)
      p50[name] = round(
        percentile(
          runs[name].flatMap((result) => result.files.filter((f) => files.has(f.file)).map((f) => f.ms)),
          0.5,
        ),
      );
    by_group[group] = {
      images: members.length,
      ratio_vs_vipsthumbnail: round(median(ratioPerRound('vipsthumbnail', files)), 3),
      ratio_vs_naive: round(median(ratioPerRound('naive', files)), 3),
      ms_p50: p50,
    };
  }

  const settings = runs.ours[0].settings;
  return {
    settings: {
      UV_THREADPOOL_SIZE: settings.uvThreadpoolSize,
      VIPS_CONCURRENCY: settings.vipsConcurrency,
      sharp_concurrency: settings.sharpConcurrency,
    },
    paths,
    ratio_vs_vipsthumbnail: round(median(ratioPerRound('vipsthumbnail', all)), 3),
    ratio_vs_naive: round(median(ratioPerRound('naive', all)), 3),
    ratio_vs_vipsthumbnail_per_round: ratioPerRound('vipsthumbnail', all).map((ratio) => round(ratio, 3)),
    ratio_vs_naive_per_round: ratioPerRound('naive', all).map((ratio) => round(ratio, 3)),
    ratio_vs_naive_cpu: round(cpuRatio, 3),
    ratio_vs_vipsthumbnail_without_startup: round(median(withoutStartup), 3),
    vipsthumbnail_startup_ms: round(startupMs, 1),
    by_group,
  };
}

export async function runImageBench(options: ImageBenchOptions = {}): Promise<ImageBenchResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const rounds = Math.max(1, options.rounds ?? 3);
  const threadings = [...(options.threadings ?? THREADINGS)];
  requireTools([...corpusTools(), TOOLS.vipsthumbnail]);
  const corpus = await ensureCorpus(log);
  const images = [...corpus.wallpapers, ...corpus.exifOrientation];
  const files = images.map((image) => image.file);
  for (const file of files) readFileSync(file); // into the page cache, so no path pays for the first read
  const { sizes, quality } = declaredConfig.thumbnails;

  log(
    `${images.length} images (${corpus.wallpapers.length} wallpapers, ${corpus.exifOrientation.length} EXIF-orientation photos), sizes ${sizes.join('/')}, WebP q${quality}, ${rounds} round(s), threading: ${threadings.join(', ')}`,
  );
  const runs = Object.fromEntries(
    threadings.map((t) => [t, Object.fromEntries(PATH_NAMES.map((name) => [name, [] as WorkerResult[]]))]),
  ) as Record<Threading, Record<PathName, WorkerResult[]>>;
  for (let r = 0; r < rounds; r++) {
    for (const threading of threadings) {
      const started = performance.now();
      const results = await runRound(threading, files, r, sizes, quality);
      for (const name of PATH_NAMES) runs[threading][name].push(results[name]);
      const took = (name: PathName) => `${name} ${(sum(results[name].files.map((f) => f.ms)) / 1000).toFixed(1)} s`;
      log(
        `  round ${r + 1}/${rounds} ${threading.padEnd(7)} ${((performance.now() - started) / 1000).toFixed(0)} s (${PATH_NAMES.map(took).join(', ')})`,
      );
    }
  }

  const fifty_mp: FiftyMpFigures[] = [];
  if (!options.skipFiftyMp) {
    for (const image of [corpus.fiftyMp, corpus.fiftyMpProgressive]) {
      const figures: FiftyMpFigures = {
        file: image.label,
        width: image.width,
        height: image.height,
        bytes: image.bytes,
        progressive: image.progressive,
        runs: {} as FiftyMpFigures['runs'],
      };
      for (const threading of threadings) {
        figures.runs[threading] = {} as Record<PathName, { ms: number; peak_rss_mb: number }>;
        for (const name of PATH_NAMES) {
          // A fresh process for each: the peak is this file's alone.
          const worker = await startWorker(name, threading, sizes, quality);
          const timing = await worker.run(image.file);
          const summary = await worker.finish();
          figures.runs[threading][name] = { ms: round(timing.ms), peak_rss_mb: round(summary.peakRssMb) };
          log(
            `  50 MP ${image.progressive ? 'progressive' : 'baseline   '} ${threading.padEnd(7)} ${name.padEnd(13)} ${round(timing.ms)} ms, peak RSS ${round(summary.peakRssMb)} MB`,
          );
        }
      }
      fifty_mp.push(figures);
    }
  }

  const threading: ImageBenchResult['threading'] = {};
  for (const t of threadings) threading[t] = summarise(runs[t], images);
  const peakOurs = (progressive: boolean) => {
    const figures = fifty_mp.find((f) => f.progressive === progressive);
    return figures ? Math.max(...threadings.map((t) => figures.runs[t].ours.peak_rss_mb)) : null;
  };
  const primary = threading.single ?? threading.default!;
  const ratioTarget = (key: 'ratio_vs_vipsthumbnail' | 'ratio_vs_naive') => {
    const single = threading.single?.[key] ?? null;
    const dflt = threading.default?.[key] ?? null;
    const measured = [single, dflt].filter((value): value is number => value !== null);
    return { target: `<= ${TARGETS[key]}`, single, default: dflt, met: measured.every((value) => value <= TARGETS[key]) };
  };
  const peak50 = peakOurs(false);
  const rssByThreading = (t: Threading) => {
    const figures = fifty_mp.find((f) => !f.progressive);
    return figures?.runs[t]?.ours.peak_rss_mb ?? null;
  };

  return {
    benchmark: 'thumbnails',
    date: new Date().toISOString(),
    ratio_vs_vipsthumbnail: primary.ratio_vs_vipsthumbnail,
    ratio_vs_naive: primary.ratio_vs_naive,
    peak_rss_mb_50mp: peak50,
    peak_rss_mb_50mp_progressive: peakOurs(true),
    ms_per_image_mean: primary.paths.ours.ms_mean,
    targets: {
      ratio_vs_vipsthumbnail: ratioTarget('ratio_vs_vipsthumbnail'),
      ratio_vs_naive: ratioTarget('ratio_vs_naive'),
      peak_rss_mb_50mp: {
        target: `< ${TARGETS.peak_rss_mb_50mp}`,
        single: rssByThreading('single'),
        default: rssByThreading('default'),
        met: peak50 === null ? null : peak50 < TARGETS.peak_rss_mb_50mp,
      },
    },
    machine: {
      cpus: os.cpus().length,
      cpu_model: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      sharp: sharp.versions.sharp ?? 'unknown',
      sharp_libvips: sharp.versions.vips,
      vipsthumbnail: await vipsVersion(),
      platform: `${process.platform} ${process.arch}`,
    },
    settings: { sizes: [...sizes], format: 'webp', quality, rounds, images: images.length, threadings },
    corpus: images.map(({ label, format, width, height, bytes, progressive }) => ({ label, format, width, height, bytes, progressive })),
    threading,
    fifty_mp,
  };
}
