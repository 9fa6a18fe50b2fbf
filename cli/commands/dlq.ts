import { ListDeadLetterSourceQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localEndpoints, localPorts, localQueueUrl } from '../../local/endpoints';
import { sqsClientOptions } from '../../shared/clients';
import { declaredConfig } from '../../shared/config';
import { type DlqRow, formatDlqRows, parseDlqMessage } from '../../ops/dlqRows';
import { type RedriveResult, redrive } from '../../ops/redrive';
import { peekQueue, type ScanOptions } from '../../ops/scanQueue';
import { describeStackResources, type StackResources, stackName } from '../../ops/stackOutputs';
import type { DlqListArgs, DlqName, DlqRedriveArgs, TargetArgs } from '../args';
import type { Output } from '../output';

type Env = Record<string, string | undefined>;

/** The buckets and queues an operations command works on, and how to reach them. */
export interface OperationsTarget {
  /** For messages: "the local stack at ...", "stack image-pipeline-dev". */
  description: string;
  local: boolean;
  /** Environment for s3ClientOptions / sqsClientOptions. */
  clientEnv: Env;
  buckets: { uploads?: string; thumbnails?: string };
  queueUrls: { resize?: string; predict?: string };
  dlqUrls: Partial<Record<DlqName, string>>;
  scan: ScanOptions;
}

/**
 * Local stack (default): the same endpoint logic as `pipeline upload` (AWS_ENDPOINT_URL_S3/_SQS
 * when set, else 127.0.0.1 on S3_PORT/SQS_PORT) and the local names of pipeline.config.json.
 * --aws: the SDK's default endpoints and credentials; names from the stage's CloudFormation outputs,
 * looked up only when `needsStack` (a --queue-url or bucket flags may be all a command needs).
 */
export async function resolveTarget(
  args: TargetArgs & { uploadsBucket?: string; thumbnailsBucket?: string },
  needsStack: boolean,
  env: Env = process.env,
): Promise<OperationsTarget> {
  const local = declaredConfig.local;
  if (args.aws) {
    // The SDK reads endpoint overrides from the environment by itself; --aws means the real services.
    for (const name of ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_SQS']) delete process.env[name];
    const clientEnv = { ...env, AWS_ENDPOINT_URL: undefined, AWS_ENDPOINT_URL_S3: undefined, AWS_ENDPOINT_URL_SQS: undefined };
    const name = stackName(declaredConfig.service, args.stage ?? 'dev');
    const resources: StackResources = needsStack ? await describeStackResources(name) : {};
    return {
      description: needsStack ? `stack ${name}` : 'AWS',
      local: false,
      clientEnv,
      buckets: { uploads: args.uploadsBucket ?? resources.uploadsBucket, thumbnails: args.thumbnailsBucket ?? resources.thumbnailsBucket },
      queueUrls: { resize: resources.resizeQueueUrl, predict: resources.predictQueueUrl },
      dlqUrls: { resize: resources.resizeDlqUrl, predict: resources.predictDlqUrl, delivery: resources.deliveryDlqUrl },
      // A short poll samples only some SQS servers and may answer empty while messages remain.
      scan: { waitTimeSeconds: 1 },
    };
  }
  const endpoints = localEndpoints(localPorts(env));
  const s3Endpoint = env.AWS_ENDPOINT_URL_S3 || endpoints.s3Endpoint;
  const sqsEndpoint = env.AWS_ENDPOINT_URL_SQS || endpoints.sqsEndpoint;
  const url = (name: string) => localQueueUrl(sqsEndpoint, name);
  const stack = !env.AWS_ENDPOINT_URL_SQS;
  return {
    description: `${stack ? 'the local stack at ' : ''}${sqsEndpoint}`,
    local: stack,
    clientEnv: { ...env, AWS_ENDPOINT_URL_S3: s3Endpoint, AWS_ENDPOINT_URL_SQS: sqsEndpoint },
    buckets: {
      uploads: args.uploadsBucket ?? env.UPLOADS_BUCKET ?? local.buckets.uploads,
      thumbnails: args.thumbnailsBucket ?? env.THUMBNAILS_BUCKET ?? local.buckets.thumbnails,
    },
    queueUrls: { resize: url(local.queues.resize), predict: url(local.queues.predict) },
    dlqUrls: { resize: url(local.queues.resizeDlq), predict: url(local.queues.predictDlq), delivery: url(local.queues.deliveryDlq) },
    // Emulators: local-aws-sqs makes a long poll for several messages wait its whole time.
    scan: { waitTimeSeconds: 0 },
  };
}

/** A failure message that says what to do about the usual causes. */
export function describeFailure(error: unknown, target: Pick<OperationsTarget, 'local' | 'description'>): string {
  const text = `${(error as Error).name}: ${(error as Error).message} ${(error as { code?: string }).code ?? ''}`;
  if (/ECONNREFUSED/.test(text))
    return `cannot reach ${target.description}${target.local ? ' (is the local stack running? `npm start`)' : ''}`;
  if (/QueueDoesNotExist|NonExistentQueue/.test(text)) return `${(error as Error).message} (queue not found at ${target.description})`;
  return (error as Error).message || String(error);
}

const MAX_RECEIVE_COUNT = declaredConfig.queues.maxReceiveCount;
const queueNameOf = (url: string) => url.split('/').filter(Boolean).pop() ?? url;
const isMissingQueue = (error: unknown) =>
  /QueueDoesNotExist|NonExistentQueue/.test(`${(error as Error).name} ${(error as Error).message}`);

/** The DLQs a command covers, in order; with --queue-url just that one. */
function chosenDlqs(
  target: OperationsTarget,
  args: { queue?: DlqName; queueUrl?: string },
  all: readonly DlqName[],
): { name: string; url: string; optional: boolean }[] {
  if (args.queueUrl) return [{ name: args.queue ?? queueNameOf(args.queueUrl), url: args.queueUrl, optional: false }];
  const names = args.queue ? [args.queue] : all;
  return names.map((name) => {
    const url = target.dlqUrls[name];
    if (!url) throw new Error(`no URL for the ${name} DLQ at ${target.description}; pass --queue-url`);
    // The delivery DLQ is absent from stacks started before it existed; an explicit --queue delivery is not optional.
    return { name, url, optional: name === 'delivery' && !args.queue };
  });
}

/** `pipeline dlq list`. */
export async function runDlqList(args: DlqListArgs, output: Output): Promise<number> {
  const target = await resolveTarget(args, args.aws && !args.queueUrl).catch((error: Error) => {
    output.err(`pipeline dlq list: ${error.message}`);
  });
  if (!target) return 1;
  const sqs = new SQSClient({ ...sqsClientOptions(target.clientEnv), maxAttempts: 2 });
  try {
    const rows: DlqRow[] = [];
    for (const dlq of chosenDlqs(target, args, ['resize', 'predict', 'delivery'])) {
      try {
        const { messages, truncated } = await peekQueue(sqs, dlq.url, target.scan);
        rows.push(...messages.map((message) => parseDlqMessage(message, { queue: dlq.name, maxReceiveCount: MAX_RECEIVE_COUNT })));
        output.err(`${dlq.name} DLQ: ${messages.length} message(s)${truncated ? ' (stopped early: more remain)' : ''}`);
      } catch (error) {
        if (dlq.optional && isMissingQueue(error)) {
          output.err(`${dlq.name} DLQ: not found at ${target.description}; skipped`);
          continue;
        }
        throw error;
      }
    }
    output.out(args.json ? JSON.stringify(rows, null, 2) : formatDlqRows(rows));
    return 0;
  } catch (error) {
    output.err(`pipeline dlq list: ${describeFailure(error, target)}`);
    return 1;
  } finally {
    sqs.destroy();
  }
}

async function sourceQueueOf(sqs: SQSClient, dlqUrl: string): Promise<string> {
  const { queueUrls = [] } = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlqUrl }));
  if (queueUrls.length !== 1) {
    throw new Error(
      `${dlqUrl} is the DLQ of ${queueUrls.length === 0 ? 'no queue' : `${queueUrls.length} queues (${queueUrls.join(', ')})`}; redrive needs exactly one source queue`,
    );
  }
  return queueUrls[0];
}

function describeResult(result: RedriveResult, from: string, to: string): string {
  const how = result.method === 'move-task' ? 'StartMessageMoveTask' : 'receive/send/delete';
  const extra =
    result.notDeleted > 0 ? `; ${result.notDeleted} of them could not be deleted from the DLQ and will move again next time` : '';
  return `moved ${result.moved} message(s) from ${from} to ${to} (${how})${extra}`;
}

/** `pipeline dlq redrive`. */
export async function runDlqRedrive(args: DlqRedriveArgs, output: Output): Promise<number> {
  const target = await resolveTarget(args, args.aws && !args.queueUrl).catch((error: Error) => {
    output.err(`pipeline dlq redrive: ${error.message}`);
  });
  if (!target) return 1;
  const sqs = new SQSClient({ ...sqsClientOptions(target.clientEnv), maxAttempts: 2 });
  let total = 0;
  try {
    for (const dlq of chosenDlqs(target, args, ['resize', 'predict'])) {
      const sourceUrl = args.queueUrl ? await sourceQueueOf(sqs, dlq.url) : target.queueUrls[dlq.name as 'resize' | 'predict'];
      if (!sourceUrl) throw new Error(`no source queue for the ${dlq.name} DLQ at ${target.description}`);
      const result = await redrive({
        sqs,
        dlqUrl: dlq.url,
        sourceUrl,
        context: { queue: dlq.name, maxReceiveCount: MAX_RECEIVE_COUNT },
        reason: args.reason,
        dryRun: args.dryRun,
        scan: target.scan,
        log: (line) => output.err(line),
      });
      const from = `${dlq.name} DLQ`;
      const to = queueNameOf(sourceUrl);
      if (result.method === 'dry-run') {
        if (result.rows.length > 0) output.out(formatDlqRows(result.rows));
        output.out(`would move ${result.rows.length} message(s) from ${from} to ${to}${args.reason ? ` (reason ${args.reason})` : ''}`);
      } else {
        total += result.moved;
        output.out(describeResult(result, from, to));
      }
    }
    if (!args.dryRun) output.out(`moved ${total} message(s) in all`);
    return 0;
  } catch (error) {
    output.err(`pipeline dlq redrive: ${describeFailure(error, target)}${total > 0 ? ` (${total} message(s) had moved before this)` : ''}`);
    return 1;
  } finally {
    sqs.destroy();
  }
}
