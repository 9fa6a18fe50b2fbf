import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { startTestStack, type TestStack } from '../helpers/localStack';

/**
 * A stack stopped with work still queued loses it (the local SQS keeps queues in memory); the next
 * start finds the uploads with missing outputs and sends them again, once, so nothing stays lost.
 */

const photo = readFileSync(path.resolve(__dirname, '../../events/samples/landscape.jpg'));
const corrupt = readFileSync(path.resolve(__dirname, '../../events/samples/corrupt.png'));
const stateDir = mkdtempSync(path.join(tmpdir(), 'pipeline-reconcile-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

jest.setTimeout(180_000);

const outputs = (key: string) => [`1024/${key}.webp`, `512/${key}.webp`, `256/${key}.webp`, `predictions/${key}.json`];
const allThere = async (t: TestStack, key: string) =>
  (await Promise.all(outputs(key).map((output) => t.exists('thumbnails', output)))).every(Boolean);

async function queued(t: TestStack, url: string): Promise<number> {
  const names = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] as const;
  const { Attributes = {} } = await t.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: [...names] }));
  return names.reduce((sum, name) => sum + Number(Attributes[name] ?? 0), 0);
}

test('uploads whose work was lost with the stack are processed after the next start; a complete one is left alone', async () => {
  const first = await startTestStack({ stateDir, seed: true, batchWindowSeconds: 0 });
  try {
    await first.put('done/photo.jpg', photo);
    await first.waitFor(() => allThere(first, 'done/photo.jpg'), 60_000, 'the first photo to be processed');
    await first.waitFor(async () => (await first.drain(first.queueUrls.resizeDlq)).length > 0, 60_000, 'the corrupt sample dead-lettered');
    // Hold the functions, upload, and stop with the work still queued.
    await Promise.all(Object.values(first.stack.pollers).map((poller) => poller.pause()));
    await first.put('lost/photo.jpg', photo);
    await first.put('lost/broken.png', corrupt);
    await first.waitFor(async () => (await queued(first, first.queueUrls.resize)) >= 2, 30_000, 'the uploads queued');
  } finally {
    await first.stop();
  }

  const second = await startTestStack({ stateDir, seed: true, batchWindowSeconds: 0 });
  try {
    // The resize DLQ entry of the corrupt sample was drained above, and the queues are new: it is sent again too.
    expect([...second.stack.reconciled].sort()).toEqual(['lost/broken.png', 'lost/photo.jpg', 'samples/corrupt.png']);
    await second.waitFor(() => allThere(second, 'lost/photo.jpg'), 60_000, 'the lost photo to be processed');
    const dead = await second.waitFor(async () => {
      const messages = await second.drain(second.queueUrls.resizeDlq);
      return messages.length >= 2 ? messages : undefined;
    }, 60_000);
    expect(dead.map((message) => message.MessageAttributes?.sourceKey?.StringValue).sort()).toEqual([
      'lost/broken.png',
      'samples/corrupt.png',
    ]);
  } finally {
    await second.stop();
  }
  // Nothing was lost this time: the third start sends nothing again for the photos.
  const third = await startTestStack({ stateDir, seed: true, batchWindowSeconds: 0 });
  try {
    expect(third.stack.reconciled.filter((key) => key.endsWith('.jpg'))).toEqual([]);
  } finally {
    await third.stop();
  }
});
