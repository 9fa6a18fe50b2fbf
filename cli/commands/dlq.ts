import { ListDeadLetterSourceQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { sqsClientOptions } from '../../shared/clients';
import { declaredConfig } from '../../shared/config';
import { type DlqRow, formatDlqRows, parseDlqMessage } from '../../shared/operations/dlqRows';
import { purgeDlq } from '../../shared/operations/purge';
import { type RedriveResult, redrive } from '../../shared/operations/redrive';
import { peekQueue } from '../../shared/operations/scanQueue';
import { DLQ_NAMES, type DlqListArgs, type DlqName, type DlqPurgeArgs, type DlqRedriveArgs, REDRIVE_NAMES } from '../args';
import { debugStack, EXIT, reportFailure } from '../errors';
import type { Output } from '../output';
import { describeFailure, type OperationsTarget, resolveTarget } from '../target';

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
    const url = name === 'delivery' ? target.deliveryDlqUrl : target.functions[name]?.dlqUrl;
    if (!url) throw new Error(`no URL for the ${name} DLQ at ${target.description}; pass --queue-url`);
    // The delivery DLQ is absent from stacks started before it existed; an explicit --queue delivery is not optional.
    return { name, url, optional: name === 'delivery' && !args.queue };
  });
}

/** `pipeline dlq list`. Exit codes: 0 listed, 1 failed. */
export async function runDlqList(args: DlqListArgs, output: Output): Promise<number> {
  const target = await resolveTarget(args, args.aws && !args.queueUrl).catch((error: unknown) => {
    reportFailure(output, 'dlq list', error);
  });
  if (!target) return EXIT.failed;
  const sqs = new SQSClient({ ...sqsClientOptions(target.clientEnv), maxAttempts: 2 });
  try {
    const rows: DlqRow[] = [];
    for (const dlq of chosenDlqs(target, args, DLQ_NAMES)) {
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
    return EXIT.ok;
  } catch (error) {
    output.err(`pipeline dlq list: ${describeFailure(error, target)}`);
    debugStack(output, error);
    return EXIT.failed;
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

/** `pipeline dlq redrive`. Exit codes: 0 moved (or, with --dry-run, listed), 1 failed. */
export async function runDlqRedrive(args: DlqRedriveArgs, output: Output): Promise<number> {
  const target = await resolveTarget(args, args.aws && !args.queueUrl).catch((error: unknown) => {
    reportFailure(output, 'dlq redrive', error);
  });
  if (!target) return EXIT.failed;
  const sqs = new SQSClient({ ...sqsClientOptions(target.clientEnv), maxAttempts: 2 });
  let total = 0;
  try {
    for (const dlq of chosenDlqs(target, args, REDRIVE_NAMES)) {
      const sourceUrl = args.queueUrl ? await sourceQueueOf(sqs, dlq.url) : target.functions[dlq.name]?.queueUrl;
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
    return EXIT.ok;
  } catch (error) {
    output.err(`pipeline dlq redrive: ${describeFailure(error, target)}${total > 0 ? ` (${total} message(s) had moved before this)` : ''}`);
    debugStack(output, error);
    return EXIT.failed;
  } finally {
    sqs.destroy();
  }
}

/** `pipeline dlq purge`. Exit codes: 0 deleted (or, with --dry-run, listed), 1 failed. */
export async function runDlqPurge(args: DlqPurgeArgs, output: Output): Promise<number> {
  const target = await resolveTarget(args, args.aws && !args.queueUrl).catch((error: unknown) => {
    reportFailure(output, 'dlq purge', error);
  });
  if (!target) return EXIT.failed;
  const sqs = new SQSClient({ ...sqsClientOptions(target.clientEnv), maxAttempts: 2 });
  let total = 0;
  try {
    for (const dlq of chosenDlqs(target, args, DLQ_NAMES)) {
      const { rows, deleted } = await purgeDlq({
        sqs,
        dlqUrl: dlq.url,
        context: { queue: dlq.name, maxReceiveCount: MAX_RECEIVE_COUNT },
        reason: args.reason,
        olderThanMs: args.olderThanMs,
        dryRun: args.dryRun,
        scan: target.scan,
      });
      if (rows.length > 0) output.out(formatDlqRows(rows));
      output.out(
        args.dryRun
          ? `would delete ${rows.length} message(s) from the ${dlq.name} DLQ`
          : `deleted ${deleted} message(s) from the ${dlq.name} DLQ`,
      );
      total += deleted;
    }
    if (!args.dryRun) output.out(`deleted ${total} message(s) in all`);
    return EXIT.ok;
  } catch (error) {
    output.err(
      `pipeline dlq purge: ${describeFailure(error, target)}${total > 0 ? ` (${total} message(s) had been deleted before this)` : ''}`,
    );
    debugStack(output, error);
    return EXIT.failed;
  } finally {
    sqs.destroy();
  }
}
