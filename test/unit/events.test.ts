import fc from 'fast-check';
import { PermanentError } from '../../shared/errors';
import { normalizeETag, notificationBody, parseS3MessageBody, parseS3Notification } from '../../shared/events';
import { s3NotificationBody } from '../helpers/events';

const reasonOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof PermanentError ? error.reason : `unexpected ${String(error)}`;
  }
  return 'no error';
};

describe('parseS3MessageBody', () => {
  test('an S3 notification in an SQS body (raw SNS delivery) yields decoded object events', () => {
    const body = s3NotificationBody({ bucket: 'uploads', key: 'a b/c+d.jpg', eTag: 'abc', size: 12 });
    expect(parseS3MessageBody(body)).toEqual([
      expect.objectContaining({
        kind: 'created',
        bucket: 'uploads',
        key: 'a b/c+d.jpg',
        eTag: 'abc',
        size: 12,
        eventName: 'ObjectCreated:Put',
      }),
    ]);
  });

  test('ObjectRemoved events are recognised', () => {
    const body = s3NotificationBody({ bucket: 'uploads', key: 'x.jpg', eventName: 'ObjectRemoved:Delete' });
    expect(parseS3MessageBody(body)[0].kind).toBe('removed');
  });

  test('the s3:TestEvent yields nothing', () => {
    expect(parseS3MessageBody(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'uploads' }))).toEqual([]);
  });

  test('a non-raw SNS envelope is unwrapped', () => {
    const inner = s3NotificationBody({ bucket: 'uploads', key: 'k.jpg' });
    expect(parseS3MessageBody(JSON.stringify({ Type: 'Notification', Message: inner }))[0].key).toBe('k.jpg');
  });

  test.each([
    ['not JSON', '{"Records": ['],
    ['a JSON array', '[]'],
    ['no Records', '{"foo":1}'],
    ['Records not an array', '{"Records":{}}'],
    ['record not an object', '{"Records":[42]}'],
    [
      'unknown event name',
      JSON.stringify({ Records: [{ eventName: 'ObjectTagging:Put', s3: { bucket: { name: 'b' }, object: { key: 'k' } } }] }),
    ],
    ['missing key', JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: {} } }] })],
    ['missing bucket', JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { object: { key: 'k' } } }] })],
    [
      'broken key encoding',
      JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: '%E0%A4%A' } } }] }),
    ],
  ])('a malformed body (%s) is a permanent invalid-event', (_, body) => {
    expect(reasonOf(() => parseS3MessageBody(body))).toBe('invalid-event');
  });

  test('property: arbitrary text never throws anything but a PermanentError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (body) => {
        const outcome = reasonOf(() => parseS3MessageBody(body));
        expect(['invalid-event', 'no error']).toContain(outcome);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('parseS3Notification (an S3 event delivered straight to Lambda)', () => {
  test('reads the same shape as the SQS body', () => {
    const event = JSON.parse(s3NotificationBody({ bucket: 'uploads', key: 'direct.png' }));
    expect(parseS3Notification(event).map((e) => e.key)).toEqual(['direct.png']);
  });
});

test('notificationBody keeps exactly the given records, replayable as-is', () => {
  const events = parseS3MessageBody(s3NotificationBody({ bucket: 'uploads', key: 'a.jpg' }, { bucket: 'uploads', key: 'b c.jpg' }));
  expect(parseS3MessageBody(notificationBody([events[1]])).map((e) => e.key)).toEqual(['b c.jpg']);
});

test('normalizeETag strips the quotes S3 API responses add', () => {
  expect(normalizeETag('"abc"')).toBe('abc');
  expect(normalizeETag('abc')).toBe('abc');
  expect(normalizeETag(undefined)).toBeUndefined();
});
