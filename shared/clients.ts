import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

type Env = Record<string, string | undefined>;

/**
 * An endpoint on this machine is the embedded local stack (or another emulator): it gets the
 * emulator key pair whatever the shell exports, because s3rver accepts only its own and a
 * developer's real keys (which the SDK and `serverless invoke local` would pick up) would make every
 * local call fail. Remote endpoints (MinIO elsewhere, real AWS) use the normal credential chain.
 */
const LOOPBACK = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/i;
const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const credentialsFor = (endpoint: string) => (LOOPBACK.test(endpoint) ? LOCAL_CREDENTIALS : undefined);

/**
 * S3-compatible servers (s3rver, MinIO) need path-style URLs, and without WHEN_REQUIRED checksums
 * the SDK's streamed uploads are stored corrupt by s3rver. On AWS (no endpoint override) the SDK
 * defaults apply untouched.
 */
export function s3ClientOptions(env: Env = process.env) {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || undefined;
  if (!endpoint) return {};
  return {
    endpoint,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED' as const,
    responseChecksumValidation: 'WHEN_REQUIRED' as const,
    credentials: credentialsFor(endpoint),
  };
}

export function sqsClientOptions(env: Env = process.env) {
  const endpoint = env.AWS_ENDPOINT_URL_SQS || undefined;
  if (!endpoint) return {};
  return {
    endpoint,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    credentials: credentialsFor(endpoint),
  };
}

/** The catalogue's table: dynalite locally, DynamoDB on AWS. */
export function dynamoDbClientOptions(env: Env = process.env) {
  const endpoint = env.AWS_ENDPOINT_URL_DYNAMODB || undefined;
  if (!endpoint) return {};
  return {
    endpoint,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    credentials: credentialsFor(endpoint),
  };
}

/**
 * The SDK's default HTTP handler never gives up on a stalled connection: one hung S3 response kept
 * its record (and every record after it) waiting until the invocation timed out, which fails the
 * whole batch with no reason recorded. A stall now becomes a transient `timeout` for that record
 * alone: the worst case is the SDK's 3 attempts x 5 s, well inside the 30 s function timeout. The
 * socket timeout is an idle timeout, so a large download that keeps flowing is not cut.
 */
const HTTP_TIMEOUTS = { connectionTimeout: 2000, socketTimeout: 5000 };

export const createS3Client = (env: Env = process.env) => new S3Client({ ...s3ClientOptions(env), requestHandler: HTTP_TIMEOUTS });
export const createSqsClient = (env: Env = process.env) => new SQSClient({ ...sqsClientOptions(env), requestHandler: HTTP_TIMEOUTS });
export const createDynamoDbClient = (env: Env = process.env) =>
  new DynamoDBClient({ ...dynamoDbClientOptions(env), requestHandler: HTTP_TIMEOUTS });
