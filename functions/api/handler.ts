import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { createApiApp } from '../../shared/api/app';
import { httpHandler } from '../../shared/api/lambdaAdapter';
import { createPresigner } from '../../shared/api/presign';
import { createCatalogue } from '../../shared/catalogue/store';
import { createDynamoDbClient, createS3Client } from '../../shared/clients';
import { loadConfig } from '../../shared/config';
import { createObservability } from '../../shared/observability';
import { queueFunctions } from '../registry';

const config = loadConfig();
const observability = createObservability('api');
const { logger, tracer } = observability;
const s3 = tracer.captureAWSv3Client(createS3Client());
const catalogue = createCatalogue({
  client: tracer.captureAWSv3Client(createDynamoDbClient()),
  tableName: config.catalogue.table,
  stages: queueFunctions().map((fn) => fn.name),
});
const app = createApiApp({
  config,
  catalogue,
  presigner: createPresigner(s3, config.buckets, {
    uploadSeconds: config.api.uploadUrlExpirySeconds,
    downloadSeconds: config.api.thumbnailUrlExpirySeconds,
  }),
  deleteUpload: async (key) => {
    await s3.send(new DeleteObjectCommand({ Bucket: config.buckets.uploads, Key: key }));
  },
  logger,
});

export const handler = httpHandler(app, observability);
