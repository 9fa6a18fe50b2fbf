/**
 * The failure model: a permanent failure is never retried and goes straight to the DLQ
 * with its reason; a transient one fails only its record so the queue retries it, and the redrive
 * policy moves it to the DLQ after maxReceiveCount.
 */
export type PermanentReason =
  | 'not-an-image'
  | 'unsupported-format'
  | 'too-many-pixels'
  | 'too-many-frames'
  | 'too-large'
  | 'corrupt'
  | 'recursion'
  | 'key-too-long'
  | 'invalid-event';

export type TransientReason =
  | 'service-unavailable'
  | 'throttled'
  | 'timeout'
  | 'access-denied'
  | 'dlq-unavailable'
  | 'model-unavailable'
  | 'unexpected';

export class PermanentError extends Error {
  readonly failureClass = 'permanent' as const;
  constructor(
    readonly reason: PermanentReason,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentError';
  }
}

export class TransientError extends Error {
  readonly failureClass = 'transient' as const;
  constructor(
    readonly reason: TransientReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransientError';
  }
}

export type PipelineError = PermanentError | TransientError;

/** Thrown at cold start when the configuration is invalid; names the offending setting. */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`Invalid configuration ${setting}: ${message}`);
    this.name = 'ConfigError';
  }
}
