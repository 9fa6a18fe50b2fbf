import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { lambdaContext, s3NotificationBody, sqsEvent } from '../helpers/events';
import { CORPUS, type HandlerHarness, startHandlerHarness } from '../helpers/handlerHarness';

const HANDLER = path.resolve(__dirname, '../../functions/resize/handler');
const SUITE = path.join(CORPUS, 'pngsuite');
const files = readdirSync(SUITE).filter((name) => name.endsWith('.png'));
const corrupt = files.filter((name) => name.startsWith('x'));
const valid = files.filter((name) => !name.startsWith('x'));
const PERMANENT_REASONS = ['not-an-image', 'corrupt', 'unsupported-format'];

let harness: HandlerHarness;
let failures: string[];
let deadLetters: Map<string, string>;

beforeAll(async () => {
  harness = await startHandlerHarness();
  const handler = harness.loadHandler(HANDLER);
  const bodies: string[] = [];
  for (const name of files) {
    const data = readFileSync(path.join(SUITE, name));
    bodies.push(
      s3NotificationBody({
        bucket: 'uploads',
        key: `pngsuite/${name}`,
        eTag: await harness.put(`pngsuite/${name}`, data),
        size: data.length,
      }),
    );
  }
  failures = [];
  for (let i = 0; i < bodies.length; i += 10) {
    const response = await handler(sqsEvent(...bodies.slice(i, i + 10)), lambdaContext());
    failures.push(...response.batchItemFailures.map((failure) => failure.itemIdentifier));
  }
  deadLetters = new Map(
    (await harness.drain(harness.servers.queueUrls.resizeDlq)).map((message) => [
      message.MessageAttributes!.sourceKey.StringValue!,
      message.MessageAttributes!.reason.StringValue!,
    ]),
  );
}, 120000);
afterAll(() => harness.close());

test('no record of the suite is left to retry: every outcome is final', () => {
  expect(failures).toEqual([]);
});

test('the corpus has its corrupt files', () => {
  expect(corrupt.length).toBeGreaterThanOrEqual(14);
});

test.each(corrupt)('%s is a permanent failure in the DLQ with a reason', async (name) => {
  expect(PERMANENT_REASONS).toContain(deadLetters.get(`pngsuite/${name}`));
  expect(await harness.exists('thumbnails', `256/pngsuite/${name}.webp`)).toBe(false);
});

test.each(valid)('%s becomes a decodable sRGB WebP thumbnail', async (name) => {
  expect(deadLetters.has(`pngsuite/${name}`)).toBe(false);
  const { data } = await harness.get('thumbnails', `256/pngsuite/${name}.webp`);
  const [source, thumbnail] = await Promise.all([sharp(readFileSync(path.join(SUITE, name))).metadata(), sharp(data).metadata()]);
  expect(thumbnail.format).toBe('webp');
  expect(thumbnail.space).toBe('srgb');
  expect([thumbnail.width, thumbnail.height]).toEqual([source.width, source.height]);
});
