import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startTestStack, type TestStack } from '../helpers/localStack';

const photo = readFileSync(path.resolve(__dirname, '../../events/samples/landscape.jpg'));
// The default model: the moderation classifier npm start seeds.
const manifest = JSON.parse(readFileSync(path.resolve(__dirname, '../../models/moderation/1/manifest.json'), 'utf8'));

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
}, 60_000);
afterAll(() => t?.stop());

// The real resize and predict functions, behind the seeded samples: a generous timeout for a loaded machine.
test('an upload produces both its thumbnails and its prediction, from the model npm start seeds', async () => {
  const eTag = await t.put('both/photo.jpg', photo);
  const keys = ['256/both/photo.jpg.webp', '512/both/photo.jpg.webp', '1024/both/photo.jpg.webp', 'predictions/both/photo.jpg.json'];
  await t.waitFor(
    async () => (await Promise.all(keys.map((key) => t.exists('thumbnails', key)))).every(Boolean) || undefined,
    60_000,
    'thumbnails and prediction',
  );

  const prediction = JSON.parse((await t.get('thumbnails', 'predictions/both/photo.jpg.json')).data.toString('utf8'));
  expect(prediction.source).toMatchObject({ bucket: 'uploads', key: 'both/photo.jpg', eTag });
  expect(prediction.model).toMatchObject({ name: manifest.name, version: manifest.version });
  expect(prediction.labels.length).toBeGreaterThan(0);
  expect(prediction.labels.map(({ label }: { label: string }) => label).sort()).toEqual([...manifest.labels].sort());
  // A landscape photograph: clean under the default policy, which the prediction names.
  expect(prediction.moderation).toMatchObject({ verdict: 'clean', flaggedBy: [], policy: { action: 'blur', applicable: true } });
  expect(prediction.labels[0].label).toBe('Neutral');
  expect(await t.drain(t.queueUrls.predictDlq)).toEqual(
    expect.not.arrayContaining([expect.objectContaining({ Body: expect.stringContaining('both/photo.jpg') })]),
  );
}, 120_000);
