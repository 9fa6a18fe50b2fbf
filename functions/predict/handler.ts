import { stageRecorderFor } from '../../shared/catalogue/stageRecorder';
import { createS3Client, createSqsClient } from '../../shared/clients';
import { deadLetterQueueUrl, loadConfig } from '../../shared/config';
import { createSqsBatchHandler } from '../../shared/lambdaHandler';
import { createObservability, METRICS, MetricUnit } from '../../shared/observability';
import { ModelCache } from '../../shared/predict/modelCache';
import { createModelSource } from '../../shared/predict/modelSource';
import { predictObject, removePrediction } from '../../shared/predict/predictObject';
import { createS3RecordHandler } from '../../shared/s3RecordHandler';
import { functionNamed, queueFunctions } from '../registry';

const config = loadConfig();
const observability = createObservability('predict');
const { logger, tracer, metrics } = observability;
const s3 = tracer.captureAWSv3Client(createS3Client());
const sqs = tracer.captureAWSv3Client(createSqsClient());

// Module scope: the model survives across invocations of a warm container.
const models = new ModelCache({
  source: createModelSource(config.prediction, s3),
  threads: config.prediction.threads,
  refreshMs: config.prediction.modelRefreshSeconds * 1000,
  onLoad: (model, swapped) => {
    const { name, version } = model.classifier.manifest;
    logger.info(swapped ? 'model swapped' : 'model loaded', { model: `${name}/${version}`, uri: model.uri, loadMs: model.loadMs });
    metrics.addMetric(METRICS.modelLoadMs, MetricUnit.Milliseconds, model.loadMs);
    if (swapped) metrics.addMetric(METRICS.modelSwaps, MetricUnit.Count, 1);
  },
  onRefreshError: (error) => logger.warn('model refresh failed; keeping the loaded model', { error: (error as Error).message }),
});
const dependencies = { config, s3, tracer, metrics, models };

const stages = queueFunctions();
const catalogue = stageRecorderFor(
  functionNamed('predict', stages),
  stages.map((stage) => stage.name),
  { config, s3, tracer, logger },
);

export const handler = createSqsBatchHandler(
  observability,
  createS3RecordHandler({
    sqs,
    deadLetterQueueUrl: deadLetterQueueUrl('predict'),
    logger,
    metrics,
    maxReceiveCount: config.queues.maxReceiveCount,
    after: catalogue.recorded,
    beforeDeadLetter: catalogue.failed,
    handle: (event) => (event.kind === 'created' ? predictObject(event, dependencies) : removePrediction(event, dependencies)),
  }),
);
