/**
 * Every environment variable the pipeline reads, by what it sets: the handlers (through loadConfig),
 * the local stack and the generated serverless functions all take the names from here.
 */
export const ENV = {
  uploadsBucket: 'UPLOADS_BUCKET',
  thumbnailsBucket: 'THUMBNAILS_BUCKET',
  modelsBucket: 'MODELS_BUCKET',
  thumbnailSizes: 'THUMBNAIL_SIZES',
  thumbnailFormat: 'THUMBNAIL_FORMAT',
  thumbnailQuality: 'THUMBNAIL_QUALITY',
  modelUri: 'MODEL_URI',
  modelUriParameter: 'MODEL_URI_PARAMETER',
  predictionTopK: 'PREDICTION_TOP_K',
  modelRefreshSeconds: 'MODEL_REFRESH_SECONDS',
  predictionThreads: 'PREDICTION_THREADS',
  moderationFlag: 'MODERATION_FLAG',
  moderationAction: 'MODERATION_ACTION',
  maxInputBytes: 'MAX_INPUT_BYTES',
  maxInputPixels: 'MAX_INPUT_PIXELS',
  maxFrames: 'MAX_FRAMES',
  imagesTable: 'IMAGES_TABLE',
  apiAuth: 'API_AUTH',
  s3Endpoint: 'AWS_ENDPOINT_URL_S3',
  sqsEndpoint: 'AWS_ENDPOINT_URL_SQS',
  dynamodbEndpoint: 'AWS_ENDPOINT_URL_DYNAMODB',
  deliveryDlqUrl: 'DELIVERY_DLQ_URL',
  reconcileCheckpointParameter: 'RECONCILE_CHECKPOINT_PARAMETER',
  region: 'AWS_REGION',
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  traceEnabled: 'POWERTOOLS_TRACE_ENABLED',
  logLevel: 'LOG_LEVEL',
} as const;

/**
 * Each function's own DLQ, by function name (`RESIZE_DLQ_URL`): the local stack runs every handler
 * in one process, so one shared name could not point each at its own queue.
 */
export const dlqUrlVariable = (functionName: string) => `${functionName.toUpperCase().replace(/-/g, '_')}_DLQ_URL`;

/** A queue-fed function's own queue, for an operator's redrive and audit (`RESIZE_QUEUE_URL`). */
export const queueUrlVariable = (functionName: string) => `${functionName.toUpperCase().replace(/-/g, '_')}_QUEUE_URL`;
