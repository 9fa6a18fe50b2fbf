import { PermanentError, TransientError, type PipelineError } from './errors';

interface AwsErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const THROTTLING = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded']);
const NETWORK_CODES = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'];
// The SDK's retry layer may re-wrap a socket error as a bare Error whose message is all that is
// left of the code (seen when the error crosses a VM context), so the message is checked as well.
const NETWORK_IN_MESSAGE = new RegExp(`\\b(${NETWORK_CODES.join('|')})\\b`);

const isNetworkError = (aws: AwsErrorShape) => NETWORK_CODES.includes(aws.code ?? '') || NETWORK_IN_MESSAGE.test(aws.message ?? '');

/**
 * Maps any error to the failure model. Errors the pipeline raised itself keep their class. AWS and
 * network errors are transient: the same request may succeed later, and the redrive policy bounds
 * the retries. An error nobody anticipated is also treated as transient, so it is retried a few
 * times and then lands in the DLQ rather than being dropped.
 */
export function classifyError(error: unknown): PipelineError {
  if (error instanceof PermanentError || error instanceof TransientError) return error;
  const aws = (typeof error === 'object' && error !== null ? error : {}) as AwsErrorShape;
  const message = aws.message ?? String(error);
  const status = aws.$metadata?.httpStatusCode;
  const name = aws.name ?? '';
  if (THROTTLING.has(name) || status === 429) return new TransientError('throttled', message, { cause: error });
  if (name === 'AccessDenied' || status === 403) return new TransientError('access-denied', message, { cause: error });
  if (name === 'TimeoutError' || name === 'RequestTimeout' || aws.code === 'ETIMEDOUT') {
    return new TransientError('timeout', message, { cause: error });
  }
  if ((status !== undefined && status >= 500) || isNetworkError(aws) || name === 'NetworkingError') {
    return new TransientError('service-unavailable', message, { cause: error });
  }
  return new TransientError('unexpected', message, { cause: error });
}

/** S3's answer for an object that no longer exists (deleted between the event and the read). */
export function isMissingObject(error: unknown): boolean {
  const aws = (typeof error === 'object' && error !== null ? error : {}) as AwsErrorShape;
  return aws.name === 'NoSuchKey' || aws.name === 'NotFound' || aws.$metadata?.httpStatusCode === 404;
}
