import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../../shared/config';
import { PermanentError } from '../../shared/errors';
import { renderThumbnails } from '../../shared/image/thumbnails';
import { lambdaContext, s3NotificationBody, sqsEvent } from '../helpers/events';
import { CORPUS, type HandlerHarness, startHandlerHarness } from '../helpers/handlerHarness';
import { type ColourSample, EXPECTED, type Expected, PNGSUITE_FAILURES } from '../hostile/expectations';
import { MANIFEST } from '../hostile/generate';

/**
 * Every hostile file through the real resize handler (embedded S3 and SQS over HTTP, batches of
 * 10): each ends as thumbnails that pass the checks below or as a DLQ message with the reason the
 * table expects, and no record is left for a retry. Time and peak RSS are printed, not asserted;
 * `npx tsx test/hostile/measure.ts` gives them per file, each in a fresh process.
 */

const REPO = path.resolve(__dirname, '../..');
const HANDLER = path.join(REPO, 'functions/resize/handler');
const GENERATOR = path.join(REPO, 'test/hostile/generate.ts');
const PNGSUITE = path.join(CORPUS, 'pngsuite');
const config = loadConfig();
const SIZES = config.thumbnails.sizes;
const mb = (kilobytes: number) => Math.round(kilobytes / 1024);
const peakRssMb = () => mb(process.resourceUsage().maxRSS);

type Thumbnails = Extract<Expected, { outcome: 'thumbnails' }>;

let harness: HandlerHarness;
let dir: string;
let files: { name: string; bytes: number; about: string }[];
let failures: string[];
let deadLetters: Map<string, { reason: string; failureClass: string; message: string }>;
const report: string[] = [];

const keyOf = (name: string) => `hostile/${name}`;

beforeAll(async () => {
  const rssBefore = peakRssMb();
  dir = mkdtempSync(path.join(tmpdir(), 'hostile-'));
  let started = performance.now();
  // In a child process: encoding the 48 MP JPEG alone takes ~300 MB, which is the generator's, not the pipeline's.
  const generated = spawnSync(process.execPath, ['--import', 'tsx', GENERATOR, dir], { cwd: REPO, encoding: 'utf8' });
  if (generated.status !== 0) throw new Error(`the generator failed: ${generated.stderr}`);
  files = JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8'));
  report.push(`generated ${files.length} hostile files in ${Math.round(performance.now() - started)} ms (child process)`);

  harness = await startHandlerHarness();
  const handler = harness.loadHandler(HANDLER);
  const bodies: string[] = [];
  for (const file of files) {
    const key = keyOf(file.name);
    bodies.push(
      s3NotificationBody({
        bucket: 'uploads',
        key,
        eTag: await harness.put(key, readFileSync(path.join(dir, file.name))),
        size: file.bytes,
      }),
    );
  }

  const rssUploaded = peakRssMb();
  failures = [];
  const batchTimes: string[] = [];
  started = performance.now();
  for (let i = 0; i < bodies.length; i += 10) {
    const batchStarted = performance.now();
    const response = await handler(sqsEvent(...bodies.slice(i, i + 10)), lambdaContext());
    batchTimes.push(`${Math.round(performance.now() - batchStarted)} ms/${peakRssMb()} MB`);
    failures.push(...response.batchItemFailures.map((failure) => failure.itemIdentifier));
  }
  report.push(
    `resize handler: ${files.length} records in ${batchTimes.length} batches of 10, ${Math.round(performance.now() - started)} ms; ` +
      `each batch's time and the peak RSS after it: ${batchTimes.join(', ')}`,
  );
  report.push(
    `peak RSS of this process (process.resourceUsage().maxRSS): ${rssBefore} MB before the suite, ${rssUploaded} MB after generating and uploading, ${peakRssMb()} MB after the handler run`,
  );

  deadLetters = new Map(
    (await harness.drain(harness.servers.queueUrls.resizeDlq)).map((message) => {
      const attributes = message.MessageAttributes!;
      return [
        attributes.sourceKey.StringValue!,
        {
          reason: attributes.reason.StringValue!,
          failureClass: attributes.failureClass.StringValue!,
          message: attributes.errorMessage.StringValue!,
        },
      ];
    }),
  );
}, 180000);

afterAll(async () => {
  console.log(`Hostile-input suite\n  ${report.join('\n  ')}`);
  await harness?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('every hostile file has an expected outcome, and every expectation a file', () => {
  expect(files.map((file) => file.name).sort()).toEqual(Object.keys(EXPECTED).sort());
});

test('no record is left to retry: every outcome is final', () => {
  expect(failures).toEqual([]);
});

test('every file ended as thumbnails or as a DLQ message, not both and not neither', async () => {
  const thumbnailKeys = new Set(await harness.list('thumbnails'));
  const neither = files.filter((file) => !deadLetters.has(keyOf(file.name)) && !thumbnailKeys.has(`${SIZES[0]}/${keyOf(file.name)}.webp`));
  const both = files.filter((file) => deadLetters.has(keyOf(file.name)) && thumbnailKeys.has(`${SIZES[0]}/${keyOf(file.name)}.webp`));
  expect({ neither: neither.map((file) => file.name), both: both.map((file) => file.name) }).toEqual({ neither: [], both: [] });
});

const refused = Object.entries(EXPECTED).filter(([, expected]) => expected.outcome === 'failure') as [
  string,
  Extract<Expected, { outcome: 'failure' }>,
][];
const accepted = Object.entries(EXPECTED).filter(([, expected]) => expected.outcome === 'thumbnails') as [string, Thumbnails][];

test.each(refused)('%s is a permanent failure in the DLQ with its reason', async (name, expected) => {
  const letter = deadLetters.get(keyOf(name));
  expect({ reason: letter?.reason, failureClass: letter?.failureClass }).toEqual({ reason: expected.reason, failureClass: 'permanent' });
  for (const size of SIZES) expect(await harness.exists('thumbnails', `${size}/${keyOf(name)}.webp`)).toBe(false);
});

/** Fits (width, height) in a size x size box without enlarging, rounding as a reader would. */
function fitted([width, height]: readonly [number, number], size: number): [number, number] {
  const scale = Math.min(1, size / Math.max(width, height));
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

async function sampleColours(image: Buffer, samples: ColourSample[]) {
  const { data, info } = await sharp(image).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return samples.map((sample) => {
    const x = Math.min(info.width - 1, Math.floor(sample.at[0] * info.width));
    const y = Math.min(info.height - 1, Math.floor(sample.at[1] * info.height));
    const offset = (y * info.width + x) * 4;
    return [...data.subarray(offset, offset + 4)];
  });
}

function colourProblems(samples: ColourSample[], found: number[][]): string[] {
  const problems: string[] = [];
  samples.forEach((sample, i) => {
    const [r, g, b, a] = found[i];
    const tolerance = sample.tolerance ?? 8;
    const where = `at ${sample.at.map((f) => f.toFixed(2)).join(',')} found rgba(${found[i].join(',')})`;
    if (sample.rgb?.some((value, c) => Math.abs(value - found[i][c]) > tolerance))
      problems.push(`${where}, expected rgb(${sample.rgb.join(',')}) ±${tolerance}`);
    if (sample.alpha !== undefined && Math.abs(sample.alpha - a) > tolerance)
      problems.push(`${where}, expected alpha ${sample.alpha} ±${tolerance}`);
    if (sample.dominant) {
      const channels = { r, g, b };
      const others = (['r', 'g', 'b'] as const).filter((c) => c !== sample.dominant).map((c) => channels[c]);
      if (channels[sample.dominant] - Math.max(...others) < 60) problems.push(`${where}, expected ${sample.dominant} to dominate by 60`);
    }
  });
  return problems;
}

test.each(accepted)('%s becomes correct thumbnails', async (name, expected) => {
  expect(deadLetters.get(keyOf(name))).toBeUndefined();
  for (const size of SIZES) {
    const { data, contentType, metadata: s3Metadata } = await harness.get('thumbnails', `${size}/${keyOf(name)}.webp`);
    const meta = await sharp(data).metadata();
    const [width, height] = fitted(expected.upright, size);
    expect({
      contentType,
      format: meta.format,
      space: meta.space,
      depth: meta.depth,
      width: meta.width,
      height: meta.height,
      hasAlpha: meta.hasAlpha,
      exif: meta.exif,
      icc: meta.icc,
      xmp: meta.xmp,
      orientation: meta.orientation,
    }).toEqual({
      contentType: 'image/webp',
      format: 'webp',
      space: 'srgb',
      depth: 'uchar',
      width,
      height,
      hasAlpha: expected.alpha ?? false,
      exif: undefined,
      icc: undefined,
      xmp: undefined,
      orientation: undefined,
    });
    expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(size);
    expect(meta.width! <= expected.upright[0] && meta.height! <= expected.upright[1]).toBe(true); // never enlarged
    expect(s3Metadata).toMatchObject({ width: String(width), height: String(height) });
    if (size === Math.max(...SIZES) && expected.samples?.length) {
      expect(colourProblems(expected.samples, await sampleColours(data, expected.samples))).toEqual([]);
    }
  }
});

test('the long, thin images are thumbnailed to 1 pixel across, never enlarged', () => {
  expect(SIZES.map((size) => fitted([20000, 1], size))).toEqual(SIZES.map((size) => [size, 1]));
  expect(SIZES.map((size) => fitted([1, 1], size))).toEqual(SIZES.map(() => [1, 1]));
});

test('the P3 source really is tagged Display P3, so the sRGB output proves a conversion', async () => {
  const data = readFileSync(path.join(dir, 'jpeg/display-p3.jpg'));
  const { icc } = await sharp(data).metadata();
  const description = icc!.toString('latin1').replace(/[^\x20-\x7e]/g, '');
  expect(description).toMatch(/P3/);
  // Read without colour management, the stored values are the P3 ones the expectation converts.
  const stored = await sharp(data).keepIccProfile().raw().toBuffer();
  expect([...stored.subarray(0, 3)].map((v) => Math.round(v / 8))).toEqual([0, 32, 0]);
});

describe('PngSuite through renderThumbnails', () => {
  const names = readdirSync(PNGSUITE)
    .filter((name) => name.endsWith('.png'))
    .sort();
  const outcomes = new Map<string, { reason?: string; sizes?: [number, number][] }>();

  beforeAll(async () => {
    const before = peakRssMb();
    const started = performance.now();
    for (const name of names) {
      try {
        const rendered = await renderThumbnails(readFileSync(path.join(PNGSUITE, name)), config.thumbnails, config.limits);
        outcomes.set(name, { sizes: rendered.thumbnails.map((thumbnail) => [thumbnail.width, thumbnail.height]) });
      } catch (error) {
        outcomes.set(name, { reason: error instanceof PermanentError ? error.reason : `threw ${String(error)}` });
      }
    }
    report.push(
      `PngSuite: ${names.length} files through renderThumbnails in ${Math.round(performance.now() - started)} ms; peak RSS ${before} MB before, ${peakRssMb()} MB after`,
    );
  }, 60000);

  test('has its broken files, each with an expected reason', () => {
    expect(names.filter((name) => name.startsWith('x'))).toEqual(Object.keys(PNGSUITE_FAILURES).sort());
  });

  test.each(names.filter((name) => name.startsWith('x')))('%s is refused with its reason', (name) => {
    expect(outcomes.get(name)).toEqual({ reason: PNGSUITE_FAILURES[name] });
  });

  test.each(names.filter((name) => !name.startsWith('x')))('%s becomes thumbnails of its own size or smaller', async (name) => {
    const source = await sharp(path.join(PNGSUITE, name)).metadata();
    expect(outcomes.get(name)).toEqual({ sizes: SIZES.map((size) => fitted([source.width!, source.height!], size)) });
  });
});
