import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { QueueFunction } from '../functions/registry';
import type { PipelineConfig } from '../shared/config';
import { familySources, runAudit } from '../shared/operations/auditSources';
import { plannedRepairs, type Repair, sendRepairs } from '../shared/operations/repair';

/**
 * What `npm start` does before anything else reaches the queues: every upload with neither complete
 * outputs nor a DLQ entry nor a queued message (work lost when the last stack stopped or was
 * killed) is sent to its functions' queues again, once. The audit's own rules decide, so a
 * restart and `pipeline audit --repair` agree on what was lost.
 */
export async function reconcileUploads(
  clients: { s3: S3Client; sqs: SQSClient },
  target: {
    functions: readonly QueueFunction[];
    queueUrl: (functionName: string) => string;
    dlqUrl: (functionName: string) => string;
    deliveryDlqUrl: string;
    region: string;
  },
  config: Pick<PipelineConfig, 'buckets' | 'thumbnails' | 'queues'>,
): Promise<Repair[]> {
  const families = familySources(target.functions, (name) => ({ queueUrl: target.queueUrl(name), dlqUrl: target.dlqUrl(name) }));
  const report = await runAudit(
    clients,
    { uploadsBucket: config.buckets.uploads, thumbnailsBucket: config.buckets.thumbnails, families, deliveryDlqUrl: target.deliveryDlqUrl },
    {
      thumbnails: config.thumbnails,
      outputs: 'all',
      // Nothing is in flight yet: an upload without its outputs was lost, however young.
      graceSeconds: 0,
      maxReceiveCount: config.queues.maxReceiveCount,
      scan: { waitTimeSeconds: 0 },
    },
  );
  const repairs = plannedRepairs(report, families);
  await sendRepairs(clients.sqs, repairs, {
    uploadsBucket: config.buckets.uploads,
    region: target.region,
    ratePerSecond: 1000,
    dryRun: false,
  });
  return repairs;
}
