import { apiClient } from '../helpers/apiClient';
import { startTestStack, type TestStack } from '../helpers/localStack';

/**
 * The operator routes of the local HTTP API (what the console's failures page calls): the DLQ rows
 * with what each reason means, a redrive by reason with its dry run, and the audit summary, on the
 * seeded samples (one of which is corrupt and ends in both DLQs).
 */

jest.setTimeout(120_000);

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack({ batchWindowSeconds: 0 });
});

afterAll(async () => {
  await t?.stop();
});

interface Row {
  queue: string;
  reason: string;
  description: { meaning: string; action: string } | null;
  objects: { key: string }[];
}

const call = apiClient(() => t.apiUrl);

const corruptRows = async (queue: string) => {
  const { json } = await call('GET', `/operator/dlq?queue=${queue}`);
  return (json.rows as Row[]).filter((row) => row.objects.some((object) => object.key === 'samples/corrupt.png'));
};

test('the DLQ rows name the corrupt sample with its reason and what the reason means', async () => {
  const rows = await t.waitFor(async () => ((await corruptRows('resize')).length > 0 ? corruptRows('resize') : undefined), 60_000);
  expect(rows).toHaveLength(1);
  expect(['corrupt', 'not-an-image']).toContain(rows[0].reason);
  expect(rows[0].description?.meaning).toMatch(/\w/);
  expect(rows[0].description?.action).toMatch(/\w/);
  // Reading the rows does not consume them.
  expect(await corruptRows('resize')).toHaveLength(1);
});

test('a redrive by reason: the dry run counts, the redrive moves, and the poison image comes back to the DLQ', async () => {
  const [row] = await t.waitFor(async () => ((await corruptRows('resize')).length > 0 ? corruptRows('resize') : undefined), 60_000);
  const dry = await call('POST', '/operator/dlq/redrive', { queue: 'resize', reason: row.reason, dryRun: true });
  expect(dry).toEqual({ status: 200, json: { queue: 'resize', reason: row.reason, dryRun: true, count: 1, notDeleted: 0 } });
  expect(await corruptRows('resize')).toHaveLength(1);

  const batchesBefore = t.batches.length;
  const moved = await call('POST', '/operator/dlq/redrive', { queue: 'resize', reason: row.reason });
  expect(moved.json).toMatchObject({ queue: 'resize', dryRun: false, count: 1, notDeleted: 0 });
  await t.waitFor(() => t.batches.length > batchesBefore, 30_000, 'the resize function to take the redriven message');
  const again = await t.waitFor(async () => ((await corruptRows('resize')).length > 0 ? corruptRows('resize') : undefined), 60_000);
  expect(again[0].reason).toBe(row.reason);
});

test('the audit summary accounts for every sample', async () => {
  await t.waitFor(async () => (await corruptRows('predict')).length > 0, 60_000, 'the corrupt sample in the predict DLQ');
  const { status, json } = await t.waitFor(async () => {
    const result = await call('GET', '/operator/audit');
    const summary = result.json.summary as Record<string, number>;
    return summary.pending === 0 ? result : undefined;
  }, 60_000);
  expect(status).toBe(200);
  expect(json.summary).toEqual({ uploads: 3, complete: 2, 'dead-lettered': 1, pending: 0, missing: 0 });
  expect(json.missing).toEqual([]);
});

test('bad requests are refused with the reason', async () => {
  expect((await call('GET', '/operator/dlq?queue=nope')).status).toBe(400);
  expect((await call('POST', '/operator/dlq/redrive', { queue: 'resize', reason: 'no-such-reason' })).json.error).toBe('invalid-request');
});
