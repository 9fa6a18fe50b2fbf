import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { queueName } from '../../functions/naming';
import { functionNamed, type QueueFunction, queueFunctions } from '../../functions/registry';
import { type LocalEndpoints, localQueueArn, localStackEnv } from '../../local/endpoints';
import { lambdaContext } from '../../local/poller';
import { applyEnv, requireHandler } from '../../local/stack';
import { s3ClientOptions, sqsClientOptions } from '../../shared/clients';
import { declaredConfig } from '../../shared/config';
import type { FunctionName, ReplayArgs } from '../args';
import { EXIT, errorReason } from '../errors';
import { type Output, withStdoutOnStderr } from '../output';
import { localClientEnv } from '../target';

const local = declaredConfig.local;

class ReplayError extends Error {}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The event to replay: an SQS event as Lambda delivers it (events/*.json), or a bare S3
 * notification (e.g. a DLQ message body), which is wrapped into a one-record SQS event.
 */
function toSqsEvent(parsed: unknown, functionName: FunctionName, now = Date.now()): SQSEvent {
  if (!isObject(parsed)) throw new ReplayError('the event file does not hold a JSON object');
  const records = parsed.Records;
  const isSqsEvent =
    Array.isArray(records) && records.length > 0 && records.every((record) => isObject(record) && typeof record.body === 'string');
  if (isSqsEvent) return parsed as unknown as SQSEvent;
  const isS3Notification =
    parsed.Event === 's3:TestEvent' ||
    (Array.isArray(records) && records.length > 0 && records.every((record) => isObject(record) && isObject(record.s3)));
  if (!isS3Notification) {
    throw new ReplayError(
      'the event file holds neither an SQS event (Records with a string body) nor an S3 notification (Records with s3)',
    );
  }
  const body = JSON.stringify(parsed);
  const record: SQSRecord = {
    messageId: randomUUID(),
    receiptHandle: `replay-${randomUUID()}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(now),
      SenderId: 'replay',
      ApproximateFirstReceiveTimestamp: String(now),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: localQueueArn(queueName(functionName)),
    awsRegion: local.region,
  };
  return { Records: [record] };
}

/** --function, else the function whose queue the records' eventSourceARN names, else the first function (resize). */
function functionFor(event: SQSEvent, requested?: FunctionName): FunctionName {
  if (requested) return requested;
  const queue = event.Records[0]?.eventSourceARN?.split(':').pop();
  return queueFunctions().find((fn) => queueName(fn.name) === queue)?.name ?? queueFunctions()[0].name;
}

/** Checks that the pipeline's local stack answers on the endpoints; throws a ReplayError that says how to fix it. */
async function assertStackRunning(endpoints: LocalEndpoints): Promise<void> {
  const env = localStackEnv(endpoints);
  const quick = { maxAttempts: 1, requestHandler: { connectionTimeout: 1500, requestTimeout: 3000 } };
  const s3 = new S3Client({ ...s3ClientOptions(env), ...quick });
  const sqs = new SQSClient({ ...sqsClientOptions(env), ...quick });
  const hint = 'start it with `npm start` in another terminal (or set S3_PORT / SQS_PORT to the ports it uses)';
  const check = async (what: string, endpoint: string, call: () => Promise<unknown>) => {
    try {
      await call();
    } catch (error) {
      const text = `${(error as Error).name}: ${(error as Error).message}`;
      if (/ECONNREFUSED|connect|socket|timed? ?out/i.test(text) || (error as { code?: string }).code === 'ECONNREFUSED') {
        throw new ReplayError(`the local stack is not running: nothing answers at ${endpoint} (${what}); ${hint}`);
      }
      throw new ReplayError(`something answers at ${endpoint} (${what}) but it is not the pipeline's local stack (${text}); ${hint}`);
    }
  };
  try {
    await check('S3', endpoints.s3Endpoint, () => s3.send(new HeadBucketCommand({ Bucket: local.buckets.uploads })));
    await check('SQS', endpoints.sqsEndpoint, () => sqs.send(new GetQueueUrlCommand({ QueueName: queueName(queueFunctions()[0].name) })));
  } finally {
    s3.destroy();
    sqs.destroy();
  }
}

/**
 * `pipeline replay`: the real handler, in this process, against the running local stack.
 * Exit codes: 0 no record failed, 1 some did, or the replay could not run.
 */
export async function runReplay(args: ReplayArgs, output: Output): Promise<number> {
  let event: SQSEvent;
  let fn: QueueFunction;
  try {
    let text: string;
    try {
      text = await readFile(args.eventFile, 'utf8');
    } catch (error) {
      throw new ReplayError(`cannot read ${args.eventFile}: ${errorReason(error)}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new ReplayError(`${args.eventFile} is not JSON: ${errorReason(error)}`);
    }
    event = toSqsEvent(parsed, args.functionName ?? queueFunctions()[0].name);
    fn = functionNamed(functionFor(event, args.functionName), queueFunctions());
    // The running stack's endpoints and settings (its state file), as its own handlers have them.
    const { clientEnv, ...endpoints } = localClientEnv();
    await assertStackRunning(endpoints);
    applyEnv({ ...clientEnv, ...localStackEnv(endpoints) });
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE ??= 'on-demand';
  } catch (error) {
    if (error instanceof ReplayError) {
      output.err(`pipeline replay: ${error.message}`);
      return EXIT.failed;
    }
    throw error;
  }

  const { timeoutSeconds, memoryMb } = fn.settings;
  const context = lambdaContext({ functionName: fn.name, region: local.region, timeoutSeconds, memoryMb });
  output.err(`replaying ${event.Records.length} record(s) from ${args.eventFile} into ${fn.name} (request ${context.awsRequestId})`);
  const response = await withStdoutOnStderr(async () => {
    const handler = requireHandler(fn);
    return ((await handler(event, context)) ?? { batchItemFailures: [] }) as SQSBatchResponse;
  });
  output.out(JSON.stringify(response));
  return (response.batchItemFailures ?? []).length === 0 ? EXIT.ok : EXIT.failed;
}
