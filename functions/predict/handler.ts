import { createSqsClient } from '../../shared/clients';
import { declaredConfig, loadConfig, requireSetting } from '../../shared/config';
import { createSqsBatchHandler } from '../../shared/lambdaHandler';
import { createObservability } from '../../shared/observability';
import { createS3RecordHandler } from '../../shared/s3RecordHandler';

// Placeholder until the prediction issue: it consumes the predict queue with the same failure
// model (malformed events go to the predict DLQ) but writes no prediction yet.
const config = loadConfig();
const observability = createObservability('predict');
const { logger, tracer, metrics } = observability;

export const handler = createSqsBatchHandler(
  observability,
  createS3RecordHandler({
    sqs: tracer.captureAWSv3Client(createSqsClient()),
    deadLetterQueueUrl: requireSetting(config.dlqUrls.predict, 'PREDICT_DLQ_URL'),
    logger,
    metrics,
    maxReceiveCount: declaredConfig.queues.maxReceiveCount,
    handle: async (event) => ({ status: 'prediction-not-implemented', kind: event.kind }),
  }),
);
