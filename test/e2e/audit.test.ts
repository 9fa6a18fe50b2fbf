import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { AuditReport } from '../../shared/operations/audit';
import { startTestStack, type TestStack } from '../helpers/localStack';

/**
 * `pipeline audit` as an operator runs it (a child process) against the whole local pipeline with
 * the real resize function. The predict function is a stand-in that acknowledges every message
 * and writes nothing: the repository has no model to load yet, and the real function would retry
 * for maxReceiveCount x the visibility timeout. So the thumbnails are audited from real outputs,
 * and the prediction family is seen reported as absent.
 */

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'pipeline.js');
const photo = readFileSync(path.join(ROOT, 'events', 'samples', 'landscape.jpg'));
const SIZES = [1024, 512, 256];

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack({ seed: false, batchWindowSeconds: 0, handlers: { predict: async () => ({ batchItemFailures: [] }) } });
});
afterAll(async () => {
  await t?.stop();
});

async function pipeline(args: string[]) {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    S3_PORT: String(t.ports.s3Port),
    SQS_PORT: String(t.ports.sqsPort),
    // The audit also compares the stack's catalogue table (dynalite).
    DYNAMODB_PORT: String(t.ports.dynamodbPort),
  };
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

async function depth(queueUrl: string) {
  const names = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] as const;
  const { Attributes = {} } = await t.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [...names] }));
  return names.reduce((sum, name) => sum + Number(Attributes[name]), 0);
}

const thumbnail = (size: number, key: string) => `${size}/${key}.webp`;
const hasThumbnails = async (key: string) =>
  (await Promise.all(SIZES.map((size) => t.exists('thumbnails', thumbnail(size, key))))).every(Boolean);
const removeThumbnail = (size: number, key: string) =>
  t.s3.send(new DeleteObjectCommand({ Bucket: 'thumbnails', Key: thumbnail(size, key) }));

const summaryOf = (report: AuditReport) => report.entries.map((entry) => [entry.key, entry.status]);

// Four child processes and three waits: a timeout generous for a loaded machine, and still well
// inside the default grace period (120 s) that the young-upload audit relies on.
test('audit reports exactly the upload whose outputs were lost, and is clean once it is processed again', async () => {
  await t.put('audit/good.jpg', photo);
  await t.put('audit/poison.jpg', Buffer.from('<html>not an image</html>\n'));
  await t.put('audit/broken.jpg', photo);
  await t.waitFor(async () => (await hasThumbnails('audit/good.jpg')) && (await hasThumbnails('audit/broken.jpg')), 45_000, 'thumbnails');
  // The audit of every family below reports a prediction as pending, not missing, while the predict
  // queue still holds its message: that queue has its own poller, so it must be empty as well.
  await t.waitFor(
    async () =>
      (await depth(t.queueUrls.resizeDlq)) === 1 && (await depth(t.queueUrls.resize)) === 0 && (await depth(t.queueUrls.predict)) === 0,
    45_000,
    'the poison image in the resize DLQ, and empty resize and predict queues',
  );

  // An operator (or a bug) loses one thumbnail of one upload.
  await removeThumbnail(256, 'audit/broken.jpg');

  const broken = await pipeline(['audit', '--outputs', 'thumbnails', '--grace-seconds', '0', '--json']);
  expect(broken.code).toBe(1);
  const report: AuditReport = JSON.parse(broken.stdout);
  expect(report.summary).toEqual({ uploads: 3, complete: 1, 'dead-lettered': 1, pending: 0, missing: 1 });
  expect(summaryOf(report)).toEqual([
    ['audit/broken.jpg', 'missing'],
    ['audit/poison.jpg', 'dead-lettered'],
  ]);
  expect(report.entries[0].families).toEqual([{ family: 'thumbnails', status: 'missing', detail: 'no 256/audit/broken.jpg.webp' }]);
  expect(report.entries[1].families[0]).toMatchObject({ detail: 'resize DLQ: not-an-image' });

  // Predictions are part of the outputs by default: the stand-in wrote none, and nothing dead-lettered them.
  const all = await pipeline(['audit', '--grace-seconds', '0']);
  expect(all.code).toBe(1);
  expect(all.stdout).toMatch(/complete 0, dead-lettered 0, pending 0, missing 3/);
  expect(all.stdout).toMatch(/^MISSING\s.*audit\/good\.jpg\s+prediction: no predictions\/audit\/good\.jpg\.json$/m);
  // Within the default grace period the same uploads are in flight, not lost.
  const young = await pipeline(['audit', '--json']);
  expect(young.code).toBe(0);
  expect((JSON.parse(young.stdout) as AuditReport).summary).toMatchObject({ pending: 3, missing: 0 });

  // Processing it again: the largest thumbnail is the resize function's proof of a finished run, so
  // it goes too (else the new event is skipped as a duplicate), and the object is uploaded again.
  await removeThumbnail(1024, 'audit/broken.jpg');
  await t.put('audit/broken.jpg', photo);
  await t.waitFor(() => hasThumbnails('audit/broken.jpg'), 45_000, 'thumbnails made again');
  await t.waitFor(async () => (await depth(t.queueUrls.resize)) === 0, 45_000, 'an empty resize queue');

  const clean = await pipeline(['audit', '--outputs', 'thumbnails', '--grace-seconds', '0']);
  expect(clean.code).toBe(0);
  expect(clean.stdout).toMatch(/complete 2, dead-lettered 1, pending 0, missing 0/);
  expect(clean.stdout).toMatch(/^DEAD-LETTERED\s.*audit\/poison\.jpg\s+thumbnails: resize DLQ: not-an-image$/m);
  expect(clean.stdout.trim().split('\n').pop()).toBe('OK: every upload has its outputs or a DLQ entry.');
  // The audit read the DLQ without consuming it.
  expect(await depth(t.queueUrls.resizeDlq)).toBe(1);
}, 100_000);
