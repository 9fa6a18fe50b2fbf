import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { CHECKPOINT_FILE } from '../../cli/commands/reconcile';
import { startTestStack, type TestStack } from '../helpers/localStack';
import { portsEnv } from '../helpers/portsEnv';
import { runCli } from '../helpers/runCli';

/**
 * `pipeline reconcile`: the scheduled reconciler's code against the real local stack. Runs page
 * through the uploads from the checkpoint, a slice at a time, and repair what they find missing.
 */

const photo = readFileSync(path.resolve(__dirname, '../../events/samples/landscape.jpg'));
const KEYS = ['r/a.jpg', 'r/b.jpg', 'r/c.jpg'];

jest.setTimeout(120_000);

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack({ seed: true, batchWindowSeconds: 0 });
});

afterAll(async () => {
  await t?.stop();
});

const outputs = (key: string) => [`1024/${key}.webp`, `512/${key}.webp`, `256/${key}.webp`, `predictions/${key}.json`];
const done = async (key: string) => (await Promise.all(outputs(key).map((output) => t.exists('thumbnails', output)))).every(Boolean);
const reconcile = (...extra: string[]) =>
  runCli(['reconcile', '--grace-seconds', '0', ...extra], { ...portsEnv(t.ports), PIPELINE_STATE_DIR: t.stateDir });
const checkpoint = () => JSON.parse(readFileSync(path.join(t.stateDir, CHECKPOINT_FILE), 'utf8'));

test('runs page through the uploads from the checkpoint and repair what is missing; a dry run keeps the checkpoint', async () => {
  for (const key of KEYS) await t.put(key, photo);
  for (const key of KEYS) await t.waitFor(() => done(key), 60_000, `${key} to be processed`);
  await t.s3.send(new DeleteObjectCommand({ Bucket: 'thumbnails', Key: `256/${KEYS[1]}.webp` }));

  const dry = await reconcile('--dry-run', '--max-objects', '2');
  expect(dry.code).toBe(1);
  expect(dry.out[0]).toMatch(/missing 1; would repair 1;/);
  expect(existsSync(path.join(t.stateDir, CHECKPOINT_FILE))).toBe(false);

  // The uploads in key order: r/a.jpg, r/b.jpg, r/c.jpg, then the three samples/...
  const first = await reconcile('--max-objects', '2');
  expect(first.out[0]).toMatch(/judged 2 upload\(s\) after "" .*missing 1; repaired 1; next run starts after "r\/b\.jpg"/);
  expect(first.out).toContain(`  missing  ${KEYS[1]}`);
  expect(first.code).toBe(1);
  expect(checkpoint()).toMatchObject({ startAfter: KEYS[1], passes: 0 });
  await t.waitFor(() => t.exists('thumbnails', `256/${KEYS[1]}.webp`), 60_000, 'the repaired thumbnail');

  // The rest of the bucket: the corrupt sample is dead-lettered, not missing; the pass ends and starts over.
  const second = await reconcile('--max-objects', '10');
  expect(second.code).toBe(0);
  expect(second.out[0]).toMatch(/judged 4 upload\(s\) after "r\/b\.jpg" \(stopped: end-of-bucket\).*dead-lettered 1.*missing 0/);
  expect(checkpoint()).toMatchObject({ startAfter: '', passes: 1 });
});
