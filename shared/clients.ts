import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

type Env = Record<string, string | undefined>;

/**
 * Local S3 servers (s3rver, MinIO) need path-style URLs; s3rver only accepts its own key pair, and
 * without WHEN_REQUIRED checksums the SDK's streamed uploads are stored corrupt by s3rver.
 * On AWS (no endpoint override) the SDK defaults apply untouched.
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
    credentials: env.AWS_ACCESS_KEY_ID ? undefined : { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  };
}

export function sqsClientOptions(env: Env = process.env) {
  const endpoint = env.AWS_ENDPOINT_URL_SQS || undefined;
  if (!endpoint) return {};
  return {
    endpoint,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    credentials: env.AWS_ACCESS_KEY_ID ? undefined : { accessKeyId: 'local', secretAccessKey: 'local' },
  };
}

export const createS3Client = (env: Env = process.env) => new S3Client(s3ClientOptions(env));
export const createSqsClient = (env: Env = process.env) => new SQSClient(sqsClientOptions(env));
