import { classifyError, isMissingObject } from '../../shared/classifyError';
import { PermanentError, TransientError } from '../../shared/errors';
import { classifySharpError } from '../../shared/image/sharpErrors';

const awsError = (name: string, status?: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } }, extra);

describe('classifyError', () => {
  test('keeps the class of errors the pipeline raised itself', () => {
    const permanent = new PermanentError('corrupt', 'bad bytes');
    expect(classifyError(permanent)).toBe(permanent);
  });

  test.each([
    [awsError('InternalError', 500), 'service-unavailable'],
    [awsError('ServiceUnavailable', 503), 'service-unavailable'],
    [awsError('SlowDown', 503), 'throttled'],
    [awsError('ThrottlingException', 400), 'throttled'],
    [awsError('TooManyRequests', 429), 'throttled'],
    [awsError('AccessDenied', 403), 'access-denied'],
    [awsError('TimeoutError'), 'timeout'],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }), 'service-unavailable'],
    [new Error('AWS SDK error wrapper for Error: connect ECONNREFUSED 127.0.0.1:9'), 'service-unavailable'],
    [Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' }), 'service-unavailable'],
    [new Error('AWS SDK error wrapper for TimeoutError: socket hang up'), 'service-unavailable'],
    [new Error('AWS SDK error wrapper for TimeoutError: Connection timed out after 5000 ms'), 'timeout'],
    [Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT' }), 'timeout'],
    [new TypeError('something nobody expected'), 'unexpected'],
    ['a thrown string', 'unexpected'],
  ])('%p is transient (%s): retried, then DLQ by the redrive policy', (error, reason) => {
    const classified = classifyError(error);
    expect(classified).toBeInstanceOf(TransientError);
    expect(classified.reason).toBe(reason);
  });

  test('recognises a vanished object', () => {
    expect(isMissingObject(awsError('NoSuchKey', 404))).toBe(true);
    expect(isMissingObject(awsError('NotFound', 404))).toBe(true);
    expect(isMissingObject(awsError('InternalError', 500))).toBe(false);
  });
});

describe('classifySharpError', () => {
  test.each([
    ['Input image exceeds pixel limit', 'too-many-pixels'],
    ['Input buffer contains unsupported image format', 'not-an-image'],
    ['VipsJpeg: Premature end of input file', 'corrupt'],
    ['Input buffer has corrupt header: vipspng: libpng read error', 'corrupt'],
  ])('%s -> %s, always permanent', (message, reason) => {
    const classified = classifySharpError(new Error(message));
    expect(classified).toBeInstanceOf(PermanentError);
    expect(classified.reason).toBe(reason);
  });
});
