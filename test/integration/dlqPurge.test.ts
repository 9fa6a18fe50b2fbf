import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { parseAge, parseDlqArgs } from '../../cli/args';
import { DLQ_ATTRIBUTES } from '../../shared/deadLetter';
import type { DlqRow } from '../../shared/operations/dlqRows';
import { s3NotificationBody } from '../helpers/events';
import { type HandlerHarness, startHandlerHarness } from '../helpers/handlerHarness';
import { runCli } from '../helpers/runCli';

/** `pipeline dlq purge` against the embedded SQS server: only what the filters name goes, the rest stays. */

let harness: HandlerHarness;

beforeAll(async () => {
  harness = await startHandlerHarness();
});
afterAll(() => harness.close());

const env = () => ({ SQS_PORT: new URL(harness.servers.sqsEndpoint).port, S3_PORT: new URL(harness.servers.s3Endpoint).port });
const text = (value: string) => ({ DataType: 'String', StringValue: value });

async function deadLetter(key: string, reason: string, failedAt: Date) {
  await harness.sqs.send(
    new SendMessageCommand({
      QueueUrl: harness.servers.queueUrls.resizeDlq,
      MessageBody: s3NotificationBody({ bucket: 'uploads', key }),
      MessageAttributes: {
        [DLQ_ATTRIBUTES.failureClass]: text('permanent'),
        [DLQ_ATTRIBUTES.reason]: text(reason),
        [DLQ_ATTRIBUTES.errorMessage]: text('test'),
        [DLQ_ATTRIBUTES.failedAt]: text(failedAt.toISOString()),
      },
    }),
  );
}

const rows = async (): Promise<DlqRow[]> => {
  const run = await runCli(['dlq', 'list', '--queue', 'resize', '--json'], env());
  return JSON.parse(run.out.join('\n'));
};
const keysOf = (list: DlqRow[]) => list.flatMap((row) => row.objects.map((object) => object.key)).sort();

test('by reason, by age, or both; a dry run deletes nothing; other messages stay', async () => {
  const now = Date.now();
  await deadLetter('old-corrupt.png', 'corrupt', new Date(now - 10 * 86_400_000));
  await deadLetter('new-corrupt.png', 'corrupt', new Date(now - 60_000));
  await deadLetter('old-large.png', 'too-large', new Date(now - 10 * 86_400_000));

  const dry = await runCli(['dlq', 'purge', '--queue', 'resize', '--reason', 'corrupt', '--older-than', '7d', '--dry-run'], env());
  expect(dry.code).toBe(0);
  expect(dry.out.join('\n')).toContain('would delete 1 message(s) from the resize DLQ');
  expect(keysOf(await rows())).toEqual(['new-corrupt.png', 'old-corrupt.png', 'old-large.png']);

  const both = await runCli(['dlq', 'purge', '--queue', 'resize', '--reason', 'corrupt', '--older-than', '7d'], env());
  expect(both.out.join('\n')).toContain('deleted 1 message(s) from the resize DLQ');
  expect(keysOf(await rows())).toEqual(['new-corrupt.png', 'old-large.png']);

  const byAge = await runCli(['dlq', 'purge', '--queue', 'resize', '--older-than', '1d'], env());
  expect(byAge.code).toBe(0);
  expect(keysOf(await rows())).toEqual(['new-corrupt.png']);

  await runCli(['dlq', 'purge', '--queue', 'resize', '--reason', 'corrupt'], env());
  expect(await rows()).toEqual([]);
});

test('purge never empties a DLQ blindly, and its age and reason are checked', () => {
  expect(() => parseDlqArgs(['purge', '--queue', 'resize'])).toThrow(/needs --reason CODE or --older-than AGE/);
  expect(() => parseDlqArgs(['purge', '--reason', 'nope'])).toThrow(/no reason code/);
  expect(() => parseDlqArgs(['purge', '--older-than', '7 days'])).toThrow(/number and a unit/);
  expect(parseAge('90s', 'dlq')).toBe(90_000);
  expect(parseAge('7d', 'dlq')).toBe(7 * 86_400_000);
  expect(parseDlqArgs(['purge', '--reason', 'corrupt', '--dry-run'])).toMatchObject({ action: 'purge', reason: 'corrupt', dryRun: true });
});
