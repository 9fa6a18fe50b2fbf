import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DeleteItemCommand, type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import { queueFunctions } from '../../functions/registry';
import { MODELS_DIR, seedDirectory } from '../../local/samples';
import type { RebuildReport } from '../../ops/catalogueRebuild';
import type { CatalogueItem } from '../../shared/catalogue/item';
import { type Catalogue, createCatalogue } from '../../shared/catalogue/store';
import { createDynamoDbClient } from '../../shared/clients';
import { declaredConfig } from '../../shared/config';
import type { AuditReport } from '../../shared/operations/audit';
import { startTestStack, type TestStack } from '../helpers/localStack';
import { runCli } from '../helpers/runCli';

/**
 * `pipeline catalogue rebuild` against the whole local pipeline with the real resize and predict
 * functions and the committed moderation model: the catalogue the pipeline wrote is deleted, and the
 * rebuild brings it back from the buckets and the DLQs alone; the audit sees a hand-corrupted item.
 */

const SAMPLES = path.resolve(__dirname, '../../events/samples');
const photo = readFileSync(path.join(SAMPLES, 'landscape.jpg'));
const corrupt = readFileSync(path.join(SAMPLES, 'corrupt.png'));
const TABLE = declaredConfig.local.tables.catalogue;
const STAGES = queueFunctions().map((fn) => fn.name);
const KEYS = { a: 'rebuild/a.jpg', b: 'rebuild/b one+ü.jpg', corrupt: 'rebuild/corrupt.png' };

jest.setTimeout(180_000);

let t: TestStack;
let dynamodb: DynamoDBClient;
let catalogue: Catalogue;
/** The items the live pipeline wrote, by key. */
const live = new Map<string, CatalogueItem>();

beforeAll(async () => {
  t = await startTestStack({ seed: false, batchWindowSeconds: 0 });
  await seedDirectory(t.s3, 'models', MODELS_DIR);
  dynamodb = createDynamoDbClient(t.stack.servers.env);
  catalogue = createCatalogue({ client: dynamodb, tableName: TABLE, stages: STAGES });
}, 60_000);

afterAll(async () => {
  dynamodb?.destroy();
  await t?.stop();
});

const cli = (args: string[]) => runCli(args, t.stack.servers.env);

async function rebuild(...flags: string[]): Promise<RebuildReport> {
  const run = await cli(['catalogue', 'rebuild', '--json', ...flags]);
  expect({ code: run.code, err: run.err }).toEqual({ code: 0, err: [] });
  return JSON.parse(run.out.join('\n')) as RebuildReport;
}

async function depth(queueUrl: string) {
  const names = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] as const;
  const { Attributes = {} } = await t.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [...names] }));
  return names.reduce((sum, name) => sum + Number(Attributes[name]), 0);
}

const deleteItem = (key: string) => dynamodb.send(new DeleteItemCommand({ TableName: TABLE, Key: marshall({ key }) }));

test('the live pipeline catalogues real images and a corrupt one; a rebuild of that table changes nothing', async () => {
  await t.put(KEYS.a, photo);
  await t.put(KEYS.b, photo);
  await t.put(KEYS.corrupt, corrupt);
  for (const key of Object.values(KEYS)) {
    const item = await t.waitFor(
      async () => {
        const found = await catalogue.get(key);
        return found && STAGES.every((stage) => found.stages[stage]?.status !== 'pending') ? found : undefined;
      },
      90_000,
      `every stage of ${key} recorded`,
    );
    live.set(key, item);
  }
  // The corrupt upload's failures are recorded before they are dead-lettered: wait for the DLQ entries too.
  await t.waitFor(
    async () =>
      (await depth(t.queueUrls.resizeDlq)) === 1 &&
      (await depth(t.queueUrls.predictDlq)) === 1 &&
      (await depth(t.queueUrls.resize)) === 0 &&
      (await depth(t.queueUrls.predict)) === 0,
    60_000,
    'the corrupt upload in both DLQs, and empty queues',
  );
  expect(live.get(KEYS.a)?.status).toBe('complete');
  expect(live.get(KEYS.corrupt)?.status).toBe('failed');

  const report = await rebuild('--dry-run');
  expect(report.summary).toEqual({ uploads: 3, written: 0, unchanged: 3, removed: 0, skippedPending: 0, skippedChanged: 0, errors: 0 });
});

test('every item deleted: a dry run writes nothing; the rebuild restores them, and a second run writes nothing', async () => {
  for (const key of Object.values(KEYS)) await deleteItem(key);

  const dry = await rebuild('--dry-run');
  expect(dry).toMatchObject({ dryRun: true, summary: { uploads: 3, written: 3, unchanged: 0, removed: 0 } });
  expect(dry.changes.every((change) => change.outcome === 'dry-run' && change.action === 'create')).toBe(true);
  expect(await catalogue.get(KEYS.a)).toBeUndefined();

  const text = await cli(['catalogue', 'rebuild']);
  expect(text.code).toBe(0);
  const output = text.out.join('\n');
  expect(output).toMatch(/^ {2}uploads 3, written 3, unchanged 0, removed 0, skipped pending 0$/m);
  expect(output).toMatch(/^create\s+complete\s+rebuild\/a\.jpg\s+resize complete, predict complete$/m);
  expect(output).toMatch(/^create\s+failed\s+rebuild\/corrupt\.png\s+resize failed \([a-z-]+\), predict failed \([a-z-]+\)$/m);

  for (const key of [KEYS.a, KEYS.b]) {
    const before = live.get(key)!;
    const item = (await catalogue.get(key))!;
    expect(item).toMatchObject({
      status: 'complete',
      verdict: before.verdict,
      thumbnails: before.thumbnails,
      prediction: before.prediction,
    });
    expect(item.thumbnails.map((thumbnail) => thumbnail.size).sort((x, y) => x - y)).toEqual([256, 512, 1024]);
    expect(item.prediction?.labels.length).toBeGreaterThan(0);
    const { sequencer: _sequencer, uploadedAt: _uploadedAt, ...source } = before.source;
    expect(item.source).toMatchObject(source);
  }
  const failed = (await catalogue.get(KEYS.corrupt))!;
  const before = live.get(KEYS.corrupt)!;
  expect(failed).toMatchObject({ status: 'failed', thumbnails: [], prediction: null });
  for (const stage of STAGES) {
    expect(failed.stages[stage]).toMatchObject({
      status: 'failed',
      reason: before.stages[stage].reason,
      message: before.stages[stage].message,
    });
  }

  const again = await rebuild();
  expect(again.summary).toMatchObject({ uploads: 3, written: 0, unchanged: 3, removed: 0 });
  expect(again.changes).toEqual([]);
});

test('an item whose object is gone is removed', async () => {
  await catalogue.record({
    key: 'rebuild/gone.jpg',
    stage: 'resize',
    source: { eTag: 'feedface', size: 10, uploadedAt: new Date().toISOString() },
    result: { status: 'failed', reason: 'corrupt', message: 'left behind' },
  });
  const report = await rebuild();
  expect(report.summary).toMatchObject({ uploads: 3, written: 0, unchanged: 3, removed: 1 });
  expect(report.changes).toEqual([
    { key: 'rebuild/gone.jpg', action: 'remove', was: 'failed', detail: 'no object in s3://uploads', outcome: 'done' },
  ]);
  expect(await catalogue.get('rebuild/gone.jpg')).toBeUndefined();
});

test('the audit reports a hand-corrupted item as disagreeing, and agrees again after a rebuild', async () => {
  await dynamodb.send(
    new UpdateItemCommand({
      TableName: TABLE,
      Key: marshall({ key: KEYS.corrupt }),
      UpdateExpression: 'SET #status = :complete',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: marshall({ ':complete': 'complete' }),
    }),
  );

  const audit = await cli(['audit', '--json', '--grace-seconds', '0']);
  // The uploads are all accounted for (the corrupt one by its DLQ entries): the exit code says so.
  expect(audit.code).toBe(0);
  const report = JSON.parse(audit.out.join('\n')) as AuditReport;
  expect(report.summary).toMatchObject({ uploads: 3, complete: 2, 'dead-lettered': 1, missing: 0 });
  expect(report.catalogue).toMatchObject({ items: 3, judged: 'all' });
  expect(report.catalogue?.disagreements).toEqual([
    {
      key: KEYS.corrupt,
      problem: 'complete-not-in-s3',
      catalogue: { status: 'complete', eTag: live.get(KEYS.corrupt)!.source.eTag },
      audit: 'dead-lettered',
      detail: expect.stringMatching(/^the item says complete, but thumbnails: resize DLQ: /),
    },
  ]);
  const text = await cli(['audit', '--grace-seconds', '0']);
  expect(text.out.join('\n')).toMatch(/^complete-not-in-s3\s+complete\s+dead-lettered\s+rebuild\/corrupt\.png\s+the item says complete/m);
  expect(text.out.join('\n')).toMatch(/npx pipeline catalogue rebuild/);

  const repaired = await rebuild();
  expect(repaired.changes).toEqual([
    expect.objectContaining({ key: KEYS.corrupt, action: 'update', was: 'complete', status: 'failed', outcome: 'done' }),
  ]);
  const clean = JSON.parse((await cli(['audit', '--json', '--grace-seconds', '0'])).out.join('\n')) as AuditReport;
  expect(clean.catalogue?.disagreements).toEqual([]);
  // Neither the rebuild nor the audit consumed the DLQs.
  expect(await depth(t.queueUrls.resizeDlq)).toBe(1);
  expect(await depth(t.queueUrls.predictDlq)).toBe(1);
});
