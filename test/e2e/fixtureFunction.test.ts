import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { STATE_FILE } from '../../local/stackState';
import { FUNCTIONS as WITH_ECHO } from '../fixtures/registry/withEcho';
import { startTestStack, type TestStack } from '../helpers/localStack';

/**
 * A throwaway third function, declared only in a fixture registry (test/fixtures/registry/withEcho.ts)
 * with its handler: the local stack creates its queue and DLQ, fans uploads out to it, polls it and
 * invokes its handler, with no other file changed. The template side is test/template/registryFixture.test.ts.
 */

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack({ functions: WITH_ECHO, seed: false });
});
afterAll(() => t?.stop());

test('its queue and DLQ exist, with the redrive policy every function queue has', async () => {
  expect(t.queueUrls.echo).toMatch(/\/000000000000\/echo$/);
  expect(t.queueUrls.echoDlq).toMatch(/\/000000000000\/echo-dlq$/);
  const { Attributes = {} } = await t.sqs.send(new GetQueueAttributesCommand({ QueueUrl: t.queueUrls.echo, AttributeNames: ['All'] }));
  const { Attributes: resize = {} } = await t.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: t.queueUrls.resize, AttributeNames: ['All'] }),
  );
  expect(JSON.parse(Attributes.RedrivePolicy ?? '{}')).toEqual({
    ...JSON.parse(resize.RedrivePolicy ?? '{}'),
    deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:echo-dlq',
  });
  expect(Attributes.VisibilityTimeout).toBe(resize.VisibilityTimeout);
});

test('its handler gets its own DLQ in the environment, and the state file lists its queues', () => {
  expect(t.stack.env.ECHO_DLQ_URL).toBe(t.queueUrls.echoDlq);
  const state = JSON.parse(readFileSync(path.join(t.stateDir, STATE_FILE), 'utf8'));
  expect(state.queues).toMatchObject({ echo: t.queueUrls.echo, echoDlq: t.queueUrls.echoDlq });
});

test('an upload is fanned out to it and its poller invokes its handler, beside resize and predict', async () => {
  await t.put('fixture/echo-me.txt', Buffer.from('not an image: resize and predict dead-letter it, echo just counts it'));
  const byFunction = (name: string) => t.batches.filter((batch) => batch.functionName === name);
  await t.waitFor(
    () => ['echo', 'resize', 'predict'].every((name) => byFunction(name).length > 0),
    20_000,
    'a batch of each of the three functions',
  );
  const [echo] = byFunction('echo');
  expect(echo.messageIds).toHaveLength(1);
  expect(echo.failedMessageIds).toEqual([]);
  expect(echo.invocationError).toBeUndefined();
});

test('stopping the stack removes its state file', async () => {
  const file = path.join(t.stateDir, STATE_FILE);
  expect(existsSync(file)).toBe(true);
  await t.stack.stop();
  expect(existsSync(file)).toBe(false);
});
