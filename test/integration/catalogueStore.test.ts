import type { Server } from 'node:http';
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CfnResource } from '../../infra/cfn';
import { freePort } from '../../local/servers';
import { InvalidCursorError } from '../../shared/catalogue/cursor';
import type { CatalogueItem, StageSource, StageUpdate } from '../../shared/catalogue/item';
import { type Catalogue, createCatalogue, InvalidListOptionError, type ListOptions } from '../../shared/catalogue/store';
import { CatalogueTableError, catalogueTableProperties, createTableInput, ensureTable } from '../../shared/catalogue/table';
import { createDynamoDbClient, dynamoDbClientOptions } from '../../shared/clients';
import { TransientError } from '../../shared/errors';

/**
 * The catalogue against dynalite, a DynamoDB-compatible server that enforces conditional writes,
 * index queries and DynamoDB's validation: no SDK mocks.
 */

// dynalite ships no types; this is the part of its API the test uses.
const dynalite: (options: { createTableMs: number; deleteTableMs: number; updateTableMs: number }) => Server = require('dynalite');

const STAGES = ['resize', 'predict'];
let server: Server;
let endpoint: string;
let client: DynamoDBClient;
let conflicts = 0;

beforeAll(async () => {
  const port = await freePort();
  server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${port}`;
  client = createDynamoDbClient({ AWS_ENDPOINT_URL_DYNAMODB: endpoint, AWS_REGION: 'eu-west-1' });
  // Counts the writes that lost a race, to show the concurrency test raced at all.
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if ((error as Error).name === 'ConditionalCheckFailedException') conflicts++;
        throw error;
      }
    },
    { step: 'initialize', name: 'countConflicts' },
  );
});

afterAll(async () => {
  client?.destroy();
  await new Promise((resolve) => server?.close(resolve));
});

let tables = 0;
async function freshCatalogue(options: { stages?: string[]; queryPageSize?: number } = {}): Promise<Catalogue> {
  const tableName = `catalogue-${++tables}`;
  await ensureTable(client, tableName);
  return createCatalogue({ client, tableName, stages: options.stages ?? STAGES, queryPageSize: options.queryPageSize });
}

const source = (eTag: string, sequencer: string, uploadedAt: string): StageSource => ({ eTag, sequencer, uploadedAt, size: 1234 });
const resized = (key: string, from: StageSource): StageUpdate => ({
  key,
  stage: 'resize',
  source: { ...from, format: 'jpeg', width: 800, height: 600 },
  result: { status: 'complete', thumbnails: [{ size: 256, format: 'webp', width: 256, height: 192, bytes: 9000, key: `256/${key}.webp` }] },
});
const predicted = (key: string, from: StageSource, verdict: 'clean' | 'flagged' = 'clean'): StageUpdate => ({
  key,
  stage: 'predict',
  source: { ...from, format: 'jpeg' },
  result: {
    status: 'complete',
    prediction: {
      model: 'moderation/1',
      labels: [{ label: 'Porn', score: 0.93 }],
      verdict,
      flaggedBy: verdict === 'flagged' ? ['Porn'] : [],
    },
  },
});
const failed = (key: string, stage: string, from: StageSource): StageUpdate => ({
  key,
  stage,
  source: from,
  result: { status: 'failed', reason: 'corrupt', message: 'the JPEG ends early' },
});

describe('the client', () => {
  test('AWS_ENDPOINT_URL_DYNAMODB on this machine gets the local key pair; without it the SDK defaults apply', () => {
    expect(dynamoDbClientOptions({ AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:4569' })).toMatchObject({
      endpoint: 'http://127.0.0.1:4569',
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER' },
    });
    expect(dynamoDbClientOptions({ AWS_ENDPOINT_URL_DYNAMODB: 'https://dynamodb.example.test' }).credentials).toBeUndefined();
    expect(dynamoDbClientOptions({})).toEqual({});
  });
});

describe('the table', () => {
  test('ensureTable creates it once and is harmless after; the definition is also CloudFormation properties', async () => {
    expect(await ensureTable(client, 'catalogue-ensure')).toBe('created');
    expect(await ensureTable(client, 'catalogue-ensure')).toBe('existed');
    const { Table } = await client.send(new DescribeTableCommand({ TableName: 'catalogue-ensure' }));
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'key', KeyType: 'HASH' }]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Table?.GlobalSecondaryIndexes?.map((index) => [index.IndexName, index.KeySchema, index.Projection?.ProjectionType])).toEqual(
      createTableInput('x').GlobalSecondaryIndexes?.map((index) => [index.IndexName, index.KeySchema, 'ALL']),
    );
    // Type-checked: a CloudFormation generator can use the same data as AWS::DynamoDB::Table properties.
    const resource: CfnResource = { Type: 'AWS::DynamoDB::Table', Properties: catalogueTableProperties() };
    expect(resource.Properties.GlobalSecondaryIndexes).toHaveLength(3);
  });

  test('a table of that name without the indexes is refused, not used', async () => {
    const { GlobalSecondaryIndexes: _gsi, ...bare } = createTableInput('catalogue-bare');
    await client.send(new CreateTableCommand({ ...bare, AttributeDefinitions: [{ AttributeName: 'key', AttributeType: 'S' }] }));
    await expect(ensureTable(client, 'catalogue-bare')).rejects.toThrow(CatalogueTableError);
    await expect(ensureTable(client, 'catalogue-bare')).rejects.toThrow(/byStatus, byVerdict, byUpload/);
  });
});

describe('record, get, remove', () => {
  let catalogue: Catalogue;
  beforeAll(async () => {
    catalogue = await freshCatalogue();
  });

  const v1 = source('etag-one', '0055AED6DCD90281E5', '2025-06-01T10:00:00.000Z');
  const v2 = source('etag-two', '0055AED6DCD90281F0', '2025-06-01T10:05:00.000Z');

  test('two stages recording at once both land, for every key (no lost update)', async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `race/${i}.jpg`);
    const before = conflicts;
    const outcomes = await Promise.all(keys.flatMap((key) => [catalogue.record(resized(key, v1)), catalogue.record(predicted(key, v1))]));
    expect(outcomes.every((outcome) => outcome === 'written')).toBe(true);
    for (const key of keys) {
      const item = await catalogue.get(key);
      expect(item).toMatchObject({ status: 'complete', verdict: 'clean', revision: 2, source: { width: 800, height: 600 } });
      expect(item?.thumbnails).toHaveLength(1);
      expect(item?.prediction?.model).toBe('moderation/1');
    }
    // The writes did race: some lost their condition and merged again onto the winner's item.
    expect(conflicts).toBeGreaterThan(before);
  });

  test('a late update for an old ETag is stale and leaves the newer record', async () => {
    expect(await catalogue.record(resized('late.jpg', v2))).toBe('written');
    expect(await catalogue.record(predicted('late.jpg', v1, 'flagged'))).toBe('stale');
    const item = await catalogue.get('late.jpg');
    expect(item?.source.eTag).toBe(v2.eTag);
    expect(item?.prediction).toBeNull();
    expect(item).not.toHaveProperty('verdict');
    expect(item?.revision).toBe(1);
  });

  test('a newer version replaces an older record; its other stage is pending again', async () => {
    await catalogue.record(resized('replaced.jpg', v1));
    await catalogue.record(predicted('replaced.jpg', v1, 'flagged'));
    expect(await catalogue.record(resized('replaced.jpg', v2))).toBe('written');
    const item = await catalogue.get('replaced.jpg');
    expect(item).toMatchObject({
      status: 'pending',
      prediction: null,
      source: { eTag: v2.eTag },
      stages: { predict: { status: 'pending' } },
    });
    expect(item).not.toHaveProperty('verdict');
  });

  test('a duplicate delivery is unchanged and writes nothing', async () => {
    expect(await catalogue.record(resized('twice.jpg', v1))).toBe('written');
    const first = await catalogue.get('twice.jpg');
    expect(await catalogue.record(resized('twice.jpg', v1))).toBe('unchanged');
    expect(await catalogue.get('twice.jpg')).toEqual(first);
  });

  test('a removal for an old version keeps the re-upload’s item; a later one deletes it', async () => {
    await catalogue.record(resized('reuploaded.jpg', v2));
    expect(await catalogue.remove('reuploaded.jpg', { sequencer: '0055AED6DCD90281E9', eventTime: '2025-06-01T10:02:00.000Z' })).toBe(
      'kept',
    );
    expect(await catalogue.get('reuploaded.jpg')).toBeDefined();
    expect(await catalogue.remove('reuploaded.jpg', { sequencer: '0055AED6DCD9028200', eventTime: '2025-06-01T10:09:00.000Z' })).toBe(
      'deleted',
    );
    expect(await catalogue.get('reuploaded.jpg')).toBeUndefined();
    expect(await catalogue.remove('reuploaded.jpg', { eventTime: '2025-06-01T10:09:00.000Z' })).toBe('absent');
  });

  test('a failure is recorded with its reason', async () => {
    await catalogue.record(resized('broken.jpg', v1));
    await catalogue.record(failed('broken.jpg', 'predict', v1));
    expect(await catalogue.get('broken.jpg')).toMatchObject({
      status: 'failed',
      stages: { predict: { status: 'failed', reason: 'corrupt', message: 'the JPEG ends early' }, resize: { status: 'complete' } },
    });
  });

  test('put replaces with the derived attributes recomputed; delete removes', async () => {
    await catalogue.record(resized('rebuilt.jpg', v1));
    const item = (await catalogue.get('rebuilt.jpg'))!;
    const rebuilt: CatalogueItem = {
      ...item,
      stages: { ...item.stages, predict: { status: 'complete', eTag: v1.eTag, parts: ['prediction'], updatedAt: item.updatedAt } },
      prediction: { model: 'moderation/1', labels: [], verdict: 'flagged', flaggedBy: ['Porn'] },
      status: 'pending',
    };
    await catalogue.put(rebuilt);
    expect(await catalogue.get('rebuilt.jpg')).toMatchObject({ status: 'complete', verdict: 'flagged' });
    await catalogue.delete('rebuilt.jpg');
    expect(await catalogue.get('rebuilt.jpg')).toBeUndefined();
  });

  test('SDK errors leave as TransientError: a missing table, an unreachable server', async () => {
    const missing = createCatalogue({ client, tableName: 'no-such-table', stages: STAGES });
    await expect(missing.get('a.jpg')).rejects.toBeInstanceOf(TransientError);
    const unreachable = createDynamoDbClient({
      AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${await freePort()}`,
      AWS_REGION: 'eu-west-1',
    });
    const offline = createCatalogue({ client: unreachable, tableName: 'catalogue-1', stages: STAGES });
    await expect(offline.record(resized('a.jpg', v1))).rejects.toMatchObject({ name: 'TransientError', reason: 'service-unavailable' });
    unreachable.destroy();
  });
});

describe('list', () => {
  let catalogue: Catalogue;
  /** Items by key, in upload order: 30 uploads one minute apart, under two prefixes, in each status and verdict. */
  const uploads: { key: string; uploadedAt: string; status: string; verdict?: string }[] = [];

  beforeAll(async () => {
    catalogue = await freshCatalogue({ queryPageSize: 3 });
    for (let i = 0; i < 30; i++) {
      const key = `${i % 3 === 0 ? 'beach' : 'city'}/${String(i).padStart(2, '0')}.jpg`;
      const uploadedAt = new Date(Date.UTC(2025, 5, 1, 10, i)).toISOString();
      const from = source(`etag-${i}`, (0x1000 + i).toString(16), uploadedAt);
      const kind = i % 5;
      await catalogue.record(resized(key, from));
      if (kind === 0) continue; // pending, no verdict
      if (kind === 1) await catalogue.record(failed(key, 'predict', from));
      else await catalogue.record(predicted(key, from, kind === 4 ? 'flagged' : 'clean'));
      uploads.push({
        key,
        uploadedAt,
        status: kind === 1 ? 'failed' : 'complete',
        verdict: kind === 1 ? undefined : kind === 4 ? 'flagged' : 'clean',
      });
    }
    for (let i = 0; i < 30; i += 5) {
      const key = `${i % 3 === 0 ? 'beach' : 'city'}/${String(i).padStart(2, '0')}.jpg`;
      uploads.push({ key, uploadedAt: new Date(Date.UTC(2025, 5, 1, 10, i)).toISOString(), status: 'pending' });
    }
  });

  /** Every page of a listing; each page but the last is full, and no cursor follows the last. */
  async function listAll(options: Omit<ListOptions, 'cursor'>) {
    const pages: CatalogueItem[][] = [];
    let cursor: string | null = null;
    do {
      const page = await catalogue.list({ ...options, cursor });
      if (page.cursor) expect(page.items).toHaveLength(options.limit);
      expect(page.items.length).toBeLessThanOrEqual(options.limit);
      pages.push(page.items);
      cursor = page.cursor;
    } while (cursor);
    return { pages, keys: pages.flat().map((item) => item.key) };
  }

  const newestFirst = (wanted: (upload: (typeof uploads)[number]) => boolean) =>
    uploads
      .filter(wanted)
      .sort((a, b) => b.uploadedAt.localeCompare(a.uploadedAt))
      .map((upload) => upload.key);

  test('everything, newest first, over several pages, none repeated or missing', async () => {
    const { pages, keys } = await listAll({ limit: 7 });
    expect(pages.length).toBeGreaterThan(3);
    expect(keys).toEqual(newestFirst(() => true));
  });

  test.each([
    ['by status', { status: 'complete' }, (u: (typeof uploads)[number]) => u.status === 'complete'],
    ['by status (failed)', { status: 'failed' }, (u: (typeof uploads)[number]) => u.status === 'failed'],
    ['by verdict', { verdict: 'flagged' }, (u: (typeof uploads)[number]) => u.verdict === 'flagged'],
    ['by prefix', { prefix: 'beach/' }, (u: (typeof uploads)[number]) => u.key.startsWith('beach/')],
    [
      'by status and verdict',
      { status: 'complete', verdict: 'clean' },
      (u: (typeof uploads)[number]) => u.status === 'complete' && u.verdict === 'clean',
    ],
    [
      'by verdict and prefix',
      { verdict: 'clean', prefix: 'city/' },
      (u: (typeof uploads)[number]) => u.verdict === 'clean' && u.key.startsWith('city/'),
    ],
    ['by a prefix nothing has', { prefix: 'mountain/' }, () => false],
  ] as const)('%s, newest first, paginated', async (_name, filter, wanted) => {
    for (const limit of [1, 2, 5, 100]) {
      const { keys } = await listAll({ ...(filter as Partial<ListOptions>), limit });
      expect(keys).toEqual(newestFirst(wanted));
    }
  });

  test('the items carry everything (ALL projection): no second read needed', async () => {
    const { items } = await catalogue.list({ verdict: 'flagged', limit: 1 });
    expect(items[0]).toMatchObject({
      status: 'complete',
      verdict: 'flagged',
      prediction: { flaggedBy: ['Porn'] },
      thumbnails: [{ size: 256 }],
    });
  });

  test('a bad cursor is refused before DynamoDB sees it, naming why', async () => {
    await expect(catalogue.list({ limit: 5, cursor: 'not a cursor' })).rejects.toMatchObject({
      name: 'InvalidCursorError',
      reason: 'malformed',
    });
    const { cursor } = await catalogue.list({ status: 'complete', limit: 2 });
    expect(cursor).toEqual(expect.any(String));
    await expect(catalogue.list({ status: 'failed', limit: 2, cursor })).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(catalogue.list({ status: 'complete', prefix: 'beach/', limit: 2, cursor })).rejects.toMatchObject({
      reason: 'other-listing',
    });
  });

  test('a limit out of range is refused, naming the option', async () => {
    for (const limit of [0, 1.5, 1001, Number.NaN]) {
      await expect(catalogue.list({ limit })).rejects.toBeInstanceOf(InvalidListOptionError);
    }
  });
});
