import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { REPAIR_ATTRIBUTE } from '../events';
import type { OutputFamilyName } from '../outputs';
import { encodeS3EventKey } from '../s3Key';
import type { AuditReport } from './audit';
import type { FamilySource } from './auditSources';

/**
 * The repair of what an audit finds missing: the upload's S3 event sent again to the queue of each
 * function whose outputs are missing, marked so the function does the work even when its marker
 * output says it is done (one thumbnail deleted by hand leaves the largest one in place).
 * Uploads in flight count as pending in the audit, so a second run while the first repairs are
 * queued sends nothing.
 */

export interface Repair {
  key: string;
  eTag?: string;
  lastModified?: string;
  family: OutputFamilyName;
  functionName: string;
  /** The writer's queue, where the event goes. */
  queueUrl: string;
}

/**
 * One repair per missing family of each upload, worst first as the audit lists them, at most
 * `limit`, to the queue of the family's writer among `families` (a family not among them is left).
 */
export function plannedRepairs(
  report: Pick<AuditReport, 'entries'>,
  families: readonly Pick<FamilySource, 'family' | 'functionName' | 'queueUrl'>[],
  limit = Number.POSITIVE_INFINITY,
): Repair[] {
  const repairs: Repair[] = [];
  for (const entry of report.entries) {
    for (const family of entry.families) {
      const writer = families.find((source) => source.family === family.family);
      if (family.status !== 'missing' || !writer) continue;
      if (repairs.length >= limit) return repairs;
      const { functionName, queueUrl } = writer;
      repairs.push({ key: entry.key, eTag: entry.eTag, lastModified: entry.lastModified, family: family.family, functionName, queueUrl });
    }
  }
  return repairs;
}

/** The notification S3 would have sent for the upload, as its queue receives it (raw SNS delivery). */
export function repairNotification(repair: Repair, uploadsBucket: string, region: string): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: repair.lastModified ?? new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          bucket: { name: uploadsBucket, arn: `arn:aws:s3:::${uploadsBucket}` },
          object: { key: encodeS3EventKey(repair.key), ...(repair.eTag && { eTag: repair.eTag }) },
        },
      },
    ],
  });
}

export interface RepairOptions {
  uploadsBucket: string;
  region: string;
  /** Messages per second at most, so a repair never floods a busy pipeline. */
  ratePerSecond: number;
  dryRun: boolean;
  onSent?: (repair: Repair) => void;
}

/** Sends the repairs one by one at the rate given; returns how many were sent (none on a dry run). */
export async function sendRepairs(sqs: SQSClient, repairs: readonly Repair[], options: RepairOptions): Promise<number> {
  if (options.dryRun) return 0;
  const gapMs = 1000 / options.ratePerSecond;
  let sent = 0;
  for (const repair of repairs) {
    const started = performance.now();
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: repair.queueUrl,
        MessageBody: repairNotification(repair, options.uploadsBucket, options.region),
        MessageAttributes: { [REPAIR_ATTRIBUTE.name]: { DataType: 'String', StringValue: REPAIR_ATTRIBUTE.force } },
      }),
    );
    sent++;
    options.onSent?.(repair);
    const wait = gapMs - (performance.now() - started);
    if (wait > 0 && sent < repairs.length) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  return sent;
}
