import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { queueFunctions } from '../../functions/registry';
import { createCatalogue } from '../../shared/catalogue/store';
import { dynamoDbClientOptions, s3ClientOptions, sqsClientOptions } from '../../shared/clients';
import { loadConfig } from '../../shared/config';
import { formatAuditReport } from '../../shared/operations/audit';
import { familySources, runAudit } from '../../shared/operations/auditSources';
import { plannedRepairs, type Repair, sendRepairs } from '../../shared/operations/repair';
import type { AuditArgs } from '../args';
import { debugStack, describeError, EXIT } from '../errors';
import type { Output } from '../output';
import { describeFailure, knownQueues, type OperationsTarget, resolveTarget } from '../target';

function formatRepair(repair: { dryRun: boolean; planned: readonly Repair[]; sent: number }): string {
  if (repair.planned.length === 0) return 'repair: nothing to send';
  if (repair.dryRun) {
    return [
      `repair (dry run): would send ${repair.planned.length} event(s)`,
      ...repair.planned.map((planned) => `  ${planned.functionName}  ${planned.key}  (${planned.family} missing)`),
    ].join('\n');
  }
  return `repair: sent ${repair.sent} event(s); they are processed as new work (run the audit again to follow them)`;
}

/** Exit codes: 0 nothing missing, 1 something missing, 2 the audit could not run. */
export async function runAuditCommand(args: AuditArgs, output: Output): Promise<number> {
  let target: OperationsTarget | undefined;
  let s3: S3Client | undefined;
  let sqs: SQSClient | undefined;
  let dynamodb: DynamoDBClient | undefined;
  try {
    target = await resolveTarget(args, args.aws);
    const { buckets } = target;
    // One family alone (`thumbnails`, `prediction`), or `all`: every family some function writes.
    const known = target;
    const families = familySources(queueFunctions(), (name) => knownQueues(known, name), args.outputs);
    if (!buckets.uploads || !buckets.thumbnails) {
      throw new Error(`the buckets of ${target.description} are not known; is the stack deployed?`);
    }
    // Sizes and format as the functions use them (the stack's THUMBNAIL_SIZES / THUMBNAIL_FORMAT override the file).
    const { thumbnails, queues } = loadConfig({
      ...target.clientEnv,
      UPLOADS_BUCKET: buckets.uploads,
      THUMBNAILS_BUCKET: buckets.thumbnails,
    });
    s3 = new S3Client({ ...s3ClientOptions(target.clientEnv), maxAttempts: 3 });
    sqs = new SQSClient({ ...sqsClientOptions(target.clientEnv), maxAttempts: 3 });
    // The catalogue is compared when the stack has one (a stack deployed before it has no ImagesTableName).
    const { catalogueTable } = target;
    if (catalogueTable) dynamodb = new DynamoDBClient({ ...dynamoDbClientOptions(target.clientEnv), maxAttempts: 3 });
    const catalogue =
      dynamodb && catalogueTable
        ? createCatalogue({ client: dynamodb, tableName: catalogueTable, stages: queueFunctions().map((fn) => fn.name) })
        : undefined;
    const report = await runAudit(
      { s3, sqs, ...(catalogue && { catalogue }) },
      { uploadsBucket: buckets.uploads, thumbnailsBucket: buckets.thumbnails, families, deliveryDlqUrl: target.deliveryDlqUrl },
      {
        thumbnails: { sizes: thumbnails.sizes, format: thumbnails.format },
        outputs: args.outputs,
        graceSeconds: args.graceSeconds,
        maxReceiveCount: queues.maxReceiveCount,
        scan: target.scan,
      },
    );
    const dlqs = [...families.map((family) => family.functionName), 'delivery'];
    const where = {
      thumbnailsBucket: buckets.thumbnails,
      dlqs,
      families: families.map((family) => family.family),
      ...(catalogueTable && { catalogueTable }),
    };
    if (!args.repair) {
      output.out(args.json ? JSON.stringify(report, null, 2) : formatAuditReport(report, where));
      return report.ok ? EXIT.ok : EXIT.failed;
    }
    const repairs = plannedRepairs(report, families, args.limit);
    const sent = await sendRepairs(sqs, repairs, {
      uploadsBucket: buckets.uploads,
      region: target.clientEnv.AWS_REGION || target.clientEnv.AWS_DEFAULT_REGION || 'us-east-1',
      ratePerSecond: args.rate,
      dryRun: args.dryRun,
      onSent: (repair) => output.err(`repair: sent ${repair.key} to the ${repair.functionName} queue (${repair.family} missing)`),
    });
    const repair = { dryRun: args.dryRun, planned: repairs, sent };
    output.out(args.json ? JSON.stringify({ ...report, repair }, null, 2) : `${formatAuditReport(report, where)}\n${formatRepair(repair)}`);
    return report.ok ? EXIT.ok : EXIT.failed;
  } catch (error) {
    // Whatever stops the audit (an unreachable stack, a bad setting) is exit code 2: the audit could not run.
    output.err(`pipeline audit: ${target ? describeFailure(error, target) : describeError(error)}`);
    debugStack(output, error);
    return EXIT.couldNotRun;
  } finally {
    s3?.destroy();
    sqs?.destroy();
    dynamodb?.destroy();
  }
}
