import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { main } from '../../cli/main';
import { freePort } from '../../local/servers';
import { listAllObjects } from '../../shared/operations/auditSources';
import type { DlqRow } from '../../shared/operations/dlqRows';
import { lambdaContext, s3NotificationBody, sqsEvent, sqsRecord } from '../helpers/events';
import { CORPUS, type HandlerHarness, startHandlerHarness } from '../helpers/handlerHarness';

/**
 * `pipeline dlq list` and `pipeline dlq redrive` against the embedded SQS server, with DLQ messages
 * made by the real resize handler (poison images) and by the queue's own redrive policy.
 */

const HANDLER = path.resolve(__dirname, '../../functions/resize/handler');
const photo = readFileSync(path.join(CORPUS, 'exif-orientation/Landscape_0.jpg'));

let harness: HandlerHarness;
let handler: ReturnType<HandlerHarness['loadHandler']>;
let urls: HandlerHarness['servers']['queueUrls'];

beforeAll(async () => {
  harness = await startHandlerHarness();
  handler = harness.loadHandler(HANDLER);
  urls = harness.servers.queueUrls;
});
afterAll(() => harness.close());

/** Runs the `pipeline` command in this process against the harness's servers, capturing what it prints. */
async function pipeline(args: string[], ports = { s3: harness.servers.s3Endpoint, sqs: harness.servers.sqsEndpoint }) {
  const saved = { ...process.env };
  for (const name of ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_SQS']) delete process.env[name];
  process.env.S3_PORT = new URL(ports.s3).port;
  process.env.SQS_PORT = new URL(ports.sqs).port;
  const out: string[] = [];
  const err: string[] = [];
  try {
    const code = await main(args, { out: (line) => out.push(line), err: (line) => err.push(line) });
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    process.env = saved;
  }
}

async function depth(queueUrl: string) {
  const { Attributes = {} } = await harness.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return { visible: Number(Attributes.ApproximateNumberOfMessages), hidden: Number(Attributes.ApproximateNumberOfMessagesNotVisible) };
}

const listRows = async (...extra: string[]): Promise<DlqRow[]> => {
  const run = await pipeline(['dlq', 'list', '--json', ...extra]);
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout);
};

/** Uploads a file and runs the real resize handler on its event: a poison file ends in the resize DLQ. */
async function processUpload(key: string, body: Buffer) {
  const eTag = await harness.put(key, body);
  const response = await handler(sqsEvent(s3NotificationBody({ bucket: 'uploads', key, eTag, size: body.length })), lambdaContext());
  expect(response.batchItemFailures).toEqual([]);
}

/** A message the redrive policy moves: received maxReceiveCount times and never deleted (a crashing function). */
async function deadLetterByPolicy(key: string) {
  await harness.sqs.send(
    new SendMessageCommand({ QueueUrl: urls.resize, MessageBody: s3NotificationBody({ bucket: 'uploads', key, eTag: 'e1', size: 1 }) }),
  );
  for (let receive = 0; receive < 6; receive++) {
    const { Messages = [] } = await harness.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: urls.resize, MaxNumberOfMessages: 1, WaitTimeSeconds: 0, VisibilityTimeout: 30 }),
    );
    for (const message of Messages) {
      await harness.sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: urls.resize, ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: 0 }),
      );
    }
  }
  expect(await depth(urls.resize)).toEqual({ visible: 0, hidden: 0 });
}

describe('pipeline dlq against the embedded SQS server', () => {
  test('list shows every dead-lettered message with its reason, and leaves them all in the DLQ', async () => {
    await processUpload('poison/notes.jpg', Buffer.from('this is a text file named .jpg\n'));
    await processUpload('poison/truncated.jpg', photo.subarray(0, 20_000));
    await deadLetterByPolicy('stuck/crash.jpg');
    expect(await depth(urls.resizeDlq)).toEqual({ visible: 3, hidden: 0 });

    const rows = await listRows();
    const byKey = Object.fromEntries(rows.map((row) => [row.sourceKey, row]));
    expect(Object.keys(byKey).sort()).toEqual(['poison/notes.jpg', 'poison/truncated.jpg', 'stuck/crash.jpg']);
    expect(byKey['poison/notes.jpg']).toMatchObject({
      queue: 'resize',
      failureClass: 'permanent',
      reason: 'not-an-image',
      sourceBucket: 'uploads',
      attempts: 1,
      attemptsAtLeast: false,
      sourceQueueArn: 'arn:aws:sqs:us-east-1:000000000000:resize',
    });
    expect(byKey['poison/notes.jpg'].firstFailedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(byKey['poison/notes.jpg'].lastFailedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(byKey['poison/truncated.jpg']).toMatchObject({
      failureClass: 'permanent',
      reason: 'corrupt',
      errorMessage: expect.stringMatching(/premature end/),
    });
    expect(byKey['stuck/crash.jpg']).toMatchObject({
      failureClass: 'unknown',
      reason: 'max-receives',
      attempts: 5,
      attemptsAtLeast: true,
      sourceQueueArn: 'arn:aws:sqs:us-east-1:000000000000:resize',
    });

    // Nothing consumed, nothing left hidden: a second read sees the same messages.
    expect(await depth(urls.resizeDlq)).toEqual({ visible: 3, hidden: 0 });
    expect((await listRows('--queue', 'resize')).map((row) => row.messageId).sort()).toEqual(rows.map((row) => row.messageId).sort());
    expect(await listRows('--queue', 'predict')).toEqual([]);
    expect(await listRows('--queue', 'delivery')).toEqual([]);

    const table = await pipeline(['dlq', 'list']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^QUEUE\s+CLASS\s+REASON/);
    expect(table.stdout).toMatch(
      /resize\s+permanent\s+not-an-image\s+1\s.*s3:\/\/uploads\/poison\/notes\.jpg\s+the bytes match no known image signature/,
    );
    expect(table.stderr).toMatch(/resize DLQ: 3 message\(s\)/);
  });

  test('a DLQ of more than one receive batch is read whole', async () => {
    const bodies = Array.from({ length: 23 }, (_, i) => s3NotificationBody({ bucket: 'uploads', key: `many/${i}.jpg` }));
    for (const body of bodies) await harness.sqs.send(new SendMessageCommand({ QueueUrl: urls.predictDlq, MessageBody: body }));
    const rows = await listRows('--queue', 'predict');
    expect(new Set(rows.map((row) => row.sourceKey)).size).toBe(23);
    expect(await depth(urls.predictDlq)).toEqual({ visible: 23, hidden: 0 });
    await harness.drain(urls.predictDlq);
  });

  test('redrive --dry-run moves nothing', async () => {
    const run = await pipeline(['dlq', 'redrive', '--queue', 'resize', '--reason', 'not-an-image', '--dry-run']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/poison\/notes\.jpg/);
    expect(run.stdout).not.toMatch(/truncated/);
    expect(run.stdout).toMatch(/would move 1 message\(s\) from resize DLQ to resize \(reason not-an-image\)/);
    expect(await depth(urls.resizeDlq)).toEqual({ visible: 3, hidden: 0 });
    expect(await depth(urls.resize)).toEqual({ visible: 0, hidden: 0 });
  });

  test('redrive --reason moves only the matching messages, body unchanged and without the failure attributes', async () => {
    const before = (await listRows('--queue', 'resize')).find((row) => row.sourceKey === 'poison/notes.jpg')!;
    // By URL: the source queue is found with ListDeadLetterSourceQueues.
    const run = await pipeline(['dlq', 'redrive', '--queue-url', urls.resizeDlq, '--reason', 'not-an-image']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/moved 1 message\(s\) from resize-dlq DLQ to resize \(receive\/send\/delete\)/);
    expect(await depth(urls.resizeDlq)).toEqual({ visible: 2, hidden: 0 });

    const [moved, ...rest] = await harness.drain(urls.resize);
    expect(rest).toEqual([]);
    expect(moved.Body).toBe(before.body);
    expect(moved.MessageAttributes).toBeUndefined();

    // Processed again, the poison image goes straight back to the DLQ: nothing lost on the way round.
    const response = await handler({ Records: [sqsRecord(moved.Body!)] }, lambdaContext());
    expect(response.batchItemFailures).toEqual([]);
    expect((await listRows('--queue', 'resize')).map((row) => row.reason).sort()).toEqual(['corrupt', 'max-receives', 'not-an-image']);
  });

  test('redrive without a filter uses StartMessageMoveTask and empties the DLQ into the source queue', async () => {
    const run = await pipeline(['dlq', 'redrive', '--queue', 'resize']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/moved 3 message\(s\) from resize DLQ to resize \(StartMessageMoveTask\)/);
    expect(run.stdout).toMatch(/moved 3 message\(s\) in all/);
    expect(await depth(urls.resizeDlq)).toEqual({ visible: 0, hidden: 0 });
    const moved = await harness.drain(urls.resize);
    expect(moved.map((message) => JSON.parse(message.Body!).Records[0].s3.object.key).sort()).toEqual([
      'poison/notes.jpg',
      'poison/truncated.jpg',
      'stuck/crash.jpg',
    ]);
  });

  test('without a running stack: exit code 1 and what to do', async () => {
    // A port the OS just handed out and nothing listens on: a fixed one (such as 9) may be in use here.
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const run = await pipeline(['dlq', 'list'], { s3: nowhere, sqs: nowhere });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot reach the local stack at ${nowhere} (is the local stack running? \`npm start\`)`);
  });
});

test('a bucket listing longer than one page is complete (s3rver cannot make V2 continuation tokens on Node 20)', async () => {
  const keys = Array.from({ length: 1003 }, (_, i) => `page/${String(i).padStart(4, '0')} é+.bin`);
  const queue = [...keys];
  const worker = async () => {
    for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
      await harness.s3.send(new PutObjectCommand({ Bucket: 'models', Key: key, Body: 'x' }));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const listed = await listAllObjects(harness.s3, 'models', 'page/');
  expect(listed.map((object) => object.key)).toEqual(keys);
  expect(listed[0]).toEqual({ key: keys[0], eTag: expect.stringMatching(/^"[0-9a-f]{32}"$/), lastModified: expect.any(Date), size: 1 });
});
