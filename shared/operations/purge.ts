import { DeleteMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type DlqRow, parseDlqMessage, type RowContext } from './dlqRows';
import { matchesReason } from './redrive';
import { type ScanOptions, scanQueue } from './scanQueue';

/**
 * Deletes the DLQ messages an operator has dealt with (a permanent failure whose upload was
 * replaced or removed): those of one reason, older than an age, or both. Nothing else is touched;
 * a dry run lists what would go.
 */

export interface PurgeRequest {
  sqs: SQSClient;
  dlqUrl: string;
  context: RowContext;
  reason?: string;
  /** Only messages whose last failure (else when they entered the DLQ) is at least this old. */
  olderThanMs?: number;
  dryRun: boolean;
  scan?: ScanOptions;
  now?: Date;
}

/** When a row last failed: the function's record of it, else when the message entered the DLQ. */
const failedAt = (row: DlqRow) => Date.parse(row.lastFailedAt ?? row.sentAt ?? '');

export function purgeMatches(row: DlqRow, filter: Pick<PurgeRequest, 'reason' | 'olderThanMs'>, now: Date): boolean {
  if (!matchesReason(row, filter.reason)) return false;
  if (filter.olderThanMs === undefined) return true;
  const at = failedAt(row);
  return Number.isFinite(at) && now.getTime() - at >= filter.olderThanMs;
}

export async function purgeDlq(request: PurgeRequest): Promise<{ rows: DlqRow[]; deleted: number }> {
  const now = request.now ?? new Date();
  const rows: DlqRow[] = [];
  let deleted = 0;
  await scanQueue(
    request.sqs,
    request.dlqUrl,
    async (message) => {
      const row = parseDlqMessage(message, request.context);
      if (!purgeMatches(row, request, now)) return 'keep';
      rows.push(row);
      if (request.dryRun) return 'keep';
      await request.sqs.send(new DeleteMessageCommand({ QueueUrl: request.dlqUrl, ReceiptHandle: message.ReceiptHandle }));
      deleted++;
      return 'deleted';
    },
    request.scan,
  );
  return { rows, deleted };
}
