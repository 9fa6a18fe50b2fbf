import {
  type AuditInput,
  deadLetterFor,
  expectedOutputs,
  formatAuditReport,
  markersToCheck,
  reconcileAudit,
  type UploadObject,
} from '../../shared/operations/audit';
import type { DlqRow } from '../../shared/operations/dlqRows';

const NOW = new Date('2026-11-24T12:00:00.000Z');
const OLD = '2026-11-24T11:00:00.000Z';
const rules = {
  uploadsBucket: 'uploads',
  thumbnails: { sizes: [256, 1024, 512], format: 'webp' as const },
  outputs: 'all' as const,
  families: ['thumbnails', 'prediction'] as const,
  graceSeconds: 120,
  now: NOW,
};

const upload = (key: string, eTag = `etag-${key}`, lastModified: string = OLD): UploadObject => ({ key, eTag: `"${eTag}"`, lastModified });

/** The outputs the pipeline writes for an upload, and the marker metadata a HEAD would return. */
function outputsOf(uploads: UploadObject[], except: string[] = [], etagOverride: Record<string, string> = {}) {
  const outputKeys = new Set<string>();
  const markerETags = new Map<string, string | undefined>();
  for (const item of uploads) {
    for (const plan of expectedOutputs(item.key, rules)) {
      for (const key of plan.expected) if (!except.includes(key)) outputKeys.add(key);
      markerETags.set(plan.marker, etagOverride[plan.marker] ?? item.eTag!.replace(/"/g, ''));
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

function input(uploads: UploadObject[], overrides: Partial<AuditInput> = {}): AuditInput {
  return {
    ...rules,
    uploads,
    ...outputsOf(uploads),
    deadLetters: { thumbnails: [], prediction: [], any: [] },
    queueDepths: { thumbnails: 0, prediction: 0 },
    ...overrides,
  };
}

const statuses = (report: ReturnType<typeof reconcileAudit>) =>
  Object.fromEntries(report.entries.map((entry) => [entry.key, entry.status]));

describe('expectedOutputs and markers', () => {
  test('every size as <size>/<key>.<format>, largest first as the marker, plus predictions/<key>.json', () => {
    expect(expectedOutputs('a/b.jpg', rules)).toEqual([
      { family: 'thumbnails', expected: ['1024/a/b.jpg.webp', '512/a/b.jpg.webp', '256/a/b.jpg.webp'], marker: '1024/a/b.jpg.webp' },
      { family: 'prediction', expected: ['predictions/a/b.jpg.json'], marker: 'predictions/a/b.jpg.json' },
    ]);
    expect(expectedOutputs('a/b.jpg', { ...rules, families: ['thumbnails'] })).toHaveLength(1);
  });

  test('a HEAD only for families whose outputs are all listed', () => {
    const uploads = [upload('full.jpg'), upload('partial.jpg'), upload('none.jpg')];
    const { outputKeys } = outputsOf(uploads.slice(0, 2), ['256/partial.jpg.webp']);
    expect(markersToCheck(uploads, outputKeys, rules).sort()).toEqual([
      '1024/full.jpg.webp',
      'predictions/full.jpg.json',
      'predictions/partial.jpg.json',
    ]);
  });
});

describe('reconcileAudit', () => {
  test('all outputs from the current ETag: complete, nothing reported, ok', () => {
    const report = reconcileAudit(input([upload('a.jpg'), upload('b.png')]));
    expect(report).toMatchObject({ ok: true, entries: [], summary: { uploads: 2, complete: 2, missing: 0 } });
  });

  test('a hand-deleted smaller thumbnail is missing even though the marker is fine', () => {
    const uploads = [upload('a.jpg'), upload('b.jpg')];
    const report = reconcileAudit(input(uploads, outputsOf(uploads, ['256/b.jpg.webp'])));
    expect(report.ok).toBe(false);
    expect(statuses(report)).toEqual({ 'b.jpg': 'missing' });
    expect(report.entries[0].families).toEqual([
      { family: 'thumbnails', status: 'missing', detail: 'no 256/b.jpg.webp' },
      { family: 'prediction', status: 'complete', detail: 'ok' },
    ]);
  });

  test('outputs of an older version of the object (stale source-etag) are not complete', () => {
    const uploads = [upload('a.jpg', 'new')];
    const report = reconcileAudit(input(uploads, outputsOf(uploads, [], { '1024/a.jpg.webp': 'old' })));
    expect(report.entries[0].families[0]).toMatchObject({
      status: 'missing',
      detail: expect.stringMatching(/another version.*source-etag old/),
    });
  });

  test('a missing prediction counts with --outputs all, not with --outputs thumbnails', () => {
    const uploads = [upload('a.jpg')];
    const outputs = outputsOf(uploads, ['predictions/a.jpg.json']);
    expect(statuses(reconcileAudit(input(uploads, outputs)))).toEqual({ 'a.jpg': 'missing' });
    expect(reconcileAudit(input(uploads, { ...outputs, outputs: 'thumbnails', families: ['thumbnails'] })).ok).toBe(true);
  });

  test('a DLQ entry accounts for an upload, per family: the resize DLQ for thumbnails, the predict DLQ for the prediction', () => {
    const uploads = [upload('poison.jpg')];
    const none = { outputKeys: new Set<string>(), markerETags: new Map() };
    const both = reconcileAudit(
      input(uploads, {
        ...none,
        deadLetters: { thumbnails: [dlqRow('resize', 'poison.jpg')], prediction: [dlqRow('predict', 'poison.jpg')], any: [] },
      }),
    );
    expect(both).toMatchObject({ ok: true, summary: { 'dead-lettered': 1 } });
    expect(both.entries[0].families[0]).toMatchObject({
      status: 'dead-lettered',
      detail: 'resize DLQ: not-an-image',
      deadLetter: { queue: 'resize', reason: 'not-an-image' },
    });

    // The resize DLQ says nothing about the prediction: a lost predict message is still lost.
    const onlyResize = reconcileAudit(
      input(uploads, { ...none, deadLetters: { thumbnails: [dlqRow('resize', 'poison.jpg')], prediction: [], any: [] } }),
    );
    expect(onlyResize.entries[0]).toMatchObject({
      status: 'missing',
      families: [{ status: 'dead-lettered' }, { family: 'prediction', status: 'missing' }],
    });

    // A delivery DLQ entry covers both (SNS could not deliver the event at all).
    const delivery = reconcileAudit(
      input(uploads, { ...none, deadLetters: { thumbnails: [], prediction: [], any: [dlqRow('delivery', 'poison.jpg')] } }),
    );
    expect(delivery.ok).toBe(true);
  });

  test('a DLQ entry for another version, another bucket or a removal does not account for the upload', () => {
    const item = upload('a.jpg', 'v2');
    expect(
      deadLetterFor(item, 'uploads', [
        dlqRow('resize', 'a.jpg', { objects: [{ kind: 'created', bucket: 'uploads', key: 'a.jpg', eTag: 'v1' }] }),
      ]),
    ).toBeUndefined();
    expect(
      deadLetterFor(item, 'uploads', [dlqRow('resize', 'a.jpg', { objects: [{ kind: 'created', bucket: 'other', key: 'a.jpg' }] })]),
    ).toBeUndefined();
    expect(
      deadLetterFor(item, 'uploads', [dlqRow('resize', 'a.jpg', { objects: [{ kind: 'removed', bucket: 'uploads', key: 'a.jpg' }] })]),
    ).toBeUndefined();
    expect(
      deadLetterFor(item, 'uploads', [
        dlqRow('resize', 'a.jpg', { objects: [{ kind: 'created', bucket: 'uploads', key: 'a.jpg', eTag: 'v2' }] }),
      ]),
    ).toBeDefined();
    // A body that names nothing (not JSON): the sourceKey attribute still counts.
    expect(deadLetterFor(item, 'uploads', [dlqRow('resize', 'a.jpg', { objects: [] })])).toBeDefined();
  });

  test('young uploads are pending, not missing, until the grace period has passed', () => {
    const young = upload('new.jpg', 'e', new Date(NOW.getTime() - 30_000).toISOString());
    const none = { outputKeys: new Set<string>(), markerETags: new Map() };
    const report = reconcileAudit(input([young], none));
    expect(report).toMatchObject({ ok: true, summary: { pending: 1 } });
    expect(report.entries[0].families[0]).toMatchObject({
      status: 'pending',
      pendingBecause: 'grace',
      detail: expect.stringMatching(/uploaded 30 s ago \(grace 120 s\)/),
    });
    expect(reconcileAudit(input([young], { ...none, graceSeconds: 0 })).ok).toBe(false);
  });

  test("messages still in a family's queue make its incomplete uploads pending, and too many of them raise a warning", () => {
    const uploads = [upload('a.jpg'), upload('b.jpg'), upload('c.jpg')];
    const outputs = outputsOf([], []);
    const report = reconcileAudit(
      input(uploads, { ...outputs, outputs: 'thumbnails', families: ['thumbnails'], queueDepths: { thumbnails: 1, prediction: 0 } }),
    );
    expect(report.ok).toBe(true);
    expect(statuses(report)).toEqual({ 'a.jpg': 'pending', 'b.jpg': 'pending', 'c.jpg': 'pending' });
    expect(report.entries[0].families[0]).toMatchObject({
      pendingBecause: 'queue',
      detail: expect.stringMatching(/queue still holds 1 message/),
    });
    expect(report.warnings).toEqual([expect.stringMatching(/3 upload\(s\) lack thumbnails but the queue holds only 1 .* at least 2/)]);
    // The predict queue's backlog does not excuse missing thumbnails.
    const other = reconcileAudit(
      input(uploads, { ...outputs, outputs: 'thumbnails', families: ['thumbnails'], queueDepths: { thumbnails: 0, prediction: 9 } }),
    );
    expect(other.summary.missing).toBe(3);
  });

  test('a key too long for any output has outputs that cannot exist: dead-lettered if the DLQ says so, else missing', () => {
    const key = `${'k'.repeat(1020)}.jpg`;
    const none = { outputKeys: new Set<string>(), markerETags: new Map() };
    const row = dlqRow('resize', key, { reason: 'key-too-long' });
    const predicted = dlqRow('predict', key, { reason: 'key-too-long' });
    expect(reconcileAudit(input([upload(key)], { ...none, deadLetters: { thumbnails: [row], prediction: [predicted], any: [] } })).ok).toBe(
      true,
    );
    expect(reconcileAudit(input([upload(key)], none)).ok).toBe(false);
  });

  test('the worst status wins and entries are sorted worst first, then by key', () => {
    const uploads = [
      upload('z-missing.jpg'),
      upload('a-dead.jpg'),
      upload('m-young.jpg', 'e', new Date(NOW.getTime() - 1000).toISOString()),
      upload('ok.jpg'),
    ];
    const outputs = outputsOf([uploads[3]]);
    const report = reconcileAudit(
      input(uploads, {
        ...outputs,
        deadLetters: { thumbnails: [dlqRow('resize', 'a-dead.jpg')], prediction: [dlqRow('predict', 'a-dead.jpg')], any: [] },
      }),
    );
    expect(report.entries.map((entry) => [entry.status, entry.key])).toEqual([
      ['missing', 'z-missing.jpg'],
      ['pending', 'm-young.jpg'],
      ['dead-lettered', 'a-dead.jpg'],
    ]);
    expect(report.summary).toEqual({ uploads: 4, complete: 1, 'dead-lettered': 1, pending: 1, missing: 1 });

    const text = formatAuditReport(report, {
      thumbnailsBucket: 'thumbnails',
      dlqs: ['resize', 'predict', 'delivery'],
      families: rules.families,
    });
    expect(text).toMatch(/complete 1, dead-lettered 1, pending 1, missing 1/);
    expect(text).toMatch(
      /^MISSING\s+2026-11-24 11:00:00Z\s+z-missing\.jpg\s+thumbnails: none of its 3 thumbnails \(1024\/z-missing\.jpg\.webp, \.\.\.\); prediction: no predictions\/z-missing\.jpg\.json$/m,
    );
    expect(text.trim().split('\n').pop()).toBe('MISSING: 1 upload(s) have neither outputs nor a DLQ entry.');
  });

  test('an empty bucket is a clean audit', () => {
    expect(reconcileAudit(input([]))).toMatchObject({ ok: true, summary: { uploads: 0 }, entries: [], warnings: [] });
  });
});
