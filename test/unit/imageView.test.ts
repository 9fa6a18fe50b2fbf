import { imageView } from '../../shared/api/imageView';
import type { CatalogueItem } from '../../shared/catalogue/item';

/** What the API hands out for one catalogue item: never a URL of a clear thumbnail of a flagged image. */

const presigner = { download: async (key: string) => `https://signed.example/${key}` };

const item = (overrides: Partial<CatalogueItem> = {}): CatalogueItem => ({
  key: 'u/a.jpg',
  source: { eTag: 'e1', uploadedAt: '2026-12-02T10:00:00.000Z', format: 'jpeg', width: 2000, height: 1000 },
  stages: {
    resize: { status: 'complete', eTag: 'e1', updatedAt: '2026-12-02T10:00:01.000Z' },
    predict: { status: 'complete', eTag: 'e1', updatedAt: '2026-12-02T10:00:01.000Z' },
  },
  thumbnails: [256, 512].map((size) => ({ size, format: 'webp', width: size, height: size / 2, bytes: 100, key: `${size}/u/a.jpg.webp` })),
  prediction: { model: 'moderation/1', labels: [{ label: 'Neutral', score: 0.9 }], verdict: 'clean', flaggedBy: [] },
  status: 'complete',
  verdict: 'clean',
  listing: 'all',
  uploadedAt: '2026-12-02T10:00:00.000Z',
  createdAt: '2026-12-02T10:00:01.000Z',
  updatedAt: '2026-12-02T10:00:01.000Z',
  revision: 2,
  ...overrides,
});

const flagged = { model: 'moderation/1', labels: [{ label: 'Porn', score: 0.95 }], verdict: 'flagged' as const, flaggedBy: ['Porn'] };

test('a clean image: every thumbnail with a presigned URL, no failure', async () => {
  const view = await imageView(item(), presigner);
  expect(view.thumbnails.map((thumbnail) => thumbnail.url)).toEqual([
    'https://signed.example/256/u/a.jpg.webp',
    'https://signed.example/512/u/a.jpg.webp',
  ]);
  expect(view).toMatchObject({ status: 'complete', failure: null, moderation: { verdict: 'clean', flaggedBy: [] } });
});

test('before moderation has judged it (no prediction yet, or predict failed), no thumbnail URL: it may be about to be flagged', async () => {
  const view = await imageView(item({ prediction: null, verdict: undefined, status: 'pending' }), presigner);
  expect(view.thumbnails).toEqual([]);
});

test('a flagged image whose thumbnails are still clear gets no thumbnail URL', async () => {
  const view = await imageView(item({ prediction: flagged, verdict: 'flagged' }), presigner);
  expect(view.thumbnails).toEqual([]);
  expect(view.moderation).toEqual({ verdict: 'flagged', flaggedBy: ['Porn'] });
});

const stage = (status: 'complete', updatedAt: string, parts: ('thumbnails' | 'prediction')[]) => ({ status, eTag: 'e1', updatedAt, parts });

test('a flagged image gets its thumbnails once they are stored obscured, by either function', async () => {
  // Predict obscured them after resize had finished: nothing can write them clear again.
  const afterResize = {
    resize: stage('complete', '2026-12-02T10:00:01.000Z', ['thumbnails']),
    predict: stage('complete', '2026-12-02T10:00:02.000Z', ['prediction']),
  };
  const byPredict = await imageView(
    item({ prediction: { ...flagged, thumbnailsObscured: true }, verdict: 'flagged', stages: afterResize }),
    presigner,
  );
  expect(byPredict.thumbnails).toHaveLength(2);
  // Predict recorded first, while resize may still be writing them clear: not until resize records them obscured.
  const resizeLater = { ...afterResize, resize: stage('complete', '2026-12-02T10:00:03.000Z', ['thumbnails']) };
  const racing = await imageView(
    item({ prediction: { ...flagged, thumbnailsObscured: true }, verdict: 'flagged', stages: resizeLater }),
    presigner,
  );
  expect(racing.thumbnails).toEqual([]);
  const { resize: _, ...withoutResize } = afterResize;
  expect(
    (await imageView(item({ prediction: { ...flagged, thumbnailsObscured: true }, verdict: 'flagged', stages: withoutResize }), presigner))
      .thumbnails,
  ).toEqual([]);
  const obscuredByResize = item({ prediction: flagged, verdict: 'flagged' });
  obscuredByResize.thumbnails = obscuredByResize.thumbnails.map((thumbnail) => ({ ...thumbnail, obscured: true }));
  expect((await imageView(obscuredByResize, presigner)).thumbnails).toHaveLength(2);
});

test('a failure of the current version is reported with its reason; one of an older version is not', async () => {
  const failed = item({
    status: 'failed',
    stages: { resize: { status: 'failed', eTag: 'e1', reason: 'corrupt', message: 'bad data', updatedAt: '2026-12-02T10:00:01.000Z' } },
  });
  expect((await imageView(failed, presigner)).failure).toEqual({ reason: 'corrupt', message: 'bad data' });
  const older = item({
    stages: { resize: { status: 'failed', eTag: 'e0', reason: 'corrupt', message: 'bad data', updatedAt: '2026-12-02T09:00:00.000Z' } },
  });
  expect((await imageView(older, presigner)).failure).toBeNull();
});
