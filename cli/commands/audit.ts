import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { s3ClientOptions, sqsClientOptions } from '../../shared/clients';
import { declaredConfig, loadConfig } from '../../shared/config';
import { formatAuditReport } from '../../ops/audit';
import { runAudit } from '../../ops/auditSources';
import type { AuditArgs } from '../args';
import type { Output } from '../output';
import { describeFailure, type OperationsTarget, resolveTarget } from './dlq';

/** Exit codes: 0 nothing missing, 1 something missing, 2 the audit could not run. */
export async function runAuditCommand(args: AuditArgs, output: Output): Promise<number> {
  let target: OperationsTarget | undefined;
  let s3: S3Client | undefined;
  let sqs: SQSClient | undefined;
  try {
    target = await resolveTarget(args, args.aws);
    const { buckets, queueUrls, dlqUrls } = target;
    if (!buckets.uploads || !buckets.thumbnails || !queueUrls.resize || !dlqUrls.resize) {
      throw new Error(`the buckets and queues of ${target.description} are not all known; is the stack deployed?`);
    }
    // Sizes and format as the functions use them (THUMBNAIL_SIZES / THUMBNAIL_FORMAT override the file).
    const { thumbnails } = loadConfig({ ...process.env, UPLOADS_BUCKET: buckets.uploads, THUMBNAILS_BUCKET: buckets.thumbnails });
    s3 = new S3Client({ ...s3ClientOptions(target.clientEnv), maxAttempts: 3 });
    sqs = new SQSClient({ ...sqsClientOptions(target.clientEnv), maxAttempts: 3 });
    const report = await runAudit(
      { s3, sqs },
      {
        uploadsBucket: buckets.uploads,
        thumbnailsBucket: buckets.thumbnails,
        dlqUrls: { resize: dlqUrls.resize, predict: dlqUrls.predict, delivery: dlqUrls.delivery },
        queueUrls: { resize: queueUrls.resize, predict: queueUrls.predict },
      },
      {
        thumbnails: { sizes: thumbnails.sizes, format: thumbnails.format },
        outputs: args.outputs,
        graceSeconds: args.graceSeconds,
        maxReceiveCount: declaredConfig.queues.maxReceiveCount,
        scan: target.scan,
      },
    );
    const dlqs = ['resize', ...(args.outputs === 'all' ? ['predict'] : []), 'delivery'];
    output.out(args.json ? JSON.stringify(report, null, 2) : formatAuditReport(report, { thumbnailsBucket: buckets.thumbnails, dlqs }));
    return report.ok ? 0 : 1;
  } catch (error) {
    output.err(`pipeline audit: ${target ? describeFailure(error, target) : (error as Error).message}`);
    return 2;
  } finally {
    s3?.destroy();
    sqs?.destroy();
  }
}
