import type { SQSBatchResponse } from 'aws-lambda';
import { auditStack, type BurstTarget, burstImages, formatFigures, runBurst, verifyBurst } from '../../scripts/burst';
import { startTestStack, type TestStack } from '../helpers/localStack';

/**
 * A burst of small uploads on the whole local pipeline with the configured batching window, then
 * every thumbnail checked and `pipeline audit` (a child process) clean. The 1,000-upload run is
 * `npx tsx scripts/burst.ts` (about a minute here); this is the same code at 100. The predict
 * function is a stand-in (no model in the repository yet), so the audit checks thumbnails only.
 */

const COUNT = 100;
let t: TestStack;

beforeAll(async () => {
  t = await startTestStack({ seed: false, handlers: { predict: async (): Promise<SQSBatchResponse> => ({ batchItemFailures: [] }) } });
});
afterAll(async () => {
  await t?.stop();
});

test(`a burst of ${COUNT} uploads: each delivered once and processed, every thumbnail right, pipeline audit clean`, async () => {
  const target: BurstTarget = { s3: t.s3, sqs: t.sqs, queueUrls: t.queueUrls, ports: t.ports, fanout: t.stack.fanout };
  const images = await burstImages();
  const figures = await runBurst(target, { count: COUNT, images, timeoutMs: 120_000 });
  // Empty queues mean every message was deleted; the poller records the batch just after its delete
  // returns, so the last report may still be on its way: wait until the reports account for them all.
  const resizeDelivered = () => t.batches.filter((report) => report.functionName === 'resize').flatMap((report) => report.messageIds);
  await t.waitFor(() => resizeDelivered().length >= COUNT, 30_000, `resize batch reports covering all ${COUNT} uploads`);
  const verified = await verifyBurst(target, figures, images);
  const audit = await auditStack(t.ports, 'thumbnails');
  console.log(formatFigures(figures, { 'thumbnails checked': verified.checked, audit: `exit ${audit.code}` }));

  expect(figures.dlqDepth).toEqual({ resize: 0, predict: 0 });
  expect(figures.maxDepth.resize).toBeGreaterThan(0);
  const resize = t.batches.filter((report) => report.functionName === 'resize');
  expect(resize.filter((report) => report.invocationError || report.failedMessageIds.length > 0)).toEqual([]);
  const delivered = resize.flatMap((report) => report.messageIds);
  expect(new Set(delivered).size).toBe(COUNT);
  expect(delivered).toHaveLength(COUNT);

  expect(verified.problems).toEqual([]);
  expect(verified.checked).toBe(COUNT * 3);
  expect(audit.stderr).toBe('');
  expect(audit.code).toBe(0);
  expect(audit.report?.summary).toEqual({ uploads: COUNT, complete: COUNT, 'dead-lettered': 0, pending: 0, missing: 0 });
}, 240_000);
