import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { queueFunctions } from '../../functions/registry';
import { stateDirectory } from '../../local/stackState';
import { fileCheckpointStore } from '../../ops/fileCheckpoint';
import { s3ClientOptions, sqsClientOptions } from '../../shared/clients';
import { declaredConfig, loadConfig } from '../../shared/config';
import { familySources } from '../../shared/operations/auditSources';
import { reconcileRun } from '../../shared/operations/reconcile';
import type { ReconcileArgs } from '../args';
import { debugStack, describeError, EXIT } from '../errors';
import type { Output } from '../output';
import { describeFailure, knownQueues, type OperationsTarget, resolveTarget } from '../target';

/** Where a local pass keeps its place, beside the stack's other state. */
export const CHECKPOINT_FILE = 'reconcile-checkpoint.json';

/**
 * `pipeline reconcile`: one run of the scheduled reconciler against the local stack, with the same
 * code as the `reconcile` function; its checkpoint is a file in the state folder instead of SSM.
 * Exit codes: 0 nothing missing in the slice judged, 1 something missing (repaired), 2 could not run.
 */
export async function runReconcileCommand(args: ReconcileArgs, output: Output): Promise<number> {
  let target: OperationsTarget | undefined;
  let s3: S3Client | undefined;
  let sqs: SQSClient | undefined;
  try {
    target = await resolveTarget(args, false);
    const { buckets, deliveryDlqUrl } = target;
    if (!buckets.uploads || !buckets.thumbnails || !deliveryDlqUrl)
      throw new Error(`the buckets and DLQs of ${target.description} are not known`);
    const config = loadConfig({ ...target.clientEnv, UPLOADS_BUCKET: buckets.uploads, THUMBNAILS_BUCKET: buckets.thumbnails });
    const known = target;
    const families = familySources(queueFunctions(), (name) => knownQueues(known, name));
    s3 = new S3Client({ ...s3ClientOptions(target.clientEnv), maxAttempts: 3 });
    sqs = new SQSClient({ ...sqsClientOptions(target.clientEnv), maxAttempts: 3 });
    const settings = declaredConfig.reconcile;
    const checkpointFile = path.join(stateDirectory(), CHECKPOINT_FILE);
    const run = await reconcileRun(
      { s3, sqs, checkpoints: fileCheckpointStore(checkpointFile) },
      { uploadsBucket: buckets.uploads, thumbnailsBucket: buckets.thumbnails, families, deliveryDlqUrl },
      {
        thumbnails: config.thumbnails,
        graceSeconds: args.graceSeconds ?? settings.graceSeconds,
        maxReceiveCount: config.queues.maxReceiveCount,
        region: target.clientEnv.AWS_REGION || 'us-east-1',
        scan: target.scan,
        dryRun: args.dryRun,
        budget: {
          ...settings,
          maxObjectsPerRun: args.maxObjects ?? settings.maxObjectsPerRun,
          // A person runs this: no Lambda clock to race.
          reserveMs: 0,
          remainingMs: () => Number.POSITIVE_INFINITY,
          concurrency: 16,
        },
      },
    );
    const { missing, repairs, ...rest } = run;
    if (args.json) output.out(JSON.stringify(run, null, 2));
    else {
      output.out(
        `reconcile: judged ${run.summary.uploads} upload(s) after ${JSON.stringify(run.from.startAfter)} (stopped: ${run.stoppedBecause}); ` +
          `complete ${run.summary.complete}, dead-lettered ${run.summary['dead-lettered']}, pending ${run.summary.pending}, missing ${run.summary.missing}; ` +
          `${args.dryRun ? 'would repair' : 'repaired'} ${args.dryRun ? repairs.length : run.repaired}; next run starts after ${JSON.stringify(rest.to.startAfter)}`,
      );
      for (const entry of missing) output.out(`  missing  ${entry.key}`);
      for (const warning of run.warnings) output.err(`warning: ${warning}`);
    }
    return run.summary.missing === 0 ? EXIT.ok : EXIT.failed;
  } catch (error) {
    output.err(`pipeline reconcile: ${target ? describeFailure(error, target) : describeError(error)}`);
    debugStack(output, error);
    return EXIT.couldNotRun;
  } finally {
    s3?.destroy();
    sqs?.destroy();
  }
}
