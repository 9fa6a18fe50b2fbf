import {
  type AuditInput,
  type CatalogueView,
  type CatalogueViewItem,
  expectedOutputs,
  formatAuditReport,
  reconcileAudit,
  type UploadObject,
} from '../../shared/operations/audit';
import type { DlqRow } from '../../shared/operations/dlqRows';

/** The audit's comparison of the catalogue with what S3 and the DLQs prove (reconcileAudit with a catalogue view). */

const NOW = new Date('2026-11-24T12:00:00.000Z');
const OLD = '2026-11-24T11:00:00.000Z';
const rules = {
  uploadsBucket: 'uploads',
  thumbnails: { sizes: [256, 1024], format: 'webp' as const },
  outputs: 'all' as const,
  families: ['thumbnails', 'prediction'] as const,
  graceSeconds: 120,
  now: NOW,
};

const upload = (key: string, lastModified: string = OLD): UploadObject => ({ key, eTag: `"etag-${key}"`, lastModified });
const item = (key: string, status: CatalogueViewItem['status'], eTag = `etag-${key}`): [string, CatalogueViewItem] => [
  key,
  { status, eTag },
];

/** Every output of these uploads, from their current ETag. */
function outputsOf(uploads: UploadObject[], families: readonly ('thumbnails' | 'prediction')[] = rules.families) {
  const outputKeys = new Set<string>();
  const markerETags = new Map<string, string | undefined>();
  for (const u of uploads) {
    for (const plan of expectedOutputs(u.key, { ...rules, families })) {
      for (const key of plan.expected) outputKeys.add(key);
      markerETags.set(plan.marker, u.eTag!.replace(/"/g, ''));
    }
  }
  return { outputKeys, markerETags };
}

const dlqRow = (queue: string, key: string, extra: Partial<DlqRow> = {}): DlqRow => ({
  queue,
  messageId: `m-${queue}-${key}`,
  failureClass: 'permanent',
  reason: 'not-an-image',
  errorMessage: '',
  sourceBucket: 'uploads',
  sourceKey: key,
  objects: [{ kind: 'created', bucket: 'uploads', key }],
  attemptsAtLeast: false,
  body: '',
  ...extra,
});

function input(
  uploads: UploadObject[],
  catalogue: CatalogueView,
  options: { complete?: UploadObject[]; overrides?: Partial<AuditInput> } = {},
): AuditInput {
  return {
    ...rules,
    uploads,
    ...outputsOf(options.complete ?? []),
    deadLetters: { thumbnails: [], prediction: [], any: [] },
    queueDepths: { thumbnails: 0, prediction: 0 },
    catalogue,
    ...options.overrides,
  };
}

const problems = (report: ReturnType<typeof reconcileAudit>) =>
  Object.fromEntries((report.catalogue?.disagreements ?? []).map((d) => [d.key, d.problem]));

const where = {
  thumbnailsBucket: 'thumbnails',
  dlqs: ['resize', 'predict', 'delivery'],
  families: rules.families,
  catalogueTable: 'images',
};

test('without a catalogue view the report has no catalogue section', () => {
  const { catalogue: _none, ...plain } = input([upload('a.jpg')], new Map());
  const report = reconcileAudit(plain);
  expect(report).not.toHaveProperty('catalogue');
  expect(formatAuditReport(report, where)).not.toMatch(/catalogue/i);
});

test('items that agree: complete with every output, failed with its DLQ entry, none for an upload no stage has seen', () => {
  const good = upload('good.jpg');
  const poison = upload('poison.jpg');
  const lost = upload('lost.jpg');
  const report = reconcileAudit(
    input([good, poison, lost], new Map([item('good.jpg', 'complete'), item('poison.jpg', 'failed')]), {
      complete: [good],
      overrides: {
        deadLetters: { thumbnails: [dlqRow('resize', 'poison.jpg')], prediction: [dlqRow('predict', 'poison.jpg')], any: [] },
      },
    }),
  );
  expect(report.catalogue).toEqual({ items: 2, judged: 'all', disagreements: [] });
  expect(formatAuditReport(report, where)).toMatch(/^The catalogue images \(2 item\(s\)\) agrees with S3 and the DLQs\.$/m);
});

test('each disagreement is named, and none of them changes ok (that is about missing uploads)', () => {
  const uploads = ['no-item.jpg', 'stale.jpg', 'claims.jpg', 'failed.jpg', 'behind.jpg', 'failed-done.jpg'].map((key) => upload(key));
  const byKey = Object.fromEntries(uploads.map((u) => [u.key, u]));
  const report = reconcileAudit(
    input(
      uploads,
      new Map([
        item('stale.jpg', 'complete', 'etag-older'),
        item('claims.jpg', 'complete'),
        item('failed.jpg', 'failed'),
        item('behind.jpg', 'pending'),
        item('failed-done.jpg', 'failed'),
        item('gone.jpg', 'complete'),
      ]),
      { complete: [byKey['no-item.jpg'], byKey['stale.jpg'], byKey['behind.jpg'], byKey['failed-done.jpg']] },
    ),
  );
  expect(report.ok).toBe(false); // claims.jpg and failed.jpg have neither outputs nor DLQ entries
  expect(report.summary.missing).toBe(2);
  expect(problems(report)).toEqual({
    'no-item.jpg': 'missing',
    'stale.jpg': 'other-etag',
    'claims.jpg': 'complete-not-in-s3',
    'failed.jpg': 'failed-without-dlq',
    'behind.jpg': 'behind-s3',
    'failed-done.jpg': 'behind-s3',
    'gone.jpg': 'no-upload',
  });
  const disagreements = report.catalogue!.disagreements;
  // Worst first: claims S3 does not back, then the catalogue lagging, then orphans.
  expect(disagreements.map((d) => d.problem)).toEqual([
    'complete-not-in-s3',
    'failed-without-dlq',
    'other-etag',
    'missing',
    'behind-s3',
    'behind-s3',
    'no-upload',
  ]);
  expect(disagreements.find((d) => d.key === 'stale.jpg')).toMatchObject({
    catalogue: { status: 'complete', eTag: 'etag-older' },
    audit: 'complete',
    detail: 'the item is for ETag etag-older, the upload is etag-stale.jpg',
  });
  expect(disagreements.find((d) => d.key === 'claims.jpg')?.detail).toMatch(/^the item says complete, but thumbnails: none of its 2/);
  expect(disagreements.find((d) => d.key === 'no-item.jpg')).toMatchObject({
    audit: 'complete',
    detail: 'no catalogue item, but its thumbnails are in S3',
  });
  expect(disagreements.find((d) => d.key === 'gone.jpg')).toMatchObject({ detail: 'no object gone.jpg in s3://uploads' });
  expect(disagreements.find((d) => d.key === 'gone.jpg')).not.toHaveProperty('audit');

  const text = formatAuditReport(report, where);
  expect(text).toMatch(/The catalogue images \(6 item\(s\)\) disagrees with S3 and the DLQs for 7 key\(s\):/);
  expect(text).toMatch(/^complete-not-in-s3\s+complete\s+missing\s+claims\.jpg\s+the item says complete, but/m);
  expect(text).toMatch(/^no-upload\s+complete\s+-\s+gone\.jpg\s+no object gone\.jpg in s3:\/\/uploads$/m);
  expect(text).toMatch(/npx pipeline catalogue rebuild/);
  // The verdict on the uploads stays the last line.
  expect(text.trim().split('\n').pop()).toBe('MISSING: 2 upload(s) have neither outputs nor a DLQ entry.');
});

test('a failure the function recorded needs an item; a delivery failure or a redrive-policy move reached no stage', () => {
  const recorded = upload('recorded.jpg');
  const delivery = upload('delivery.jpg');
  const crashed = upload('crashed.jpg');
  const report = reconcileAudit(
    input([recorded, delivery, crashed], new Map(), {
      overrides: {
        deadLetters: {
          thumbnails: [
            dlqRow('resize', 'recorded.jpg'),
            dlqRow('resize', 'crashed.jpg', { failureClass: 'unknown', reason: 'max-receives' }),
          ],
          prediction: [
            dlqRow('predict', 'recorded.jpg'),
            dlqRow('predict', 'crashed.jpg', { failureClass: 'unknown', reason: 'max-receives' }),
          ],
          any: [dlqRow('delivery', 'delivery.jpg', { failureClass: 'unknown', reason: 'delivery-failed' })],
        },
      },
    }),
  );
  expect(report.summary['dead-lettered']).toBe(3);
  expect(problems(report)).toEqual({ 'recorded.jpg': 'missing' });
  expect(report.catalogue!.disagreements[0].detail).toBe('no catalogue item, but the resize DLQ holds its failure');
});

test('a failed item is backed by a function DLQ, not by the delivery DLQ', () => {
  const report = reconcileAudit(
    input([upload('a.jpg')], new Map([item('a.jpg', 'failed')]), {
      overrides: { deadLetters: { thumbnails: [], prediction: [], any: [dlqRow('delivery', 'a.jpg')] } },
    }),
  );
  expect(problems(report)).toEqual({ 'a.jpg': 'failed-without-dlq' });
});

test('uploads still in flight are not compared: the catalogue may lag them', () => {
  const young = upload('young.jpg', new Date(NOW.getTime() - 5_000).toISOString());
  const queued = upload('queued.jpg');
  const report = reconcileAudit(
    input([young, queued], new Map([item('young.jpg', 'complete', 'etag-before'), item('queued.jpg', 'failed')]), {
      overrides: { queueDepths: { thumbnails: 3, prediction: 3 } },
    }),
  );
  expect(report.summary.pending).toBe(2);
  expect(report.catalogue!.disagreements).toEqual([]);
});

test('with --outputs thumbnails the predict stage is unread: only the rules that thumbnails alone decide apply', () => {
  const families = ['thumbnails'] as const;
  const done = upload('done.jpg');
  const claims = upload('claims.jpg');
  const report = reconcileAudit(
    input([done, claims, upload('no-item.jpg')], new Map([item('done.jpg', 'failed'), item('claims.jpg', 'complete')]), {
      overrides: { outputs: 'thumbnails', families, ...outputsOf([done, upload('no-item.jpg')], families) },
    }),
  );
  // done.jpg: failed (perhaps by predict, whose DLQ was not read) with every thumbnail: not judged.
  expect(problems(report)).toEqual({ 'claims.jpg': 'complete-not-in-s3', 'no-item.jpg': 'missing' });
  expect(report.catalogue!.judged).toBe('thumbnails');
  expect(formatAuditReport(report, { ...where, families })).toMatch(/--outputs thumbnails: failed-without-dlq and behind-s3 not checked/);
});
