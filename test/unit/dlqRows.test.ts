import type { Message } from '@aws-sdk/client-sqs';
import { deadLetterAttributes } from '../../shared/deadLetter';
import { PermanentError, TransientError } from '../../shared/errors';
import { formatDlqRows, formatTable, objectsInBody, parseDlqMessage, printable, shortTime } from '../../shared/operations/dlqRows';
import { DERIVED_REASONS, REASON_CODES, REASONS } from '../../shared/operations/reasons';
import { attributesToResend, matchesReason } from '../../shared/operations/redrive';
import { s3NotificationBody, sqsRecord } from '../helpers/events';

const context = { queue: 'resize', maxReceiveCount: 5 };
const notification = s3NotificationBody({ bucket: 'uploads', key: 'my photos/a+b ü.jpg', eTag: 'abc123', size: 10 });

/** A DLQ message as ReceiveMessage returns it after the function dead-lettered a record (attributes from the real producer). */
function deadLettered(error: PermanentError | TransientError, receiveCount = 1): Message {
  const record = { ...sqsRecord(notification, receiveCount), messageId: 'orig-1' };
  record.attributes.ApproximateFirstReceiveTimestamp = String(Date.parse('2026-11-24T08:00:00.000Z'));
  const attributes = deadLetterAttributes(
    { body: notification, error, record, source: { bucket: 'uploads', key: 'my photos/a+b ü.jpg' } },
    new Date('2026-11-24T08:05:00.000Z'),
  );
  return {
    MessageId: 'dlq-1',
    ReceiptHandle: 'rh',
    Body: notification,
    Attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.parse('2026-11-24T08:05:00.100Z')),
      ApproximateFirstReceiveTimestamp: '1',
    },
    MessageAttributes: Object.fromEntries(
      Object.entries(attributes).map(([name, value]) => [name, { DataType: value.DataType, StringValue: value.StringValue }]),
    ),
  };
}

/** What the redrive policy leaves in the DLQ: the original body and system attributes, none of ours (shape seen from local-aws-sqs). */
const movedByPolicy = (body: string): Message => ({
  MessageId: 'dlq-2',
  ReceiptHandle: 'rh2',
  Body: body,
  Attributes: {
    ApproximateReceiveCount: '2',
    SentTimestamp: String(Date.parse('2026-11-24T09:00:00.000Z')),
    SenderId: 'ABCDEFGHI1JKLMNOPQ23R',
    ApproximateFirstReceiveTimestamp: '1795510444346',
    DeadLetterQueueSourceArn: 'arn:aws:sqs:us-east-1:000000000000:resize',
  },
});

describe('parseDlqMessage', () => {
  test('a permanent failure the function dead-lettered: everything from our attributes', () => {
    const row = parseDlqMessage(deadLettered(new PermanentError('not-an-image', 'the bytes match no known image signature')), context);
    expect(row).toEqual(
      expect.objectContaining({
        queue: 'resize',
        messageId: 'dlq-1',
        failureClass: 'permanent',
        reason: 'not-an-image',
        errorMessage: 'the bytes match no known image signature',
        sourceBucket: 'uploads',
        sourceKey: 'my photos/a+b ü.jpg',
        attempts: 1,
        attemptsAtLeast: false,
        firstFailedAt: '2026-11-24T08:00:00.000Z',
        lastFailedAt: '2026-11-24T08:05:00.000Z',
        sourceQueueArn: 'arn:aws:sqs:us-east-1:000000000000:resize',
        originalMessageId: 'orig-1',
        dlqReceiveCount: 1,
        sentAt: '2026-11-24T08:05:00.100Z',
      }),
    );
    expect(row.objects).toEqual([{ kind: 'created', bucket: 'uploads', key: 'my photos/a+b ü.jpg', eTag: 'abc123' }]);
  });

  test('a transient failure dead-lettered on its last attempt keeps the attempt count', () => {
    const row = parseDlqMessage(deadLettered(new TransientError('service-unavailable', 'S3 said 503'), 5), context);
    expect(row).toMatchObject({ failureClass: 'transient', reason: 'service-unavailable', attempts: 5, attemptsAtLeast: false });
  });

  test('a message moved by the redrive policy: class unknown, key from the body, attempts at least maxReceiveCount', () => {
    const row = parseDlqMessage(movedByPolicy(notification), context);
    expect(row).toMatchObject({
      failureClass: 'unknown',
      reason: 'max-receives',
      sourceBucket: 'uploads',
      sourceKey: 'my photos/a+b ü.jpg',
      attempts: 5,
      attemptsAtLeast: true,
      firstFailedAt: undefined,
      lastFailedAt: undefined,
      sourceQueueArn: 'arn:aws:sqs:us-east-1:000000000000:resize',
      sentAt: '2026-11-24T09:00:00.000Z',
      dlqReceiveCount: 2,
    });
    expect(row.errorMessage).toMatch(/redrive policy after 5 receives/);
  });

  test('a body that is no S3 notification still gives a row that says so', () => {
    const row = parseDlqMessage(movedByPolicy('hello, not JSON'), context);
    expect(row).toMatchObject({ failureClass: 'unknown', reason: 'max-receives', sourceKey: undefined, objects: [] });
    expect(row.errorMessage).toMatch(/not JSON/);
    expect(parseDlqMessage(movedByPolicy('{"Event":"s3:TestEvent"}'), context).errorMessage).toMatch(/s3:TestEvent/);
  });

  test('the delivery DLQ: SNS envelopes are unwrapped, the reason is delivery-failed, attempts unknown', () => {
    const envelope = JSON.stringify({
      Type: 'Notification',
      MessageId: 'sns-1',
      TopicArn: 'arn:aws:sns:us-east-1:1:uploads',
      Message: notification,
    });
    const row = parseDlqMessage(
      { MessageId: 'd1', Body: envelope, Attributes: { ApproximateReceiveCount: '1' } },
      { queue: 'delivery', maxReceiveCount: 5 },
    );
    expect(row).toMatchObject({
      failureClass: 'unknown',
      reason: 'delivery-failed',
      sourceKey: 'my photos/a+b ü.jpg',
      attempts: undefined,
      attemptsAtLeast: false,
    });
  });

  test('the body key wins over a clipped attribute; removal events are kept as such', () => {
    const removal = s3NotificationBody({ bucket: 'uploads', key: 'gone.jpg', eventName: 'ObjectRemoved:Delete' });
    const message = { ...deadLettered(new PermanentError('recursion', 'x')), Body: removal };
    message.MessageAttributes!.sourceKey = { DataType: 'String', StringValue: 'clipped…' };
    const row = parseDlqMessage(message, context);
    expect(row.sourceKey).toBe('gone.jpg');
    expect(row.objects).toEqual([{ kind: 'removed', bucket: 'uploads', key: 'gone.jpg' }]);
  });

  test('a message with no body and no attributes at all does not throw', () => {
    expect(parseDlqMessage({}, context)).toMatchObject({ messageId: '', failureClass: 'unknown', body: '' });
  });
});

describe('objectsInBody', () => {
  test('several records, keys decoded as S3 encodes them', () => {
    const body = s3NotificationBody({ bucket: 'uploads', key: 'a b.jpg' }, { bucket: 'uploads', key: '100%+.png' });
    expect(objectsInBody(body).objects.map((object) => object.key)).toEqual(['a b.jpg', '100%+.png']);
  });
});

describe('tables', () => {
  test('columns are padded to the widest cell and the last is ragged', () => {
    expect(
      formatTable(
        ['A', 'BB'],
        [
          ['xyz', '1'],
          ['q', 'long value'],
        ],
      ),
    ).toBe('A    BB\nxyz  1\nq    long value');
  });

  test('control characters in keys are escaped, long cells clipped', () => {
    expect(printable('a\nb\x1bc')).toBe('a\\x0ab\\x1bc');
    expect(formatTable(['K'], [['x'.repeat(10)]], 5)).toBe('K\nxxxx…');
  });

  test('a DLQ table names the object, the reason and the attempts', () => {
    const rows = [
      parseDlqMessage(deadLettered(new PermanentError('corrupt', 'bad huffman')), context),
      parseDlqMessage(movedByPolicy(notification), context),
    ];
    const [header, first, second] = formatDlqRows(rows).split('\n');
    expect(header).toMatch(/^QUEUE\s+CLASS\s+REASON\s+ATTEMPTS\s+FIRST FAILED\s+LAST FAILED\s+OBJECT\s+MESSAGE$/);
    expect(first).toMatch(
      /^resize\s+permanent\s+corrupt\s+1\s+2026-11-24 08:00:00Z\s+2026-11-24 08:05:00Z\s+s3:\/\/uploads\/my photos\/a\+b ü\.jpg\s+bad huffman$/,
    );
    expect(second).toMatch(/unknown\s+max-receives\s+>=5\s+-\s+-\s+s3:\/\/uploads/);
    expect(formatDlqRows([])).toBe('no messages');
    expect(shortTime(undefined)).toBe('-');
  });
});

describe('redrive helpers', () => {
  test('our failure attributes are dropped, anything else is kept', () => {
    const message = deadLettered(new PermanentError('corrupt', 'x'));
    expect(attributesToResend(message)).toBeUndefined();
    message.MessageAttributes!.traceparent = { DataType: 'String', StringValue: '00-abc' };
    expect(attributesToResend(message)).toEqual({ traceparent: { DataType: 'String', StringValue: '00-abc' } });
  });

  test('no reason filter matches everything', () => {
    const row = parseDlqMessage(movedByPolicy(notification), context);
    expect(matchesReason(row, undefined)).toBe(true);
    expect(matchesReason(row, 'max-receives')).toBe(true);
    expect(matchesReason(row, 'corrupt')).toBe(false);
  });
});

test('every reason code has a class, a meaning and an action', () => {
  expect(REASON_CODES).toEqual(
    expect.arrayContaining(['not-an-image', 'too-many-pixels', 'service-unavailable', 'unexpected', ...Object.keys(DERIVED_REASONS)]),
  );
  for (const code of REASON_CODES) {
    expect(REASONS[code]).toEqual({
      failureClass: expect.stringMatching(/^(permanent|transient|unknown)$/),
      meaning: expect.any(String),
      action: expect.any(String),
    });
  }
});
