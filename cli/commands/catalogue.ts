import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { queueFunctions } from '../../functions/registry';
import { formatRebuildReport } from '../../ops/catalogueRebuild';
import { runCatalogueRebuild } from '../../ops/catalogueRebuildSources';
import { createCatalogue } from '../../shared/catalogue/store';
import { dynamoDbClientOptions, s3ClientOptions, sqsClientOptions } from '../../shared/clients';
import { loadConfig } from '../../shared/config';
import type { CatalogueRebuildArgs } from '../args';
import { debugStack, describeError, EXIT } from '../errors';
import type { Output } from '../output';
import { describeFailure, type OperationsTarget, resolveTarget } from '../target';

/** `pipeline catalogue rebuild`: exit code 0 done, 1 failed (or some uploads could not be rebuilt). */
export async function runCatalogueRebuildCommand(args: CatalogueRebuildArgs, output: Output): Promise<number> {
  let target: OperationsTarget | undefined;
  let s3: S3Client | undefined;
  let sqs: SQSClient | undefined;
  let dynamodb: DynamoDBClient | undefined;
  try {
    target = await resolveTarget(args, args.aws);
    const { buckets, catalogueTable } = target;
    if (!buckets.uploads || !buckets.thumbnails)
      throw new Error(`the buckets of ${target.description} are not known; is the stack deployed?`);
    if (!catalogueTable)
      throw new Error(`the catalogue table of ${target.description} is not known (no ImagesTableName output); is the stack deployed?`);
    const stages = queueFunctions().map((fn) => {
      const dlqUrl = target?.functions[fn.name]?.dlqUrl;
      if (!dlqUrl) throw new Error(`the DLQ of the ${fn.name} function at ${target?.description} is not known; is the stack deployed?`);
      return { name: fn.name, outputs: fn.outputs, dlqUrl };
    });
    // Sizes and format as the functions use them (the stack's THUMBNAIL_SIZES / THUMBNAIL_FORMAT override the file).
    const { thumbnails, queues } = loadConfig({
      ...target.clientEnv,
      UPLOADS_BUCKET: buckets.uploads,
      THUMBNAILS_BUCKET: buckets.thumbnails,
    });
    s3 = new S3Client({ ...s3ClientOptions(target.clientEnv), maxAttempts: 3 });
    sqs = new SQSClient({ ...sqsClientOptions(target.clientEnv), maxAttempts: 3 });
    dynamodb = new DynamoDBClient({ ...dynamoDbClientOptions(target.clientEnv), maxAttempts: 3 });
    const catalogue = createCatalogue({ client: dynamodb, tableName: catalogueTable, stages: stages.map((stage) => stage.name) });
    const report = await runCatalogueRebuild(
      { s3, sqs, catalogue },
      { uploadsBucket: buckets.uploads, thumbnailsBucket: buckets.thumbnails, table: catalogueTable, stages },
      { thumbnails, maxReceiveCount: queues.maxReceiveCount, dryRun: args.dryRun, scan: target.scan },
    );
    output.out(args.json ? JSON.stringify(report, null, 2) : formatRebuildReport(report));
    return report.ok ? EXIT.ok : EXIT.failed;
  } catch (error) {
    output.err(`pipeline catalogue rebuild: ${target ? describeFailure(error, target) : describeError(error)}`);
    debugStack(output, error);
    return EXIT.failed;
  } finally {
    s3?.destroy();
    sqs?.destroy();
    dynamodb?.destroy();
  }
}
