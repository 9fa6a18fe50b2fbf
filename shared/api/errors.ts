/**
 * An answer the API gives on purpose: `{ "error": "<code>", "message": "..." }` with its status.
 * Codes are stable (clients branch on them); messages say what to change.
 */
export type ApiErrorCode =
  | 'invalid-request'
  | 'invalid-filename'
  | 'unsupported-content-type'
  | 'invalid-size'
  | 'too-large'
  | 'invalid-key'
  | 'invalid-query'
  | 'invalid-cursor'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'service-unavailable'
  | 'internal';

export type ApiStatus = 400 | 401 | 403 | 404 | 413 | 500 | 503;

export class ApiError extends Error {
  constructor(
    readonly status: ApiStatus,
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const errorBody = (error: ApiError) => ({ error: error.code, message: error.message });
