import { stageRecorderFor } from '../../shared/catalogue/stageRecorder';
import { createS3Client, createSqsClient } from '../../shared/clients';
import { deadLetterQueueUrl, loadConfig } from '../../shared/config';
import { createSqsBatchHandler } from '../../shared/lambdaHandler';
import { createObservability } from '../../shared/observability';
import { removeThumbnails, resizeObject } from '../../shared/resize/resizeObject';
import { createS3RecordHandler } from '../../shared/s3RecordHandler';
import { functionNamed, queueFunctions } from '../registry';

const config = loadConfig();
const observability = createObservability('resize');
const { logger, tracer, metrics } = observability;
const s3 = tracer.captureAWSv3Client(createS3Client());
const sqs = tracer.captureAWSv3Client(createSqsClient());
const dependencies = { config, s3, tracer, metrics };

const stages = queueFunctions();
const catalogue = stageRecorderFor(
  functionNamed('resize', stages),
  stages.map((stage) => stage.name),
  { config, s3, tracer, logger },
);

export const handler = createSqsBatchHandler(
  observability,
  createS3RecordHandler({
    sqs,
    deadLetterQueueUrl: deadLetterQueueUrl('resize'),
    logger,
    metrics,
    maxReceiveCount: config.queues.maxReceiveCount,
    after: catalogue.recorded,
    beforeDeadLetter: catalogue.failed,
    handle: (event) => (event.kind === 'created' ? resizeObject(event, dependencies) : removeThumbnails(event, dependencies)),
  }),
);
