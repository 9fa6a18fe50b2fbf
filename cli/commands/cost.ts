import { readFileSync } from 'node:fs';
import path from 'node:path';
import { functionNamed, type QueueFunction, queueFunctions } from '../../functions/registry';
import { type CostReport, computeCost, rekognitionModerationUsd } from '../../ops/cost';
import { ARCHS, type Arch, PRICES } from '../../ops/prices';
import { type ReconcileCost, reconcileCost } from '../../ops/reconcileCost';
import { declaredConfig } from '../../shared/config';
import { numberOption, parseArgv, UsageError } from '../args';
import type { Output } from '../output';

/** `pipeline cost`: monthly AWS cost of the resize and predict paths from a time per image and the price table. */

/** Where `npm run bench` leaves its latest image result. */
const LAST_BENCH_FILE = path.resolve(__dirname, '..', '..', '.cache', 'bench', 'last.json');
const FUNCTIONS = queueFunctions();
const RESIZE = functionNamed('resize', FUNCTIONS);
/** Without a benchmark result: the registry's figure for the resize function. */
export const DEFAULT_RESIZE_MS = RESIZE.cost.defaultMsPerImage.ms;
/** The option that gives a function's time per image: `--ms-per-image` for resize (what the benchmark measures), `--<name>-ms-per-image` for the others. */
const msFlag = (fn: QueueFunction) => (fn === RESIZE ? 'ms-per-image' : `${fn.name}-ms-per-image`);
export const DEFAULT_IMAGES_PER_MONTH = 1_000_000;

export interface CostArgs {
  imagesPerMonth: number;
  /** Both functions' memory; default each function's memoryMb in pipeline.config.json. */
  memoryMb?: number;
  arch: Arch;
  /** Times per image given on the command line, by function name. */
  msPerImage: Record<string, number>;
  imagesPerInvocation: number;
  freeTier: boolean;
  json: boolean;
}

export const COST_USAGE = `pipeline cost [--images-per-month N] [--memory MB] [--arch arm64|x86_64] [--<function>-ms-per-image X] [--free-tier] [--json]
  Monthly AWS cost (${PRICES.region} list prices as of ${PRICES.asOf}, from ops/prices.ts) of the resize and
  predict paths, and the cost per million images: Lambda requests and GB-seconds, S3 requests
  (resize: GET + HEAD + ${declaredConfig.thumbnails.sizes.length} PUTs per image; predict: GET + HEAD + PUT), SQS requests, and
  the SNS publish that fans each upload out. Storage, transfer, logs and traces are not counted.
  --images-per-month N        uploads a month (default ${DEFAULT_IMAGES_PER_MONTH.toLocaleString('en-US')})
  --memory MB                 memory of both functions (default: pipeline.config.json, resize ${declaredConfig.functions.resize.memoryMb}, predict ${declaredConfig.functions.predict.memoryMb})
  --arch A                    arm64 (default, as serverless.yml) or x86_64
  --ms-per-image X            resize time per image on one full core; default: the last \`npm run bench\`
                              (.cache/bench/last.json, our mean, single-threaded), else ${DEFAULT_RESIZE_MS} ms
${FUNCTIONS.filter((fn) => fn !== RESIZE)
  .map(
    (fn) =>
      `  --${`${msFlag(fn)} X`.padEnd(26)}${fn.name} time per image on one full core (${fn.cost.defaultMsPerImage.source}: ${fn.cost.defaultMsPerImage.ms} ms)`,
  )
  .join('\n')}
  --images-per-invocation N   images per Lambda invocation (SQS batch; default 1, the costliest case)
  --free-tier                 take the monthly free tier off (Lambda, SQS, SNS; S3's is not perpetual)
  --json                      print one JSON object instead of the table
  Below 1,769 MB a function gets that fraction of a vCPU, so the billed time is the measured time
  x 1769 / memory. Exit code: 0 printed, 1 failed, 64 bad arguments.`;

const positive = (value: string | boolean | undefined, name: string, integer: boolean) =>
  numberOption(value, name, { integer, above: 0 }, 'cost');

export function parseCostArgs(argv: readonly string[]): CostArgs | { help: true } {
  const { positionals, options } = parseArgv(
    argv,
    {
      'images-per-month': 'string',
      memory: 'string',
      arch: 'string',
      ...Object.fromEntries(FUNCTIONS.map((fn) => [msFlag(fn), 'string' as const])),
      'images-per-invocation': 'string',
      'free-tier': 'boolean',
      json: 'boolean',
    },
    'cost',
  );
  if (options.help) return { help: true };
  if (positionals.length > 0) throw new UsageError(`cost takes no arguments, got ${JSON.stringify(positionals[0])}`, 'cost');
  const arch = options.arch ?? 'arm64';
  if (!(ARCHS as readonly unknown[]).includes(arch))
    throw new UsageError(`--arch must be one of ${ARCHS.join(', ')}, got ${JSON.stringify(arch)}`, 'cost');
  const memoryMb = positive(options.memory, 'memory', true);
  if (memoryMb !== undefined && (memoryMb < 128 || memoryMb > 10240)) {
    throw new UsageError(`--memory must be from 128 to 10240 MB (Lambda's range), got ${memoryMb}`, 'cost');
  }
  const invocation = positive(options['images-per-invocation'], 'images-per-invocation', true) ?? 1;
  if (invocation > declaredConfig.functions.resize.batchSize) {
    throw new UsageError(
      `--images-per-invocation cannot exceed the batch size (${declaredConfig.functions.resize.batchSize}), got ${invocation}`,
      'cost',
    );
  }
  return {
    imagesPerMonth: positive(options['images-per-month'], 'images-per-month', true) ?? DEFAULT_IMAGES_PER_MONTH,
    ...(memoryMb !== undefined && { memoryMb }),
    arch: arch as Arch,
    msPerImage: Object.fromEntries(
      FUNCTIONS.flatMap((fn) => {
        const ms = positive(options[msFlag(fn)], msFlag(fn), false);
        return ms === undefined ? [] : [[fn.name, ms]];
      }),
    ),
    imagesPerInvocation: invocation,
    freeTier: options['free-tier'] === true,
    json: options.json === true,
  };
}

export interface MsSource {
  ms: number;
  source: string;
}

/** The resize time per image: given, else the last benchmark's, else the default; and where it came from. */
export function resizeMsPerImage(given: number | undefined, lastBenchFile = LAST_BENCH_FILE): MsSource {
  if (given !== undefined) return { ms: given, source: 'given with --ms-per-image' };
  try {
    const last = JSON.parse(readFileSync(lastBenchFile, 'utf8')) as { ms_per_image_mean?: unknown; date?: unknown };
    if (typeof last.ms_per_image_mean === 'number' && last.ms_per_image_mean > 0) {
      return {
        ms: last.ms_per_image_mean,
        source: `measured: .cache/bench/last.json of ${String(last.date).slice(0, 10)} (our mean, single-threaded)`,
      };
    }
  } catch {
    // no benchmark run yet (or an unreadable file): fall back to the default
  }
  return { ms: DEFAULT_RESIZE_MS, source: `${RESIZE.cost.defaultMsPerImage.source}; no .cache/bench/last.json` };
}

const usd = (value: number) => {
  const digits = Math.abs(value) >= 100 ? 2 : Math.abs(value) >= 1 ? 3 : 4;
  const text = `$${Math.abs(value).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })}`;
  return value < 0 ? `-${text}` : text;
};
const count = (value: number) => Math.round(value).toLocaleString('en-US');

export function formatCostReport(report: CostReport, sources: Record<string, MsSource>): string {
  const { inputs, paths, fanout } = report;
  const columns = [...paths.map((p) => p.name), 'fan-out', 'total'];
  const width = 14;
  const row = (label: string, cells: string[]) => `  ${label.padEnd(28)}${cells.map((cell) => cell.padStart(width)).join('')}`;
  const perPath = (pick: (p: CostReport['paths'][number]) => string, fan = '', total = '') => [...paths.map(pick), fan, total];
  const lines = [
    `Monthly cost of ${count(inputs.imagesPerMonth)} images, ${inputs.arch}, ${inputs.imagesPerInvocation} image(s) per invocation${inputs.freeTier ? ', free tier taken off' : ''}`,
    `Prices: ${report.prices.region} list prices as of ${report.prices.asOf}, ops/prices.ts (${report.prices.source})`,
    `Time per image: ${Object.entries(sources)
      .map(([name, source]) => `${name} ${source.ms.toFixed(1)} ms, ${source.source}`)
      .join('; ')}`,
    '',
    row('', columns),
    row(
      'memory MB',
      perPath((p) => String(p.memoryMb)),
    ),
    row(
      'ms per image, one core',
      perPath((p) => p.msPerImageMeasured.toFixed(1)),
    ),
    row(
      'ms per image, billed',
      perPath((p) => p.msPerImageBilled.toFixed(1)),
    ),
    row(
      'GB-seconds',
      perPath((p) => count(p.gbSeconds)),
    ),
    row(
      'Lambda requests',
      perPath((p) => usd(p.usd.lambdaRequests)),
    ),
    row(
      'Lambda duration',
      perPath((p) => usd(p.usd.lambdaDuration)),
    ),
    row(
      'S3 requests',
      perPath((p) => usd(p.usd.s3)),
    ),
    row(
      'SQS requests',
      perPath((p) => usd(p.usd.sqs)),
    ),
    row(
      'SNS publishes',
      perPath(() => '', usd(fanout.usd.sns)),
    ),
    ...(inputs.freeTier
      ? [
          row(
            'free tier',
            perPath((p) => usd(-p.usd.freeTier), usd(-fanout.usd.freeTier)),
          ),
        ]
      : []),
    row(
      'monthly',
      perPath((p) => usd(p.usd.total), usd(fanout.usd.total), usd(report.totalUsd)),
    ),
    row(
      'per million images',
      perPath(
        (p) => usd(p.usdPerMillionImages),
        usd(inputs.imagesPerMonth > 0 ? (fanout.usd.total / inputs.imagesPerMonth) * 1e6 : 0),
        usd(report.totalUsdPerMillionImages),
      ),
    ),
    '',
    ...moderationLines(report),
    '',
    `Billed ms = measured ms x max(1, 1769 / memory MB): below 1,769 MB Lambda gives a fraction of a vCPU. The measured figures are`,
    `from this machine's CPU (not Graviton/Lambda's) and leave out the S3 transfer time, which Lambda bills too.`,
    `Not counted: S3 storage and transfer, CloudWatch Logs and metrics, X-Ray traces, KMS, empty SQS polls, retries, Lambda INIT time.`,
  ];
  return lines.join('\n');
}

/** The predict path (which moderates every upload) next to Rekognition DetectModerationLabels at the same volume. */
function moderationLines(report: CostReport): string[] {
  const images = report.inputs.imagesPerMonth;
  const predict = report.paths.find((p) => p.name === 'predict');
  if (!predict || images === 0) return [];
  const rekognition = (rekognitionModerationUsd(images) / images) * 1e6;
  return [
    `Moderation per million images: the predict path ${usd(predict.usdPerMillionImages)}; Rekognition DetectModerationLabels ${usd(rekognition)}`,
    `  at ${count(images)} images a month (its tiered list price as of ${report.prices.asOf}), ${(rekognition / Math.max(predict.usdPerMillionImages, 1e-9)).toFixed(0)}x the predict path.`,
  ];
}

/** Assumed Lambda time of the reconciler: 16 parallel HEADs of ~30 ms, so ~2 ms per upload, plus a second per run (checkpoint, DLQ peek). */
const RECONCILE_TIME = { msPerObject: 2, fixedMsPerRun: 1000 };

/** One full reconciler pass over 1 M and 10 M uploads, with pipeline.config.json's reconcile settings. */
export function reconcilerCosts(arch: Arch) {
  const settings = declaredConfig.reconcile;
  const writers = FUNCTIONS.filter((fn) => fn.outputs.length > 0);
  return [1_000_000, 10_000_000].map((objects) =>
    reconcileCost({
      objects,
      maxObjectsPerRun: settings.maxObjectsPerRun,
      pageSize: settings.pageSize,
      outputFolders: declaredConfig.thumbnails.sizes.length + 1,
      families: writers.flatMap((fn) => fn.outputs).length,
      queues: writers.length,
      memoryMb: declaredConfig.functions.reconcile.memoryMb,
      rateMinutes: settings.rateMinutes,
      arch,
      ...RECONCILE_TIME,
    }),
  );
}

export function formatReconcilerCost(costs: readonly ReconcileCost[]): string {
  const { maxObjectsPerRun, pageSize, rateMinutes } = declaredConfig.reconcile;
  return [
    `Reconciler (scheduled audit + repair), one full pass over the uploads bucket:`,
    ...costs.map(
      (c) =>
        `  ${count(c.objects).padStart(10)} uploads: ${count(c.runsPerPass)} run(s), ${c.hoursPerPass.toFixed(0)} h at one run every ${rateMinutes} min; ` +
        `${count(c.lists)} LISTs ${usd((c.lists / 1000) * PRICES.s3.putPerThousand)}, ${count(c.heads)} HEADs ${usd((c.heads / 1000) * PRICES.s3.getPerThousand)}, ` +
        `${count(c.gbSeconds)} GB-s ${usd(c.usd.lambda)}, ${count(c.sqsRequests)} SQS ${usd(c.usd.sqs)}, ${count(c.ssmCalls)} SSM calls ${usd(c.usd.ssm)}; ` +
        `total ${usd(c.usd.total)}, ${usd(c.usdPerRun)} per run`,
    ),
    `  Assumptions: ${count(maxObjectsPerRun)} uploads per run, ${pageSize} per page; LISTs = uploads/${pageSize} x (1 + one per output folder);`,
    `  one HEAD per upload and output family (the upper bound: only complete families' markers are HEADed);`,
    `  Lambda ${RECONCILE_TIME.msPerObject} ms per upload + ${RECONCILE_TIME.fixedMsPerRun} ms per run at ${declaredConfig.functions.reconcile.memoryMb} MB; SSM: a Get and a Put per run, Standard tier (free);`,
    `  repairs and DLQ reads not counted (they scale with what is broken). A pass starts again as soon as one ends, so a month`,
    `  (${count((30 * 24 * 60) / rateMinutes)} runs) costs about ${costs.map((c) => `${usd(c.usdPerRun * ((30 * 24 * 60) / rateMinutes) * Math.min(1, c.objects / maxObjectsPerRun))} at ${count(c.objects)}`).join(', ')} uploads; raise rateMinutes or lower maxObjectsPerRun to spend less.`,
  ].join('\n');
}

/** A function's time per image: given, else (resize) the last benchmark's, else the registry's default. */
function msPerImageOf(fn: QueueFunction, args: CostArgs): MsSource {
  const given = args.msPerImage[fn.name];
  if (fn === RESIZE) return resizeMsPerImage(given);
  return given !== undefined ? { ms: given, source: `given with --${msFlag(fn)}` } : fn.cost.defaultMsPerImage;
}

export async function runCost(args: CostArgs, output: Output): Promise<number> {
  const sources = Object.fromEntries(FUNCTIONS.map((fn) => [fn.name, msPerImageOf(fn, args)]));
  const report = computeCost({
    imagesPerMonth: args.imagesPerMonth,
    arch: args.arch,
    freeTier: args.freeTier,
    imagesPerInvocation: args.imagesPerInvocation,
    paths: FUNCTIONS.map((fn) => ({
      name: fn.name,
      msPerImage: sources[fn.name].ms,
      memoryMb: args.memoryMb ?? fn.settings.memoryMb,
      s3: fn.cost.s3RequestsPerImage(declaredConfig.thumbnails.sizes.length),
    })),
  });
  const reconciler = reconcilerCosts(args.arch);
  output.out(
    args.json
      ? JSON.stringify({ ...report, sources, reconciler }, null, 2)
      : `${formatCostReport(report, sources)}\n\n${formatReconcilerCost(reconciler)}`,
  );
  return 0;
}
