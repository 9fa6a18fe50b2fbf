import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { type Checkpoint, outputRanges, parseCheckpoint, reconcileRun } from '../../shared/operations/reconcile';

/**
 * The scheduled reconciler over an in-memory S3 and SQS: it pages from its checkpoint, stays within
 * its object and time budget, covers the bucket across runs and repairs what is missing.
 */

const thumbnails = { sizes: [512, 256], format: 'webp' as const };
const ETAG = '"e1"';
const OLD = new Date('2026-01-01T00:00:00Z');

interface Fake {
  s3: S3Client;
  sqs: SQSClient;
  calls: Record<string, number>;
  sent: { QueueUrl: string; MessageBody: string }[];
}

/** Buckets of keys (sorted as S3 lists them) and queues that are empty: enough for a run. */
function fake(buckets: Record<string, Record<string, Record<string, string>>>): Fake {
  const calls: Record<string, number> = {};
  const sent: Fake['sent'] = [];
  const count = (name: string) => {
    calls[name] = (calls[name] ?? 0) + 1;
  };
  const s3 = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name;
      count(name);
      const input = command.input as { Bucket: string; Key?: string; Prefix?: string; StartAfter?: string; MaxKeys?: number };
      const objects = buckets[input.Bucket];
      if (name === 'ListObjectsV2Command') {
        const keys = Object.keys(objects)
          .sort()
          .filter((key) => key.startsWith(input.Prefix ?? '') && key > (input.StartAfter ?? ''));
        const page = keys.slice(0, input.MaxKeys ?? 1000);
        return {
          Contents: page.map((Key) => ({ Key, ETag: ETAG, LastModified: OLD, Size: 1 })),
          IsTruncated: keys.length > page.length,
        };
      }
      if (name === 'HeadObjectCommand') {
        const metadata = objects[input.Key as string];
        if (!metadata) throw Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
        return { ETag: ETAG, Metadata: metadata };
      }
      throw new Error(`unexpected ${name}`);
    },
  } as unknown as S3Client;
  const sqs = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name;
      count(name);
      if (name === 'GetQueueAttributesCommand') return { Attributes: {} };
      if (name === 'ReceiveMessageCommand') return { Messages: [] };
      if (name === 'SendMessageCommand') {
        sent.push(command.input as Fake['sent'][number]);
        return {};
      }
      throw new Error(`unexpected ${name}`);
    },
  } as unknown as SQSClient;
  return { s3, sqs, calls, sent };
}

const target = {
  uploadsBucket: 'uploads',
  thumbnailsBucket: 'thumbnails',
  families: [
    { family: 'thumbnails' as const, functionName: 'resize', queueUrl: 'q/resize', dlqUrl: 'q/resize-dlq' },
    { family: 'prediction' as const, functionName: 'predict', queueUrl: 'q/predict', dlqUrl: 'q/predict-dlq' },
  ],
  deliveryDlqUrl: 'q/delivery-dlq',
};

/** `n` uploads; every one complete except those listed as missing their thumbnails. */
function bucketsOf(n: number, withoutThumbnails: readonly number[] = []) {
  const uploads: Record<string, Record<string, string>> = {};
  const outputs: Record<string, Record<string, string>> = {};
  for (let i = 0; i < n; i++) {
    const key = `u/${String(i).padStart(4, '0')}.jpg`;
    uploads[key] = {};
    outputs[`predictions/${key}.json`] = { 'source-etag': 'e1' };
    if (withoutThumbnails.includes(i)) continue;
    outputs[`512/${key}.webp`] = { 'source-etag': 'e1' };
    outputs[`256/${key}.webp`] = { 'source-etag': 'e1' };
  }
  return { uploads, thumbnails: outputs };
}

function memoryCheckpoints(initial?: Checkpoint) {
  let stored = initial ?? parseCheckpoint('{}');
  return {
    read: async () => stored,
    write: async (checkpoint: Checkpoint) => {
      stored = checkpoint;
    },
    current: () => stored,
  };
}

const options = (budget: Partial<Parameters<typeof reconcileRun>[2]['budget']> = {}) => ({
  thumbnails,
  graceSeconds: 60,
  maxReceiveCount: 5,
  region: 'us-east-1',
  now: () => new Date('2026-02-01T00:00:00Z'),
  budget: {
    maxObjectsPerRun: 25,
    pageSize: 10,
    reserveMs: 1000,
    remainingMs: () => 600_000,
    maxRepairsPerRun: 100,
    repairRatePerSecond: 1000,
    maxDlqMessages: 100,
    concurrency: 4,
    ...budget,
  },
});

test('a run judges at most maxObjectsPerRun uploads, HEADs at most one marker per family each, and leaves its checkpoint', async () => {
  const s = fake(bucketsOf(60));
  const checkpoints = memoryCheckpoints();
  const run = await reconcileRun({ ...s, checkpoints }, target, options());
  expect(run.summary).toMatchObject({ uploads: 25, complete: 25, missing: 0 });
  expect(run.stoppedBecause).toBe('max-objects');
  expect(s.calls.HeadObjectCommand).toBe(2 * 25);
  expect(checkpoints.current()).toMatchObject({ startAfter: 'u/0024.jpg', passes: 0 });
  expect(s.sent).toEqual([]);
});

test('runs cover the whole bucket, each upload once per pass, and the pass starts again at the end', async () => {
  const s = fake(bucketsOf(60, [7, 42]));
  const checkpoints = memoryCheckpoints();
  const judged: number[] = [];
  const repaired: string[] = [];
  for (let i = 0; i < 3; i++) {
    const run = await reconcileRun({ ...s, checkpoints }, target, options());
    judged.push(run.summary.uploads);
    repaired.push(...run.repairs.map((repair) => `${repair.functionName}:${repair.key}`));
  }
  expect(judged).toEqual([25, 25, 10]);
  expect(checkpoints.current()).toEqual({ startAfter: '', passes: 1 });
  expect(repaired).toEqual(['resize:u/0007.jpg', 'resize:u/0042.jpg']);
  expect(s.sent.map((message) => message.QueueUrl)).toEqual(['q/resize', 'q/resize']);
});

test('no page is started when the remaining time is under the reserve; the checkpoint stays', async () => {
  const s = fake(bucketsOf(30));
  const checkpoints = memoryCheckpoints({ startAfter: 'u/0009.jpg', passes: 2 });
  let remaining = 5000;
  const run = await reconcileRun(
    { ...s, checkpoints },
    target,
    options({
      reserveMs: 2000,
      remainingMs: () => {
        remaining -= 2000;
        return remaining;
      },
    }),
  );
  expect(run.stoppedBecause).toBe('time');
  expect(run.pages).toBe(1);
  expect(checkpoints.current()).toMatchObject({ startAfter: 'u/0019.jpg', passes: 2 });
});

test('the output ranges of a page: one per folder, from its first to its last expected key', () => {
  const uploads = [{ key: 'b.jpg' }, { key: 'a.jpg' }];
  expect(outputRanges(uploads, { thumbnails, families: ['thumbnails', 'prediction'] })).toEqual([
    { prefix: '512/', first: '512/a.jpg.webp', last: '512/b.jpg.webp' },
    { prefix: '256/', first: '256/a.jpg.webp', last: '256/b.jpg.webp' },
    { prefix: 'predictions/', first: 'predictions/a.jpg.json', last: 'predictions/b.jpg.json' },
  ]);
});

test('a checkpoint that is not one (the stack creates `{}`) starts a pass', () => {
  expect(parseCheckpoint('{}')).toEqual({ startAfter: '', passes: 0 });
  expect(parseCheckpoint('not json')).toEqual({ startAfter: '', passes: 0 });
  expect(parseCheckpoint('{"startAfter":"k","passes":3}')).toEqual({ startAfter: 'k', passes: 3 });
});
