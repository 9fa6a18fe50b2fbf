import { PermanentError, type PipelineError, TransientError } from './errors';

interface AwsErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const THROTTLING = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded']);
/** A connection that failed or broke: the service or the network is unavailable. */
const CONNECTION_CODES = ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'];
// The SDK's retry layer may re-wrap an error as a bare Error whose message is all that is left of
// its code and name ("AWS SDK error wrapper for TimeoutError: socket hang up", seen when the error
// crosses a VM context), so the message is read as well.
const CONNECTION_IN_MESSAGE = new RegExp(`\\b(${CONNECTION_CODES.join('|')})\\b|socket hang up`);
const WRAPPED_NAME = /^AWS SDK error wrapper for (\w+)/;

const isConnectionError = (aws: AwsErrorShape) =>
  CONNECTION_CODES.includes(aws.code ?? '') || CONNECTION_IN_MESSAGE.test(aws.message ?? '');

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
  const name = WRAPPED_NAME.exec(message)?.[1] ?? aws.name ?? '';
  if (THROTTLING.has(name) || status === 429) return new TransientError('throttled', message, { cause: error });
  if (name === 'AccessDenied' || status === 403) return new TransientError('access-denied', message, { cause: error });
  // Before the timeout test: the SDK names a reset connection TimeoutError ("socket hang up").
  if ((status !== undefined && status >= 500) || isConnectionError(aws) || name === 'NetworkingError') {
    return new TransientError('service-unavailable', message, { cause: error });
  }
  if (name === 'TimeoutError' || name === 'RequestTimeout' || aws.code === 'ETIMEDOUT' || /\bETIMEDOUT\b/.test(message)) {
    return new TransientError('timeout', message, { cause: error });
  }
  return new TransientError('unexpected', message, { cause: error });
}

/** S3's answer for an object that no longer exists (deleted between the event and the read). */
export function isMissingObject(error: unknown): boolean {
  const aws = (typeof error === 'object' && error !== null ? error : {}) as AwsErrorShape;
  return aws.name === 'NoSuchKey' || aws.name === 'NotFound' || aws.$metadata?.httpStatusCode === 404;
}
