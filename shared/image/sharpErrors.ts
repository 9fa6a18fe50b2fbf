import { PermanentError } from '../errors';

/**
 * libvips reports every decode problem as a plain Error with a message; the pipeline needs a reason
 * code. Anything the decoder rejects is a property of the bytes, so it is permanent: retrying the
 * same bytes cannot succeed.
 */
export function classifySharpError(error: unknown): PermanentError {
  if (error instanceof PermanentError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(message)) return new PermanentError('too-many-pixels', message);
  if (/unsupported image format/i.test(message)) return new PermanentError('not-an-image', message);
  if (/timeout/i.test(message)) return new PermanentError('too-large', `decoding took too long: ${message}`);
  return new PermanentError('corrupt', message.split('\n')[0] || 'the decoder rejected the image');
}
