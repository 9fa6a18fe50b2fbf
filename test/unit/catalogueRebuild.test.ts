import fc from 'fast-check';
import { parseCatalogueArgs, UsageError } from '../../cli/args';
import {
  describeChange,
  failureFinding,
  formatRebuildReport,
  type ItemPlan,
  keysWithoutUpload,
  planItem,
  type RebuildChange,
  rebuildReport,
  type StageFinding,
  sameItem,
  stageFinding,
} from '../../ops/catalogueRebuild';
import type { StagePart } from '../../shared/catalogue/fromOutputs';
import { type CatalogueItem, type CataloguePrediction, type CatalogueThumbnail, mergeStage } from '../../shared/catalogue/item';
import type { UploadObject } from '../../shared/operations/audit';
import type { DlqRow } from '../../shared/operations/dlqRows';

const STAGES = ['resize', 'predict'];
const KEY = 'holiday/beach.jpg';
const LAST_MODIFIED = '2026-03-01T10:00:00.000Z';
const T1 = new Date('2026-03-01T12:00:00.000Z');
const T2 = new Date('2026-03-02T12:00:00.000Z');

const upload = (eTag = 'aaaa1111', key = KEY): UploadObject => ({
  key,
  eTag: `"${eTag}"`,
  size: 1234,
  lastModified: new Date(LAST_MODIFIED),
});

const thumbnails = (key = KEY): CatalogueThumbnail[] => [
  { size: 1024, format: 'webp', width: 1024, height: 683, bytes: 50_000, key: `1024/${key}.webp`, obscured: false },
  { size: 256, format: 'webp', width: 256, height: 171, bytes: 5_000, key: `256/${key}.webp`, obscured: false },
];
const prediction: CataloguePrediction = {
  model: 'moderation/1',
  labels: [
    { label: 'Neutral', score: 0.93 },
    { label: 'Drawing', score: 0.04 },
  ],
  verdict: 'clean',
  flaggedBy: [],
};
const resizePart: StagePart = { thumbnails: thumbnails() };
const predictPart: StagePart = { prediction, source: { format: 'jpeg', width: 1800, height: 1200 } };
const complete = (part: StagePart): StageFinding => ({ status: 'complete', part });
const failed = (reason = 'not-an-image', message = 'the bytes are not an image'): StageFinding => ({ status: 'failed', reason, message });

const dlqRow = (key: string, extra: Partial<DlqRow> = {}): DlqRow => ({
  queue: 'resize',
  messageId: `m-${key}`,
  failureClass: 'permanent',
  reason: 'not-an-image',
  errorMessage: 'the bytes are not an image',
  sourceBucket: 'uploads',
  sourceKey: key,
  objects: [{ kind: 'created', bucket: 'uploads', key }],
  attemptsAtLeast: false,
  body: '',
  ...extra,
});

function written(plan: ItemPlan): CatalogueItem {
  if (plan.action !== 'create' && plan.action !== 'update') throw new Error(`expected a write, got ${plan.action}`);
  return plan.item;
}

describe('findings', () => {
  test('outputs make a stage complete whatever its DLQ says; without them a DLQ message naming the upload makes it failed', () => {
    const failure = failureFinding(upload(), 'uploads', [dlqRow(KEY)]);
    expect(failure).toEqual({ status: 'failed', reason: 'not-an-image', message: 'the bytes are not an image' });
    expect(stageFinding(resizePart, failure)).toEqual({ status: 'complete', part: resizePart });
    expect(stageFinding(undefined, failure)).toBe(failure);
    expect(failureFinding(upload(), 'uploads', [])).toEqual({ status: 'pending' });
  });

  test("a DLQ message for another key, bucket or version is not the upload's failure", () => {
    const rows = [
      dlqRow('other.jpg'),
      dlqRow(KEY, { objects: [{ kind: 'created', bucket: 'elsewhere', key: KEY }] }),
      dlqRow(KEY, { objects: [{ kind: 'created', bucket: 'uploads', key: KEY, eTag: 'old' }] }),
    ];
    expect(failureFinding(upload(), 'uploads', rows)).toEqual({ status: 'pending' });
  });

  test('of several messages for the upload, the newest failure is the one recorded', () => {
    const rows = [
      dlqRow(KEY, { reason: 'service-unavailable', lastFailedAt: '2026-03-01T10:01:00.000Z' }),
      dlqRow(KEY, { reason: 'corrupt', lastFailedAt: '2026-03-01T10:09:00.000Z' }),
      dlqRow(KEY, { reason: 'max-receives', sentAt: '2026-03-01T10:05:00.000Z' }),
    ];
    expect(failureFinding(upload(), 'uploads', rows)).toMatchObject({ reason: 'corrupt' });
  });
});

describe('planItem', () => {
  test('every stage complete: a new item with the thumbnails, the prediction and what the prediction knows of the source', () => {
    const plan = planItem({
      upload: upload(),
      findings: { resize: complete(resizePart), predict: complete(predictPart) },
      stages: STAGES,
      stored: undefined,
      now: T1,
    });
    expect(plan).toMatchObject({ action: 'create', detail: 'resize complete, predict complete' });
    const item = written(plan);
    expect(item).toMatchObject({
      key: KEY,
      status: 'complete',
      verdict: 'clean',
      listing: 'all',
      uploadedAt: LAST_MODIFIED,
      source: { eTag: 'aaaa1111', size: 1234, uploadedAt: LAST_MODIFIED, format: 'jpeg', width: 1800, height: 1200 },
      thumbnails: thumbnails(),
      prediction,
      createdAt: T1.toISOString(),
      revision: 1,
    });
    expect(item.stages).toEqual({
      resize: { status: 'complete', eTag: 'aaaa1111', parts: ['thumbnails'], updatedAt: T1.toISOString() },
      predict: { status: 'complete', eTag: 'aaaa1111', parts: ['prediction'], updatedAt: T1.toISOString() },
    });
  });

  test('a failed stage: the item is failed with the reason and message, the other stage as S3 shows it', () => {
    const item = written(
      planItem({
        upload: upload(),
        findings: { resize: failed(), predict: { status: 'pending' } },
        stages: STAGES,
        stored: undefined,
        now: T1,
      }),
    );
    expect(item.status).toBe('failed');
    expect(item.stages.resize).toMatchObject({ status: 'failed', reason: 'not-an-image', message: 'the bytes are not an image' });
    expect(item.stages.predict).toMatchObject({ status: 'pending', eTag: 'aaaa1111' });
    expect(item.thumbnails).toEqual([]);
    expect(item.prediction).toBeNull();
  });

  test('no stage result and no item: left out, as the pipeline creates the item on the first result', () => {
    expect(planItem({ upload: upload(), findings: {}, stages: STAGES, stored: undefined, now: T1 })).toEqual({
      key: KEY,
      action: 'skip-pending',
    });
  });

  test('a rebuilt item rebuilt again is unchanged', () => {
    const findings = { resize: complete(resizePart), predict: failed('corrupt', 'truncated') };
    const first = written(planItem({ upload: upload(), findings, stages: STAGES, stored: undefined, now: T1 }));
    expect(planItem({ upload: upload(), findings, stages: STAGES, stored: first, now: T2 })).toEqual({ key: KEY, action: 'unchanged' });
  });

  test("the live pipeline's item is unchanged: the sequencer and event time it recorded for the same bytes are kept", () => {
    const source = { eTag: 'aaaa1111', sequencer: '0055AED6DCD90281E5', size: 1234, uploadedAt: '2026-03-01T10:00:00.250Z' };
    const resized = mergeStage(
      undefined,
      { key: KEY, stage: 'resize', source, result: { status: 'complete', thumbnails: thumbnails() } },
      STAGES,
      T1,
    );
    const live = mergeStage(
      resized as CatalogueItem,
      { key: KEY, stage: 'predict', source: { ...source, ...predictPart.source }, result: { status: 'complete', prediction } },
      STAGES,
      T1,
    ) as CatalogueItem;
    const plan = planItem({
      upload: upload(),
      findings: { resize: complete(resizePart), predict: complete(predictPart) },
      stages: STAGES,
      stored: live,
      now: T2,
    });
    expect(plan.action).toBe('unchanged');
  });

  test('an item that disagrees is updated: createdAt kept, revision moved on, unchanged stage states keep their time', () => {
    const stored = written(
      planItem({
        upload: upload(),
        findings: { resize: complete(resizePart), predict: { status: 'pending' } },
        stages: STAGES,
        stored: undefined,
        now: T1,
      }),
    );
    const plan = planItem({
      upload: upload(),
      findings: { resize: complete(resizePart), predict: complete(predictPart) },
      stages: STAGES,
      stored: { ...stored, revision: 7 },
      now: T2,
    });
    expect(plan).toMatchObject({ action: 'update', was: 'pending', detail: 'predict pending -> complete; prediction' });
    const item = written(plan);
    expect(item).toMatchObject({ status: 'complete', createdAt: T1.toISOString(), updatedAt: T2.toISOString(), revision: 8 });
    expect(item.stages.resize.updatedAt).toBe(T1.toISOString());
    expect(item.stages.predict.updatedAt).toBe(T2.toISOString());
  });

  test('an item that claims a result S3 and the DLQs do not show is reset to pending', () => {
    const stored = written(
      planItem({
        upload: upload(),
        findings: { resize: complete(resizePart), predict: complete(predictPart) },
        stages: STAGES,
        stored: undefined,
        now: T1,
      }),
    );
    const plan = planItem({ upload: upload(), findings: {}, stages: STAGES, stored, now: T2 });
    expect(plan).toMatchObject({
      action: 'update',
      was: 'complete',
      detail: 'resize complete -> pending; predict complete -> pending; thumbnails 2 -> 0; prediction',
    });
    const item = written(plan);
    expect(item).toMatchObject({ status: 'pending', thumbnails: [], prediction: null, createdAt: T1.toISOString(), revision: 2 });
    expect(item).not.toHaveProperty('verdict');
    // What the events told about the same bytes stays.
    expect(item.source).toMatchObject({ eTag: 'aaaa1111', format: 'jpeg', width: 1800 });
  });

  test('an item for another version of the object is replaced by the listed version', () => {
    const stored = written(
      planItem({ upload: upload('old0000'), findings: { resize: complete(resizePart) }, stages: STAGES, stored: undefined, now: T1 }),
    );
    const plan = planItem({ upload: upload('new1111'), findings: { resize: failed() }, stages: STAGES, stored, now: T2 });
    expect(plan).toMatchObject({
      action: 'update',
      detail: expect.stringMatching(/^source ETag old0000 -> new1111; resize complete -> failed/),
    });
    expect(written(plan).source).toEqual({ eTag: 'new1111', size: 1234, uploadedAt: LAST_MODIFIED });
  });

  test('a derived attribute that drifted from the stages is recomputed', () => {
    const stored = written(planItem({ upload: upload(), findings: { resize: failed() }, stages: STAGES, stored: undefined, now: T1 }));
    const plan = planItem({
      upload: upload(),
      findings: { resize: failed() },
      stages: STAGES,
      stored: { ...stored, status: 'complete' },
      now: T2,
    });
    expect(plan).toMatchObject({ action: 'update', was: 'complete', detail: 'status derived again from the stages' });
    expect(written(plan).status).toBe('failed');
  });

  test('property: whatever the findings and the stored item, planning again over what was planned changes nothing', () => {
    const finding = fc.constantFrom<StageFinding>(
      { status: 'pending' },
      complete(resizePart),
      complete(predictPart),
      complete({ ...predictPart, prediction: { ...prediction, verdict: 'flagged', flaggedBy: ['Porn'] } }),
      failed(),
      failed('corrupt', 'truncated'),
    );
    const findings = fc.record({ resize: finding, predict: finding });
    fc.assert(
      fc.property(findings, findings, fc.constantFrom('aaaa1111', 'bbbb2222'), (before, after, eTag) => {
        const first = planItem({ upload: upload('aaaa1111'), findings: before, stages: STAGES, stored: undefined, now: T1 });
        const stored = first.action === 'create' ? first.item : undefined;
        const second = planItem({ upload: upload(eTag), findings: after, stages: STAGES, stored, now: T2 });
        const final = second.action === 'create' || second.action === 'update' ? second.item : stored;
        const third = planItem({
          upload: upload(eTag),
          findings: after,
          stages: STAGES,
          stored: final,
          now: new Date('2026-03-03T00:00:00Z'),
        });
        return third.action === 'unchanged' || (third.action === 'skip-pending' && final === undefined);
      }),
    );
  });
});

describe('sameItem and describeChange', () => {
  const item = written(
    planItem({ upload: upload(), findings: { resize: complete(resizePart) }, stages: STAGES, stored: undefined, now: T1 }),
  );

  test('timestamps and revisions (the item’s and its stages’) do not count; anything else does', () => {
    const touched = {
      ...item,
      createdAt: 'x',
      updatedAt: 'y',
      revision: 99,
      stages: { ...item.stages, resize: { ...item.stages.resize, updatedAt: 'z' } },
    };
    expect(sameItem(item, touched)).toBe(true);
    expect(sameItem(item, { ...item, thumbnails: item.thumbnails.slice(1) })).toBe(false);
    expect(sameItem(item, { ...item, source: { ...item.source, size: 1 } })).toBe(false);
  });

  test('a new item names each stage; an update names what moved', () => {
    expect(describeChange(undefined, item, STAGES)).toBe('resize complete, predict pending');
    const other = { ...item, thumbnails: [{ ...item.thumbnails[0], bytes: 1 }, item.thumbnails[1]] };
    expect(describeChange(item, other, STAGES)).toBe('thumbnails');
  });
});

test('keysWithoutUpload: catalogue keys whose object is gone, once each, sorted', () => {
  expect(keysWithoutUpload(['b', 'a', 'c', 'a'], new Set(['c']))).toEqual(['a', 'b']);
  expect(keysWithoutUpload([], new Set(['c']))).toEqual([]);
});

describe('rebuildReport and formatRebuildReport', () => {
  const plans: ItemPlan[] = [
    { key: 'a.jpg', action: 'unchanged' },
    { key: 'b.jpg', action: 'skip-pending' },
    { key: 'c.jpg', action: 'skip-pending' },
  ];
  const changes: RebuildChange[] = [
    { key: 'z.jpg', action: 'create', status: 'complete', detail: 'resize complete, predict complete', outcome: 'dry-run' },
    { key: 'gone.jpg', action: 'remove', was: 'failed', detail: 'no object in s3://uploads', outcome: 'dry-run' },
    { key: 'm.jpg', action: 'update', was: 'complete', status: 'pending', detail: 'resize complete -> pending', outcome: 'skipped' },
  ];
  const input = {
    dryRun: true,
    table: 'images',
    uploadsBucket: 'uploads',
    stages: STAGES,
    uploads: 6,
    plans,
    changes,
    errors: [],
    warnings: [],
  };

  test('counts what was (or would be) written and removed, what was left, and what was skipped', () => {
    const report = rebuildReport(input);
    expect(report.ok).toBe(true);
    expect(report.summary).toEqual({ uploads: 6, written: 1, unchanged: 1, removed: 1, skippedPending: 2, skippedChanged: 1, errors: 0 });
    expect(report.changes.map((change) => change.key)).toEqual(['gone.jpg', 'm.jpg', 'z.jpg']);
    expect(rebuildReport({ ...input, errors: [{ key: 'x', message: 'boom' }] }).ok).toBe(false);
  });

  test('a summary, the left-out note and one line per change', () => {
    const text = formatRebuildReport(rebuildReport(input));
    const lines = text.split('\n');
    expect(lines[0]).toBe(
      'Catalogue images rebuilt from s3://uploads, its outputs and the resize, predict DLQs (dry run: nothing written)',
    );
    expect(lines[1]).toBe('  uploads 6, written 1, unchanged 1, removed 1, skipped pending 2, skipped changed 1');
    expect(text).toMatch(
      /2 upload\(s\) have no stage result yet and no item: left out; the pipeline creates the item when a stage finishes/,
    );
    expect(text).toMatch(/^would remove\s+failed -> -\s+gone\.jpg\s+no object in s3:\/\/uploads$/m);
    expect(text).toMatch(/^skipped update\s+complete -> pending\s+m\.jpg\s+resize complete -> pending$/m);
    expect(text).toMatch(/^would create\s+complete\s+z\.jpg\s+resize complete, predict complete$/m);
    expect(text).toMatch(/run it again/);
  });
});

describe('parseCatalogueArgs', () => {
  test('rebuild, with --dry-run, --json and a target', () => {
    expect(parseCatalogueArgs(['rebuild'])).toEqual({ action: 'rebuild', aws: false, dryRun: false, json: false });
    expect(parseCatalogueArgs(['rebuild', '--dry-run', '--json', '--aws', '--stage', 'prod'])).toEqual({
      action: 'rebuild',
      aws: true,
      stage: 'prod',
      dryRun: true,
      json: true,
    });
    expect(parseCatalogueArgs([])).toEqual({ help: true });
    expect(parseCatalogueArgs(['rebuild', '--help'])).toEqual({ help: true });
  });

  test('an unknown action, an argument, an unknown option or --stage without --aws is a usage error', () => {
    for (const argv of [['list'], ['rebuild', 'extra'], ['rebuild', '--force'], ['rebuild', '--stage', 'prod']]) {
      expect(() => parseCatalogueArgs(argv)).toThrow(UsageError);
    }
  });
});
