import { SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { createS3Client, createSqsClient } from '../../shared/clients';
import { declaredConfig, loadConfig, requireSetting } from '../../shared/config';
import { dlqUrlVariable, ENV, queueUrlVariable } from '../../shared/environment';
import { createObservability, METRICS, MetricUnit } from '../../shared/observability';
import { familySources } from '../../shared/operations/auditSources';
import { reconcileRun } from '../../shared/operations/reconcile';
import { ssmCheckpointStore } from '../../shared/operations/ssmCheckpoint';
import { queueFunctions } from '../registry';

const config = loadConfig();
const settings = declaredConfig.reconcile;
const observability = createObservability('reconcile');
const { logger, tracer, metrics } = observability;
const env = process.env;
const target = {
  uploadsBucket: config.buckets.uploads,
  thumbnailsBucket: config.buckets.thumbnails,
  families: familySources(queueFunctions(), (name) => ({
    queueUrl: requireSetting(env[queueUrlVariable(name)], queueUrlVariable(name)),
    dlqUrl: requireSetting(env[dlqUrlVariable(name)], dlqUrlVariable(name)),
  })),
  deliveryDlqUrl: requireSetting(env[ENV.deliveryDlqUrl], ENV.deliveryDlqUrl),
};
const clients = {
  s3: tracer.captureAWSv3Client(createS3Client()),
  sqs: tracer.captureAWSv3Client(createSqsClient()),
  checkpoints: ssmCheckpointStore(
    tracer.captureAWSv3Client(new SSMClient({})),
    requireSetting(env[ENV.reconcileCheckpointParameter], ENV.reconcileCheckpointParameter),
  ),
};

/** One run on the schedule: a slice of the uploads audited from the checkpoint, its missing outputs repaired. */
export const handler = async (_event: unknown, context: Context) => {
  logger.addContext(context);
  metrics.captureColdStartMetric();
  try {
    const run = await reconcileRun(clients, target, {
      thumbnails: config.thumbnails,
      graceSeconds: settings.graceSeconds,
      maxReceiveCount: config.queues.maxReceiveCount,
      region: requireSetting(env[ENV.region], ENV.region),
      budget: {
        ...settings,
        reserveMs: settings.reserveSeconds * 1000,
        remainingMs: () => context.getRemainingTimeInMillis(),
        concurrency: 16,
      },
    });
    metrics.addMetric(METRICS.uploadsChecked, MetricUnit.Count, run.summary.uploads);
    metrics.addMetric(METRICS.uploadsMissing, MetricUnit.Count, run.summary.missing);
    metrics.addMetric(METRICS.uploadsRepaired, MetricUnit.Count, run.repaired);
    const { missing, repairs, ...rest } = run;
    logger.info('reconciled', { ...rest, missingKeys: missing.slice(0, 50).map((entry) => entry.key) });
    for (const warning of run.warnings) logger.warn(warning);
    return { summary: run.summary, repaired: run.repaired, checkpoint: run.to, stoppedBecause: run.stoppedBecause };
  } finally {
    metrics.publishStoredMetrics();
  }
};
