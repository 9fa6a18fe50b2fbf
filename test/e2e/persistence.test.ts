import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestStack } from '../helpers/localStack';

/** `.local/` keeps the buckets' contents across restarts of `npm start`. */

const stateDir = mkdtempSync(path.join(tmpdir(), 'pipeline-persist-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

// Two stack starts and a real resize (behind the seeded samples): a generous timeout for a loaded machine.
test('uploads and thumbnails survive a restart, and the samples are seeded only once', async () => {
  const photo = readFileSync(path.resolve(__dirname, '../../events/samples/landscape.jpg'));
  const first = await startTestStack({ stateDir });
  try {
    expect(first.stack.seeded).toHaveLength(3);
    await first.put('kept/photo.jpg', photo);
    await first.waitFor(() => first.exists('thumbnails', '256/kept/photo.jpg.webp'), 60_000, 'the thumbnail');
  } finally {
    await first.stop();
  }

  const second = await startTestStack({ stateDir });
  try {
    expect(second.stack.seeded).toEqual([]);
    expect(await second.list('uploads', 'kept/')).toEqual(['kept/photo.jpg']);
    expect(await second.list('thumbnails', '256/kept/')).toEqual(['256/kept/photo.jpg.webp']);
  } finally {
    await second.stop();
  }
}, 120_000);
