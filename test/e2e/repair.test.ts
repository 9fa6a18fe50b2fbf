import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { AuditReport } from '../../shared/operations/audit';
import type { Repair } from '../../shared/operations/repair';
import { startTestStack, type TestStack } from '../helpers/localStack';
import { portsEnv } from '../helpers/portsEnv';
import { runCli } from '../helpers/runCli';

/**
 * `pipeline audit --repair` on the whole local pipeline with the real functions: a thumbnail and a
 * prediction deleted by hand come back, and a second repair while the first is still queued sends
 * nothing.
 */

const photo = readFileSync(path.resolve(__dirname, '../../events/samples/landscape.jpg'));

jest.setTimeout(120_000);

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack({ seed: true, batchWindowSeconds: 0 });
});

afterAll(async () => {
  await t?.stop();
});

type RepairReport = AuditReport & { repair: { dryRun: boolean; planned: Repair[]; sent: number } };

async function repair(...extra: string[]): Promise<{ code: number; report: RepairReport; sent: string[] }> {
  const run = await runCli(['audit', '--json', '--grace-seconds', '0', '--repair', ...extra], {
    ...portsEnv(t.ports),
    PIPELINE_STATE_DIR: t.stateDir,
  });
  return { code: run.code, report: JSON.parse(run.out.join('\n')), sent: run.err.filter((line) => line.startsWith('repair: sent')) };
}

const remove = (key: string) => t.s3.send(new DeleteObjectCommand({ Bucket: 'thumbnails', Key: key }));
const done = async (key: string) =>
  (
    await Promise.all(
      [`1024/${key}.webp`, `512/${key}.webp`, `256/${key}.webp`, `predictions/${key}.json`].map((k) => t.exists('thumbnails', k)),
    )
  ).every(Boolean);

test('a thumbnail and a prediction deleted by hand come back; the dry run sends nothing', async () => {
  const key = 'repair/photo.jpg';
  await t.put(key, photo);
  await t.waitFor(() => done(key), 60_000, 'the photo to be processed');
  // The seeded samples too (one of them is corrupt and dead-lettered, not missing).
  await t.waitFor(async () => (await repair('--dry-run')).report.summary.pending === 0, 60_000, 'nothing in flight');

  await remove(`256/${key}.webp`);
  await remove(`predictions/${key}.json`);
  const dry = await repair('--dry-run');
  expect(dry.code).toBe(1);
  expect(dry.report.repair).toMatchObject({ dryRun: true, sent: 0 });
  expect(dry.report.repair.planned.map(({ key: k, functionName, family }) => ({ k, functionName, family }))).toEqual([
    { k: key, functionName: 'resize', family: 'thumbnails' },
    { k: key, functionName: 'predict', family: 'prediction' },
  ]);
  expect(await t.exists('thumbnails', `256/${key}.webp`)).toBe(false);
  expect((await repair('--dry-run', '--limit', '1')).report.repair.planned).toHaveLength(1);

  const real = await repair();
  expect(real.report.repair.sent).toBe(2);
  expect(real.sent).toHaveLength(2);
  await t.waitFor(() => done(key), 60_000, 'the deleted outputs to be written again');
  const after = await repair();
  expect(after.code).toBe(0);
  expect(after.report.summary.missing).toBe(0);
  expect(after.report.repair.sent).toBe(0);
});

test('--outputs and --limit choose what is sent; a second run while the first is queued sends nothing', async () => {
  const key = 'repair/queued.jpg';
  await t.put(key, photo);
  await t.waitFor(() => done(key), 60_000, 'the photo to be processed');
  await remove(`256/${key}.webp`);
  await remove(`predictions/${key}.json`);

  await t.stack.pollers.resize.pause();
  try {
    const thumbnailsOnly = await repair('--outputs', 'thumbnails', '--limit', '1');
    expect(thumbnailsOnly.report.repair.planned).toEqual([expect.objectContaining({ key, functionName: 'resize' })]);
    expect(thumbnailsOnly.report.repair.sent).toBe(1);
    // Its message waits in the resize queue: the upload counts as pending, nothing is sent again.
    const again = await repair('--outputs', 'thumbnails');
    expect(again.report.repair.sent).toBe(0);
    expect(again.report.summary.pending).toBeGreaterThan(0);
  } finally {
    t.stack.pollers.resize.resume();
  }
  await t.waitFor(() => t.exists('thumbnails', `256/${key}.webp`), 60_000, 'the thumbnail to come back');
  const prediction = await repair('--outputs', 'prediction');
  expect(prediction.report.repair.planned.map((planned) => planned.functionName)).toEqual(['predict']);
  await t.waitFor(() => done(key), 60_000, 'the prediction to come back');
});
