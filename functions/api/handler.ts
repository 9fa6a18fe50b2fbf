import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { handle, type LambdaEvent } from 'hono/aws-lambda';
import { createApiApp } from '../../shared/api/app';
import { createPresigner } from '../../shared/api/presign';
import { createCatalogue } from '../../shared/catalogue/store';
import { createDynamoDbClient, createS3Client } from '../../shared/clients';
import { loadConfig } from '../../shared/config';
import { createObservability } from '../../shared/observability';
import { queueFunctions } from '../registry';

const config = loadConfig();
const { logger, tracer } = createObservability('api');
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
const serve = handle(app);

export const handler = async (event: APIGatewayProxyEventV2, context: Context) => {
  logger.addContext(context);
  logger.appendKeys({ requestId: event.requestContext.requestId, route: event.routeKey });
  const started = performance.now();
  // hono's own event type is a structural copy of @types/aws-lambda's payload 2.0.
  const result = await serve(event as unknown as LambdaEvent, context);
  logger.info('request', { status: result.statusCode, ms: Math.round(performance.now() - started) });
  return result;
};
