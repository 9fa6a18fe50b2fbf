import {
  DeleteMessageCommand,
  ListMessageMoveTasksCommand,
  type Message,
  type MessageAttributeValue,
  SendMessageCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { DLQ_ATTRIBUTES } from '../deadLetter';
import { type DlqRow, parseDlqMessage, type RowContext } from './dlqRows';
import { peekQueue, queueArn, type ScanOptions, scanQueue } from './scanQueue';

export interface RedriveRequest {
  sqs: SQSClient;
  dlqUrl: string;
  /** Where the messages go back to: the queue whose redrive policy names this DLQ. */
  sourceUrl: string;
  context: RowContext;
  /** Only messages with this reason code; forces the receive/send/delete path. */
  reason?: string;
  dryRun?: boolean;
  /** Try SQS StartMessageMoveTask first (default true). */
  useMoveTask?: boolean;
  scan?: ScanOptions;
  /** How long to wait for a move task to finish. */
  moveTaskTimeoutMs?: number;
  /** Progress for a person (stderr). */
  log?: (line: string) => void;
}

export interface RedriveResult {
  method: 'dry-run' | 'move-task' | 'resend';
  moved: number;
  /** Dry run: the messages that would move. Resend: the ones that moved. Move task: empty (the server moves them). */
  rows: DlqRow[];
  /** Why the move task was not used, when it was tried and refused. */
  moveTaskRefused?: string;
  /** Sent to the source queue but not deleted from the DLQ: they will be redriven (duplicated) again next time. */
  notDeleted: number;
}

const OUR_ATTRIBUTES = new Set<string>(Object.values(DLQ_ATTRIBUTES));

/** The message attributes a redriven message keeps: anything but the failure record the DLQ added. */
export function attributesToResend(message: Message): Record<string, MessageAttributeValue> | undefined {
  const kept = Object.entries(message.MessageAttributes ?? {}).filter(([name]) => !OUR_ATTRIBUTES.has(name));
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}

export const matchesReason = (row: DlqRow, reason: string | undefined) => reason === undefined || row.reason === reason;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class MoveTaskError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MoveTaskError';
  }
}

/**
 * Moves every message with SQS's own StartMessageMoveTask (DLQ ARN -> source queue ARN) and waits
 * for it to finish. Returns the number moved; throws a MoveTaskError when the task failed or is
 * still running at the deadline, and lets the service's refusal to start one propagate (the caller
 * falls back to receive/send/delete).
 */
async function moveWithTask(
  sqs: SQSClient,
  dlqUrl: string,
  sourceUrl: string,
  options: { timeoutMs?: number; pollMs?: number; log?: (line: string) => void } = {},
): Promise<number> {
  const { timeoutMs = 300_000, pollMs = 500 } = options;
  const [sourceArn, destinationArn] = [await queueArn(sqs, dlqUrl), await queueArn(sqs, sourceUrl)];
  const running = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 10 }));
  if (running.Results?.some((task) => task.Status === 'RUNNING')) {
    throw new MoveTaskError(`a message move task is already running on ${sourceArn}; wait for it or cancel it`);
  }
  const started = Date.now();
  const { TaskHandle } = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: sourceArn, DestinationArn: destinationArn }));
  options.log?.(`message move task started: ${sourceArn} -> ${destinationArn}`);
  for (;;) {
    const { Results = [] } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 10 }));
    // A finished task no longer reports its handle: ours is the one with our handle, else the newest.
    const task =
      Results.find((result) => result.TaskHandle !== undefined && result.TaskHandle === TaskHandle) ??
      [...Results].sort((a, b) => (b.StartedTimestamp ?? 0) - (a.StartedTimestamp ?? 0))[0];
    if (!task) throw new MoveTaskError(`the move task on ${sourceArn} is not listed by ListMessageMoveTasks`);
    if (task.Status === 'COMPLETED') return task.ApproximateNumberOfMessagesMoved ?? 0;
    if (task.Status === 'FAILED' || task.Status === 'CANCELLED') {
      throw new MoveTaskError(
        `the move task ${task.Status.toLowerCase()} after moving ${task.ApproximateNumberOfMessagesMoved ?? 0} message(s)${task.FailureReason ? `: ${task.FailureReason}` : ''}`,
      );
    }
    if (Date.now() - started > timeoutMs) {
      throw new MoveTaskError(
        `the move task is still running after ${Math.round(timeoutMs / 1000)} s (${task.ApproximateNumberOfMessagesMoved ?? 0} moved so far); it continues on the server`,
      );
    }
    await sleep(pollMs);
  }
}

/**
 * Receive -> SendMessage to the source queue (body unchanged, our DLQ attributes dropped) ->
 * DeleteMessage from the DLQ, only after the send succeeded. Interrupted anywhere, a message is at
 * worst in both queues (the pipeline is idempotent), never in neither. Messages that do not match
 * the reason filter stay in the DLQ.
 */
async function moveByResending(request: RedriveRequest): Promise<Pick<RedriveResult, 'moved' | 'rows' | 'notDeleted'>> {
  const { sqs, dlqUrl, sourceUrl, context, reason } = request;
  const rows: DlqRow[] = [];
  let notDeleted = 0;
  await scanQueue(
    sqs,
    dlqUrl,
    async (message) => {
      const row = parseDlqMessage(message, context);
      if (!matchesReason(row, reason)) return 'keep';
      await sqs.send(
        new SendMessageCommand({ QueueUrl: sourceUrl, MessageBody: message.Body ?? '', MessageAttributes: attributesToResend(message) }),
      );
      rows.push(row);
      try {
        await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle! }));
        return 'deleted';
      } catch (error) {
        notDeleted++;
        request.log?.(
          `sent ${row.messageId} back but could not delete it from the DLQ (${(error as Error).message}); it will be redriven again next time`,
        );
        return 'keep';
      }
    },
    request.scan,
  );
  return { moved: rows.length, rows, notDeleted };
}

/** `pipeline dlq redrive` for one DLQ. */
export async function redrive(request: RedriveRequest): Promise<RedriveResult> {
  const { sqs, dlqUrl, context, reason } = request;
  if (request.dryRun) {
    const { messages } = await peekQueue(sqs, dlqUrl, request.scan);
    const rows = messages.map((message) => parseDlqMessage(message, context)).filter((row) => matchesReason(row, reason));
    return { method: 'dry-run', moved: 0, rows, notDeleted: 0 };
  }
  let moveTaskRefused: string | undefined;
  if (reason === undefined && request.useMoveTask !== false) {
    try {
      const moved = await moveWithTask(sqs, dlqUrl, request.sourceUrl, { timeoutMs: request.moveTaskTimeoutMs, log: request.log });
      return { method: 'move-task', moved, rows: [], notDeleted: 0 };
    } catch (error) {
      if (error instanceof MoveTaskError) throw error;
      // The server does not offer (or refused) message move tasks: move them one by one instead.
      moveTaskRefused = `${(error as Error).name}: ${(error as Error).message}`;
      request.log?.(`StartMessageMoveTask refused (${moveTaskRefused}); moving messages one by one`);
    }
  }
  const result = await moveByResending(request);
  return { method: 'resend', ...result, moveTaskRefused };
}
