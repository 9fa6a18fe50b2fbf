import { PermanentError } from './errors';
import { decodeS3EventKey } from './s3Key';

/** One object change from an S3 notification, key already decoded. */
export interface S3ObjectEvent {
  kind: 'created' | 'removed';
  eventName: string;
  eventTime: string;
  bucket: string;
  key: string;
  size?: number;
  eTag?: string;
  versionId?: string;
  sequencer?: string;
  /** The notification record exactly as received, kept so a DLQ message can be replayed as-is. */
  raw: unknown;
  /**
   * Sent by a repair (`pipeline audit --repair`): do the work even when the outputs look done, since
   * one of them (a thumbnail deleted by hand) may be missing behind a complete marker.
   */
  force?: boolean;
}

/** The SQS message attribute a repair sets on the events it re-sends, and its value. */
export const REPAIR_ATTRIBUTE = { name: 'repair', force: 'force' } as const;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function invalid(message: string): never {
  throw new PermanentError('invalid-event', message);
}

function parseRecord(record: unknown, index: number): S3ObjectEvent {
  if (!isObject(record)) invalid(`Records[${index}] is not an object`);
  const eventName = record.eventName;
  if (typeof eventName !== 'string') invalid(`Records[${index}].eventName is missing`);
  const kind = eventName.startsWith('ObjectCreated:') ? 'created' : eventName.startsWith('ObjectRemoved:') ? 'removed' : undefined;
  if (!kind) invalid(`Records[${index}].eventName ${JSON.stringify(eventName)} is not an ObjectCreated or ObjectRemoved event`);
  const s3 = record.s3;
  if (!isObject(s3) || !isObject(s3.bucket) || !isObject(s3.object)) invalid(`Records[${index}].s3 lacks bucket or object`);
  const { bucket, object } = s3;
  if (typeof bucket.name !== 'string' || bucket.name === '') invalid(`Records[${index}].s3.bucket.name is missing`);
  if (typeof object.key !== 'string' || object.key === '') invalid(`Records[${index}].s3.object.key is missing`);
  let key: string;
  try {
    key = decodeS3EventKey(object.key);
  } catch {
    invalid(`Records[${index}].s3.object.key ${JSON.stringify(object.key)} is not valid URL encoding`);
  }
  return {
    kind,
    eventName,
    eventTime: typeof record.eventTime === 'string' ? record.eventTime : '',
    bucket: bucket.name,
    key,
    size: typeof object.size === 'number' ? object.size : undefined,
    eTag: typeof object.eTag === 'string' ? object.eTag : undefined,
    versionId: typeof object.versionId === 'string' ? object.versionId : undefined,
    sequencer: typeof object.sequencer === 'string' ? object.sequencer : undefined,
    raw: record,
  };
}

/**
 * Parses an S3 notification: the object S3 hands to Lambda directly, or the body of an SQS message
 * (raw SNS delivery makes the body exactly the notification; a non-raw SNS envelope is unwrapped too).
 * The `s3:TestEvent` S3 sends when a notification is configured yields no events.
 */
export function parseS3Notification(notification: unknown): S3ObjectEvent[] {
  if (!isObject(notification)) invalid('notification is not a JSON object');
  if (notification.Event === 's3:TestEvent') return [];
  if (notification.Type === 'Notification' && typeof notification.Message === 'string') {
    return parseS3MessageBody(notification.Message);
  }
  const records = notification.Records;
  if (!Array.isArray(records)) invalid('notification has no Records array');
  return records.map(parseRecord);
}

export function parseS3MessageBody(body: string): S3ObjectEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    invalid(`message body is not JSON: ${JSON.stringify(body.slice(0, 80))}`);
  }
  return parseS3Notification(parsed);
}

/** A notification holding only the given records: what a DLQ entry carries so a redrive replays just them. */
export function notificationBody(events: S3ObjectEvent[]): string {
  return JSON.stringify({ Records: events.map((event) => event.raw) });
}

/** S3 reports ETags with quotes in API responses and without in notifications. */
export const normalizeETag = (eTag: string | undefined): string | undefined => eTag?.replace(/^"|"$/g, '');
