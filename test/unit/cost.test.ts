import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UsageError } from '../../cli/args';
import { DEFAULT_IMAGES_PER_MONTH, DEFAULT_RESIZE_MS, formatCostReport, parseCostArgs, resizeMsPerImage } from '../../cli/commands/cost';
import { type CostInputs, computeCost, cpuStretch, type PathProfile, rekognitionModerationUsd } from '../../ops/cost';

// The arithmetic is checked on fixed request profiles (a GET and a HEAD, one PUT per output).
const resizeRequests = (sizes: number) => ({ gets: 1, heads: 1, puts: sizes });
const predictRequests = () => ({ gets: 1, heads: 1, puts: 1 });

import { PRICES } from '../../ops/prices';

// Every expected figure below is worked out by hand from the us-east-1 table in ops/prices.ts
// (Lambda $0.20 per million requests, $0.0000133334 / $0.0000166667 per GB-s arm64 / x86_64;
// S3 $0.0004 per 1,000 GET/HEAD and $0.005 per 1,000 PUT; SQS $0.40 and SNS $0.50 per million).

const resize2048: PathProfile = { name: 'resize', msPerImage: 500, memoryMb: 2048, s3: resizeRequests(3) };
const inputs = (overrides: Partial<CostInputs> = {}): CostInputs => ({
  imagesPerMonth: 1_000_000,
  arch: 'arm64',
  freeTier: false,
  imagesPerInvocation: 1,
  paths: [resize2048],
  ...overrides,
});

describe('computeCost', () => {
  test('resize at 2048 MB (a full vCPU), 500 ms, arm64, 1M images, no free tier', () => {
    const report = computeCost(inputs());
    const [resize] = report.paths;
    expect(resize.msPerImageBilled).toBe(500);
    // 1M images x 2 GB x 0.5 s = 1,000,000 GB-s; x $0.0000133334 = $13.3334
    expect(resize.gbSeconds).toBe(1_000_000);
    expect(resize.usd.lambdaDuration).toBeCloseTo(13.3334, 8);
    // 1M invocations x $0.20 / M
    expect(resize.usd.lambdaRequests).toBeCloseTo(0.2, 10);
    // GET + HEAD: 2M x $0.0004 / 1000 = $0.80; 3 PUTs: 3M x $0.005 / 1000 = $15.00
    expect(resize.s3Gets).toBe(2_000_000);
    expect(resize.s3Puts).toBe(3_000_000);
    expect(resize.usd.s3).toBeCloseTo(15.8, 10);
    // SQS: 1 send (SNS delivery) + 1 receive + 1 delete per invocation = 3M x $0.40 / M = $1.20
    expect(resize.sqsRequests).toBe(3_000_000);
    expect(resize.usd.sqs).toBeCloseTo(1.2, 10);
    expect(resize.usd.freeTier).toBe(0);
    // 13.3334 + 0.20 + 15.80 + 1.20
    expect(resize.usd.total).toBeCloseTo(30.5334, 8);
    expect(resize.usdPerMillionImages).toBeCloseTo(30.5334, 8);
    // SNS: 1M publishes x $0.50 / M
    expect(report.fanout.usd.total).toBeCloseTo(0.5, 10);
    expect(report.totalUsd).toBeCloseTo(31.0334, 8);
    expect(report.totalUsdPerMillionImages).toBeCloseTo(31.0334, 8);
  });

  test('below 1,769 MB the measured time is stretched by 1769 / memory (x86_64)', () => {
    expect(cpuStretch(1769)).toBe(1);
    expect(cpuStretch(3008)).toBe(1);
    const report = computeCost(
      inputs({ arch: 'x86_64', paths: [{ name: 'resize', msPerImage: 100, memoryMb: 1024, s3: resizeRequests(3) }] }),
    );
    const [resize] = report.paths;
    // 100 ms x 1769 / 1024 = 172.75390625 ms; x 1 GB x 1M = 172,753.90625 GB-s; x $0.0000166667 = $2.879237529296
    expect(resize.msPerImageBilled).toBe(172.75390625);
    expect(resize.gbSeconds).toBeCloseTo(172_753.90625, 6);
    expect(resize.usd.lambdaDuration).toBeCloseTo(2.879237529296, 9);
  });

  test('ten images per invocation: a tenth of the invocations, receives and deletes', () => {
    const [resize] = computeCost(inputs({ imagesPerInvocation: 10 })).paths;
    expect(resize.invocations).toBe(100_000);
    expect(resize.usd.lambdaRequests).toBeCloseTo(0.02, 10);
    // 1M sends + 100k receives + 100k deletes = 1.2M x $0.40 / M
    expect(resize.sqsRequests).toBe(1_200_000);
    expect(resize.usd.sqs).toBeCloseTo(0.48, 10);
    // duration and S3 do not depend on batching
    expect(resize.usd.lambdaDuration).toBeCloseTo(13.3334, 8);
    expect(resize.usd.s3).toBeCloseTo(15.8, 10);
  });

  test('free tier, one path: 1M requests, 400,000 GB-s, 1M SQS requests and 1M SNS publishes are free', () => {
    const report = computeCost(inputs({ freeTier: true }));
    const [resize] = report.paths;
    // free: $0.20 (requests) + 400,000 x $0.0000133334 = $5.33336 (duration) + 1M x $0.40 / M = $0.40 (SQS)
    expect(resize.usd.freeTier).toBeCloseTo(5.93336, 8);
    // 30.5334 - 5.93336 = 24.60004: 600,000 GB-s ($8.00004) + S3 $15.80 + 2M SQS requests ($0.80)
    expect(resize.usd.total).toBeCloseTo(24.60004, 8);
    expect(report.fanout.usd.total).toBeCloseTo(0, 10);
    expect(report.totalUsd).toBeCloseTo(24.60004, 8);
  });

  test('free tier, two equal paths: each gets half of it', () => {
    const report = computeCost(inputs({ freeTier: true, paths: [resize2048, { ...resize2048, name: 'twin' }] }));
    for (const path of report.paths) {
      // half of $0.20 (1M of 2M requests) + half of $5.33336 (400k of 2M GB-s) + half of $0.40 (1M of 6M SQS requests)
      expect(path.usd.freeTier).toBeCloseTo(0.1 + 2.66668 + 0.2, 8);
      expect(path.usd.total).toBeCloseTo(30.5334 - 2.96668, 8);
    }
    expect(report.totalUsd).toBeCloseTo(2 * (30.5334 - 2.96668), 8);
  });

  test('free tier larger than the use costs nothing, never less', () => {
    const report = computeCost(inputs({ imagesPerMonth: 1000, freeTier: true }));
    const [resize] = report.paths;
    // Lambda and SQS entirely free; S3 remains: 2000 x $0.0004 / 1000 + 3000 x $0.005 / 1000 = $0.0158
    expect(resize.usd.total).toBeCloseTo(0.0158, 10);
    expect(resize.usdPerMillionImages).toBeCloseTo(15.8, 8);
  });

  test('the predict path: GET + HEAD + one PUT', () => {
    const [predict] = computeCost(inputs({ paths: [{ name: 'predict', msPerImage: 100, memoryMb: 2048, s3: predictRequests() }] })).paths;
    // 2M x $0.0004 / 1000 + 1M x $0.005 / 1000
    expect(predict.usd.s3).toBeCloseTo(5.8, 10);
  });

  test('no images: zero everywhere, no NaN', () => {
    const report = computeCost(inputs({ imagesPerMonth: 0, freeTier: true }));
    expect(report.totalUsd).toBe(0);
    expect(report.totalUsdPerMillionImages).toBe(0);
    expect(report.paths[0].usdPerMillionImages).toBe(0);
  });

  test('the price table states its region and date', () => {
    expect(PRICES.region).toBe('us-east-1');
    expect(PRICES.asOf).toMatch(/^\d{4}-\d{2}(-\d{2})?$/);
    expect(computeCost(inputs()).prices.asOf).toBe(PRICES.asOf);
  });
});

describe('pipeline cost arguments', () => {
  test('defaults', () => {
    expect(parseCostArgs([])).toEqual({
      imagesPerMonth: DEFAULT_IMAGES_PER_MONTH,
      arch: 'arm64',
      msPerImage: {},
      imagesPerInvocation: 1,
      freeTier: false,
      json: false,
    });
  });

  test('every option', () => {
    expect(
      parseCostArgs([
        '--images-per-month',
        '2_500_000',
        '--memory=1769',
        '--arch',
        'x86_64',
        '--ms-per-image',
        '87.5',
        '--predict-ms-per-image',
        '40',
        '--images-per-invocation',
        '10',
        '--free-tier',
        '--json',
      ]),
    ).toEqual({
      imagesPerMonth: 2_500_000,
      memoryMb: 1769,
      arch: 'x86_64',
      msPerImage: { resize: 87.5, predict: 40 },
      imagesPerInvocation: 10,
      freeTier: true,
      json: true,
    });
    expect(parseCostArgs(['--help'])).toEqual({ help: true });
  });

  test.each([
    [['--arch', 'arm'], /--arch must be one of arm64, x86_64/],
    [['--images-per-month', '0'], /--images-per-month: expected a whole number above 0/],
    [['--images-per-month', '1.5'], /--images-per-month: expected a whole number above 0/],
    [['--ms-per-image', 'fast'], /--ms-per-image: expected a number above 0, got "fast"/],
    [['--memory', '64'], /128 to 10240/],
    [['--images-per-invocation', '11'], /batch size/],
    [['extra'], /no arguments/],
  ])('%j is refused', (argv, message) => {
    expect(() => parseCostArgs(argv)).toThrow(UsageError);
    expect(() => parseCostArgs(argv)).toThrow(message);
  });
});

describe('the resize time per image', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'cost-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('given beats measured beats the default, and each says where it came from', () => {
    const file = path.join(dir, 'last.json');
    expect(resizeMsPerImage(undefined, file)).toEqual({ ms: DEFAULT_RESIZE_MS, source: expect.stringMatching(/^default/) });
    writeFileSync(file, JSON.stringify({ ms_per_image_mean: 123.4, date: '2025-01-02T03:04:05Z' }));
    expect(resizeMsPerImage(undefined, file)).toEqual({ ms: 123.4, source: expect.stringMatching(/^measured: .*2025-01-02/) });
    expect(resizeMsPerImage(50, file)).toEqual({ ms: 50, source: 'given with --ms-per-image' });
    writeFileSync(file, '{ not json');
    expect(resizeMsPerImage(undefined, file).ms).toBe(DEFAULT_RESIZE_MS);
  });

  test('the table names the price date and the time source', () => {
    const report = computeCost(inputs({ freeTier: true }));
    const text = formatCostReport(report, { resize: { ms: 500, source: 'given' }, predict: { ms: 90, source: 'default' } });
    expect(text).toContain(`as of ${PRICES.asOf}`);
    expect(text).toContain('free tier');
    expect(text).toContain('$24.600');
  });
});

describe('Rekognition DetectModerationLabels, the managed alternative', () => {
  test("priced tier by tier on the month's images", () => {
    expect(rekognitionModerationUsd(0)).toBe(0);
    expect(rekognitionModerationUsd(1_000)).toBeCloseTo(1, 9);
    expect(rekognitionModerationUsd(1_000_000)).toBeCloseTo(1_000, 6);
    // 1M at $0.001, then 1M of the next 4M at $0.0008.
    expect(rekognitionModerationUsd(2_000_000)).toBeCloseTo(1_800, 6);
    // 1M, 4M, 30M, then 5M at $0.00025.
    expect(rekognitionModerationUsd(40_000_000)).toBeCloseTo(1_000 + 3_200 + 18_000 + 1_250, 6);
  });

  test('the table compares it with the predict path', () => {
    const text = formatCostReport(
      computeCost(inputs({ paths: [{ name: 'predict', msPerImage: 100, memoryMb: 2048, s3: predictRequests() }] })),
      {
        predict: { ms: 100, source: 'given' },
      },
    );
    expect(text).toMatch(/^Moderation per million images: the predict path \$[\d.]+; Rekognition DetectModerationLabels \$[\d,.]+$/m);
  });
});
