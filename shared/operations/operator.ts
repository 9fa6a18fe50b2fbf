import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { AuditView, DlqRowView, Operations } from '../api/operatorApp';
import type { PipelineConfig } from '../config';
import type { OutputFamilyName } from '../outputs';
import { runAudit } from './auditSources';
import { type DlqRow, parseDlqMessage } from './dlqRows';
import { isKnownReason, REASONS } from './reasons';
import { redrive } from './redrive';
import { peekQueue, type ScanOptions } from './scanQueue';

/**
 * What the operator routes do, on the stack's own queues and buckets: the same DLQ reading,
 * redrive and audit as `pipeline dlq` and `pipeline audit`, for the console.
 */

/** A DLQ an operator works on: a queue-fed function's (with its queue, where a redrive sends) or the delivery DLQ. */
export interface OperatedQueue {
  name: string;
  dlqUrl: string;
  queueUrl?: string;
  families: readonly OutputFamilyName[];
}

export interface OperationsDependencies {
  sqs: SQSClient;
  s3: S3Client;
  config: Pick<PipelineConfig, 'buckets' | 'thumbnails' | 'queues'>;
  queues: readonly OperatedQueue[];
  scan?: ScanOptions;
  /** An upload younger than this is pending, not missing. */
  graceSeconds?: number;
}

const MAX_ROWS = 1000;

function rowView(row: DlqRow): DlqRowView {
  const info = REASONS[row.reason];
  return {
    queue: row.queue,
    messageId: row.messageId,
    failureClass: row.failureClass,
    reason: row.reason,
    errorMessage: row.errorMessage,
    description: info ? { meaning: info.meaning, action: info.action } : null,
    objects: row.objects,
    attempts: row.attempts,
    firstFailedAt: row.firstFailedAt,
    lastFailedAt: row.lastFailedAt,
  };
}

export function createOperations(deps: OperationsDependencies): Operations {
  const { sqs, s3, config, queues } = deps;
  const scan = { maxMessages: MAX_ROWS, ...deps.scan };
  const context = (queue: string) => ({ queue, maxReceiveCount: config.queues.maxReceiveCount });
  const named = (name: string) => {
    const queue = queues.find((candidate) => candidate.name === name);
    if (!queue) throw new Error(`no DLQ named ${name}`);
    return queue;
  };
  return {
    queues: queues.map((queue) => queue.name),
    isKnownReason,
    async deadLetters(names) {
      const rows: DlqRowView[] = [];
      const truncated: string[] = [];
      for (const name of names) {
        const { messages, truncated: more } = await peekQueue(sqs, named(name).dlqUrl, scan);
        rows.push(...messages.map((message) => rowView(parseDlqMessage(message, context(name)))));
        if (more) truncated.push(name);
      }
      return { rows, truncated };
    },
    async redrive({ queue, reason, dryRun }) {
      const { dlqUrl, queueUrl } = named(queue);
      if (!queueUrl) throw new Error(`the ${queue} DLQ has no queue of its own to send back to`);
      // One by one: a move task needs more permissions and cannot filter by reason.
      const result = await redrive({ sqs, dlqUrl, sourceUrl: queueUrl, context: context(queue), reason, dryRun, useMoveTask: false, scan });
      return { queue, reason: reason ?? null, dryRun, count: dryRun ? result.rows.length : result.moved, notDeleted: result.notDeleted };
    },
    async audit(): Promise<AuditView> {
      const families = queues.flatMap((queue) =>
        queue.queueUrl
          ? queue.families.map((family) => ({ family, functionName: queue.name, queueUrl: queue.queueUrl as string, dlqUrl: queue.dlqUrl }))
          : [],
      );
      const delivery = queues.find((queue) => !queue.queueUrl);
      const report = await runAudit(
        { s3, sqs },
        { uploadsBucket: config.buckets.uploads, thumbnailsBucket: config.buckets.thumbnails, families, deliveryDlqUrl: delivery?.dlqUrl },
        {
          thumbnails: config.thumbnails,
          outputs: 'all',
          graceSeconds: deps.graceSeconds ?? 60,
          maxReceiveCount: config.queues.maxReceiveCount,
          scan,
        },
      );
      return {
        checkedAt: report.checkedAt,
        summary: report.summary,
        missing: report.entries
          .filter((entry) => entry.status === 'missing')
          .map((entry) => ({ key: entry.key, detail: entry.families.map((family) => `${family.family}: ${family.detail}`).join('; ') })),
        pending: report.summary.pending,
        warnings: report.warnings,
      };
    },
  };
}
