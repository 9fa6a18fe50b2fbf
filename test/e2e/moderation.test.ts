import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MODELS_DIR, seedDirectory } from '../../local/samples';
import { CORPUS } from '../helpers/handlerHarness';
import { startTestStack, type TestStack } from '../helpers/localStack';
import { runCli } from '../helpers/runCli';

/**
 * Moderation through the whole local stack: a flagged upload ends with obscured thumbnails and a
 * flagged prediction, `pipeline moderation list` shows it, and the audit counts it complete.
 */

// The demo model with every label over a tiny threshold: every picture is flagged.
const FLAG_ALL = {
  MODEL_URI: 's3://models/shapes/1/',
  MODERATION_FLAG: 'circle=0.0001,square=0.0001,triangle=0.0001,star=0.0001,cross=0.0001',
};
const photo = readFileSync(path.join(CORPUS, 'exif-orientation/Landscape_3.jpg'));
let t: TestStack;

beforeAll(async () => {
  t = await startTestStack({ env: FLAG_ALL, seed: false });
  await seedDirectory(t.s3, 'models', MODELS_DIR);
}, 60_000);
afterAll(() => t?.stop());

test('a flagged upload: obscured thumbnails, flagged prediction, listed, and complete for the audit', async () => {
  const key = 'moderated/photo.jpg';
  await t.put(key, photo);
  const sizes = [1024, 512, 256];
  const outputs = [...sizes.map((size) => `${size}/${key}.webp`), `predictions/${key}.json`];
  // One request at a time, and a slow answer is "not yet": on a loaded machine the embedded S3 serves
  // this test and both functions at once.
  const flagged = async (k: string) =>
    (await t.exists('thumbnails', k)) && (await t.get('thumbnails', k)).metadata.moderation === 'flagged';
  const allFlagged = async () => {
    for (const k of outputs) if (!(await flagged(k).catch(() => false))) return false;
    return true;
  };
  await t.waitFor(allFlagged, 60_000, 'obscured thumbnails and a flagged prediction');

  const env = { PIPELINE_STATE_DIR: t.stateDir };
  const listed = await runCli(['moderation', 'list', '--json'], env);
  expect(listed.code).toBe(0);
  const rows = JSON.parse(listed.out[0]);
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ key, model: 'shapes/1' });
  expect(rows[0].flaggedBy.length).toBeGreaterThan(0);
  const table = await runCli(['moderation', 'list'], env);
  expect(table.out.join('\n')).toContain(key);

  const audit = await runCli(['audit', '--json', '--grace-seconds', '0'], env);
  expect(audit.code).toBe(0);
  expect(JSON.parse(audit.out[0]).summary).toMatchObject({ uploads: 1, complete: 1, missing: 0 });
}, 120_000);
