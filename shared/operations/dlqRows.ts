import type { Message } from '@aws-sdk/client-sqs';
import { DLQ_ATTRIBUTES } from '../deadLetter';
import { normalizeETag, parseS3MessageBody } from '../events';

/**
 * One DLQ message as an operator reads it. Messages the functions dead-lettered carry the reason
 * as message attributes (shared/deadLetter.ts); messages moved by a queue's redrive policy or by
 * SNS (delivery DLQ) carry none, so what can be known is derived from the body (an S3 notification)
 * and the SQS system attributes, and the failure class is `unknown`.
 */
export interface DlqObject {
  kind: 'created' | 'removed';
  bucket: string;
  key: string;
  eTag?: string;
}

export interface DlqRow {
  /** Which DLQ: resize, predict, delivery (or a queue name given by URL). */
  queue: string;
  messageId: string;
  failureClass: 'permanent' | 'transient' | 'unknown';
  reason: string;
  errorMessage: string;
  sourceBucket?: string;
  sourceKey?: string;
  /** Every object the body's S3 notification names (usually one); keys decoded. */
  objects: DlqObject[];
  /** Processing attempts: exact when recorded by the function, else a lower bound (the redrive policy's maxReceiveCount). */
  attempts?: number;
  attemptsAtLeast: boolean;
  firstFailedAt?: string;
  lastFailedAt?: string;
  /** When the message entered the queue it was sent to (SentTimestamp). */
  sentAt?: string;
  sourceQueueArn?: string;
  originalMessageId?: string;
  /** ApproximateReceiveCount in the DLQ itself: every read (including `dlq list`) adds one. */
  dlqReceiveCount?: number;
  body: string;
}

export interface RowContext {
  queue: string;
  /** The source queue's redrive maxReceiveCount: a lower bound on attempts for a message moved by the policy. */
  maxReceiveCount: number;
}

const stringAttribute = (message: Message, name: string): string | undefined => {
  const value = message.MessageAttributes?.[name]?.StringValue;
  return value === undefined || value === '-' ? undefined : value;
};

const epochToIso = (value: string | undefined): string | undefined => {
  const ms = Number(value);
  return value !== undefined && Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : undefined;
};

const positiveNumber = (value: string | undefined): number | undefined => {
  const number = Number(value);
  return value !== undefined && Number.isFinite(number) && number > 0 ? number : undefined;
};

/** The objects an S3 notification body names, or why it names none. */
export function objectsInBody(body: string): { objects: DlqObject[]; problem?: string } {
  try {
    const events = parseS3MessageBody(body);
    if (events.length === 0) return { objects: [], problem: 'the body is an s3:TestEvent, which names no object' };
    return {
      objects: events.map((event) => ({
        kind: event.kind,
        bucket: event.bucket,
        key: event.key,
        ...(event.eTag && { eTag: normalizeETag(event.eTag) }),
      })),
    };
  } catch (error) {
    return { objects: [], problem: (error as Error).message };
  }
}

export function parseDlqMessage(message: Message, context: RowContext): DlqRow {
  const body = message.Body ?? '';
  const { objects, problem } = objectsInBody(body);
  const attribute = (name: keyof typeof DLQ_ATTRIBUTES) => stringAttribute(message, DLQ_ATTRIBUTES[name]);
  const system = message.Attributes ?? {};
  const recordedClass = attribute('failureClass');
  const recordedReason = attribute('reason');
  const first = objects[0];
  const common = {
    queue: context.queue,
    messageId: message.MessageId ?? '',
    // The body's key is exact; the attribute may have been clipped or had control characters replaced.
    sourceBucket: first?.bucket ?? attribute('sourceBucket'),
    sourceKey: first?.key ?? attribute('sourceKey'),
    objects,
    sentAt: epochToIso(system.SentTimestamp),
    dlqReceiveCount: positiveNumber(system.ApproximateReceiveCount),
    body,
  };

  if (recordedClass === 'permanent' || recordedClass === 'transient') {
    const attempts = positiveNumber(attribute('attempts'));
    return {
      ...common,
      failureClass: recordedClass,
      reason: recordedReason ?? 'unknown',
      errorMessage: attribute('errorMessage') ?? '',
      attempts,
      attemptsAtLeast: false,
      firstFailedAt: attribute('firstFailedAt'),
      lastFailedAt: attribute('failedAt'),
      sourceQueueArn: attribute('sourceQueueArn'),
      originalMessageId: attribute('originalMessageId'),
    };
  }

  // No reason recorded: SNS could not deliver it (delivery DLQ), or a redrive policy moved it.
  const delivery = context.queue === 'delivery';
  const describe = problem ? `; ${problem}` : '';
  return {
    ...common,
    failureClass: 'unknown',
    reason: delivery ? 'delivery-failed' : 'max-receives',
    errorMessage: delivery
      ? `SNS could not deliver this event to a subscribed queue${describe}`
      : `moved by the redrive policy after ${context.maxReceiveCount} receives with no reason recorded (crash, out of memory or timeout?)${describe}`,
    attempts: delivery ? undefined : context.maxReceiveCount,
    attemptsAtLeast: !delivery,
    // A message moved by the redrive policy keeps no failure times; SentTimestamp is the closest fact.
    firstFailedAt: undefined,
    lastFailedAt: undefined,
    sourceQueueArn: system.DeadLetterQueueSourceArn,
  };
}

/** Control characters (possible in S3 keys) would break a table line: shown escaped instead. */
export function printable(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return value.replace(/[\x00-\x1f\x7f-\x9f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const clip = (value: string, width: number) => (value.length > width ? `${value.slice(0, width - 1)}…` : value);

/** A plain text table: columns padded to the widest cell (cells clipped at maxWidth), the last column left ragged. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], maxWidth = 60): string {
  const cells = [headers, ...rows].map((row) => row.map((cell) => clip(printable(cell), maxWidth)));
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `2026-11-24T08:54:06.123Z` -> `2026-11-24 08:54:06Z`: enough for a table, the JSON keeps the full value. */
export const shortTime = (iso: string | undefined) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');

export function formatDlqRows(rows: readonly DlqRow[]): string {
  if (rows.length === 0) return 'no messages';
  const objectName = (row: DlqRow) => {
    if (!row.sourceKey) return '(no object: see the body)';
    const extra = row.objects.length > 1 ? ` (+${row.objects.length - 1} more)` : '';
    return `s3://${row.sourceBucket ?? '?'}/${row.sourceKey}${extra}`;
  };
  const attempts = (row: DlqRow) => (row.attempts === undefined ? '-' : `${row.attemptsAtLeast ? '>=' : ''}${row.attempts}`);
  return formatTable(
    ['QUEUE', 'CLASS', 'REASON', 'ATTEMPTS', 'FIRST FAILED', 'LAST FAILED', 'OBJECT', 'MESSAGE'],
    rows.map((row) => [
      row.queue,
      row.failureClass,
      row.reason,
      attempts(row),
      shortTime(row.firstFailedAt),
      shortTime(row.lastFailedAt),
      objectName(row),
      row.errorMessage,
    ]),
  );
}
