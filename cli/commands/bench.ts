import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type * as ColdStart from '../../scripts/bench/coldStart';
import type * as E2e from '../../scripts/bench/e2e';
import type * as ImageReport from '../../scripts/bench/images/report';
import type * as ImageRun from '../../scripts/bench/images/run';
import type * as Tools from '../../scripts/bench/images/tools';
import type { Threading } from '../../scripts/bench/images/worker';
import { numberOption, parseArgv, UsageError } from '../args';
import { EXIT, reportFailure } from '../errors';
import type { Output } from '../output';

/**
 * `pipeline bench` (also `npm run bench`): the image benchmark, or with --e2e / --cold-start the
 * other two. The benchmark modules are loaded when the command runs, so other commands never load them.
 */

const THREADINGS: readonly Threading[] = ['single', 'default'];
/** Where the results are kept (git-ignored), beside the fetched images. */
const BENCH_CACHE = path.resolve(__dirname, '..', '..', '.cache', 'bench');

type BenchMode = 'images' | 'e2e' | 'cold-start';

export interface BenchArgs {
  mode: BenchMode;
  json: boolean;
  /** images: rounds of every path (default 3). */
  rounds?: number;
  threadings: Threading[];
  skipFiftyMp: boolean;
  /** e2e: photos through the stack (default 10). */
  photos?: number;
  /** cold-start: fresh processes per measurement (default 9). */
  runs?: number;
  repackage: boolean;
}

export const BENCH_USAGE = `pipeline bench [--json] [--rounds N] [--threading single|default|both] [--no-50mp]
pipeline bench --e2e [--photos N] [--json]
pipeline bench --cold-start [--runs N] [--repackage] [--json]
  Images (default): times, on the same files and sizes (WebP), this project's image path
  (renderThumbnails, as the resize function runs it), libvips' vipsthumbnail (one process per size)
  and a naive sharp pipeline (one full decode per size); prints images/s, ms per image p50/p95,
  peak RSS, and the ratios ours/vipsthumbnail and ours/naive, single-threaded and with default
  threading; then the peak RSS while processing a 50-megapixel JPEG. Fetches Debian's wallpaper
  packages into .cache/bench on first use (apt-get download; no root needed) and needs
  vipsthumbnail (apt-get install libvips-tools). Saves the result in .cache/bench/last.json
  (\`pipeline cost\` reads it).
  --e2e          N photos through the local stack (embedded S3 + SQS on free ports, a temporary
                 state folder): upload -> all thumbnails, against the pure image time of the same photos.
  --cold-start   each function's zip and unzipped size and its handler's init time in a fresh
                 Node process (against \`node -e 0\`); packages with serverless when no zip exists.
  --json         print one JSON object on stdout (progress goes to stderr)
  --rounds N     image rounds (default 3; ratios are medians over rounds)
  --threading T  single (UV_THREADPOOL_SIZE=1, VIPS_CONCURRENCY=1, sharp.concurrency(1)), default, or both (default)
  --no-50mp      skip the 50-megapixel memory runs
  --photos N     e2e photos (default 10, at most 18)
  --runs N       cold-start processes per figure (default 9)
  --repackage    cold-start: package again even when zips exist
  Timings depend on the machine and its load; nothing here is asserted by the test suite.
  Exit code: 0 done, 1 could not run (a missing program is named with its install command), 64 bad arguments.`;

const positiveInteger = (value: string | boolean | undefined, name: string, max?: number) =>
  numberOption(value, name, { integer: true, min: 1, max }, 'bench');

export function parseBenchArgs(argv: readonly string[]): BenchArgs | { help: true } {
  const { positionals, options } = parseArgv(
    argv,
    {
      e2e: 'boolean',
      'cold-start': 'boolean',
      json: 'boolean',
      rounds: 'string',
      threading: 'string',
      'no-50mp': 'boolean',
      photos: 'string',
      runs: 'string',
      repackage: 'boolean',
    },
    'bench',
  );
  if (options.help) return { help: true };
  if (positionals.length > 0) throw new UsageError(`bench takes no arguments, got ${JSON.stringify(positionals[0])}`, 'bench');
  if (options.e2e && options['cold-start']) throw new UsageError('--e2e and --cold-start are separate runs: pick one', 'bench');
  const mode: BenchMode = options.e2e ? 'e2e' : options['cold-start'] ? 'cold-start' : 'images';
  const threading = options.threading ?? 'both';
  if (threading !== 'single' && threading !== 'default' && threading !== 'both') {
    throw new UsageError(`--threading must be single, default or both, got ${JSON.stringify(threading)}`, 'bench');
  }
  const only = (name: string, allowed: BenchMode) => {
    if (options[name] !== undefined && mode !== allowed)
      throw new UsageError(`--${name} applies to ${allowed === 'images' ? 'the image benchmark' : `--${allowed}`}`, 'bench');
  };
  only('rounds', 'images');
  only('threading', 'images');
  only('no-50mp', 'images');
  only('photos', 'e2e');
  only('runs', 'cold-start');
  only('repackage', 'cold-start');
  const rounds = positiveInteger(options.rounds, 'rounds', 20);
  const photos = positiveInteger(options.photos, 'photos', 18);
  const runs = positiveInteger(options.runs, 'runs', 50);
  return {
    mode,
    json: options.json === true,
    ...(rounds !== undefined && { rounds }),
    threadings: threading === 'both' ? [...THREADINGS] : [threading],
    skipFiftyMp: options['no-50mp'] === true,
    ...(photos !== undefined && { photos }),
    ...(runs !== undefined && { runs }),
    repackage: options.repackage === true,
  };
}

/** Where each mode keeps its latest result (git-ignored). */
const LAST_RESULT_FILES: Record<BenchMode, string> = {
  images: path.join(BENCH_CACHE, 'last.json'),
  e2e: path.join(BENCH_CACHE, 'last-e2e.json'),
  'cold-start': path.join(BENCH_CACHE, 'last-cold-start.json'),
};

export async function runBench(args: BenchArgs, output: Output): Promise<number> {
  const log = (line: string) => output.err(line);
  const { MissingToolsError } = require('../../scripts/bench/images/tools') as typeof Tools;
  try {
    let result: object;
    let text: string;
    if (args.mode === 'images') {
      const { runImageBench } = require('../../scripts/bench/images/run') as typeof ImageRun;
      const { imageReport } = require('../../scripts/bench/images/report') as typeof ImageReport;
      const images = await runImageBench({ rounds: args.rounds, threadings: args.threadings, skipFiftyMp: args.skipFiftyMp, log });
      [result, text] = [images, imageReport(images)];
    } else if (args.mode === 'e2e') {
      const { e2eReport, runE2eBench } = require('../../scripts/bench/e2e') as typeof E2e;
      const e2e = await runE2eBench({ photos: args.photos, log });
      [result, text] = [e2e, e2eReport(e2e)];
    } else {
      const { coldStartReport, runColdStart } = require('../../scripts/bench/coldStart') as typeof ColdStart;
      const coldStart = await runColdStart({ runs: args.runs, repackage: args.repackage, log });
      [result, text] = [coldStart, coldStartReport(coldStart)];
    }
    mkdirSync(BENCH_CACHE, { recursive: true });
    writeFileSync(LAST_RESULT_FILES[args.mode], `${JSON.stringify(result, null, 2)}\n`);
    output.out(args.json ? JSON.stringify(result) : text);
    if (!args.json) output.err(`Saved in ${path.relative(process.cwd(), LAST_RESULT_FILES[args.mode]) || LAST_RESULT_FILES[args.mode]}`);
    return EXIT.ok;
  } catch (error) {
    // The missing programs keep their list (one line each, with the install command).
    if (error instanceof MissingToolsError) output.err(error.message);
    else reportFailure(output, 'bench', error, `the ${args.mode === 'images' ? 'image' : args.mode} benchmark failed`);
    return EXIT.failed;
  }
}
