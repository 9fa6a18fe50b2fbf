import { createHash } from 'node:crypto';

/**
 * The opaque pagination cursor of a catalogue listing: base64url of a JSON envelope holding a
 * version, a digest of the listing it belongs to and DynamoDB's LastEvaluatedKey (plain strings).
 * A cursor comes back from a client, so it is checked before it gets near DynamoDB: only the
 * listing's own key attributes, string values of bounded size, the index's partition value
 * unchanged. It is not signed; a client that edits the key merely starts elsewhere in the same
 * listing, which it could do anyway.
 */

export type InvalidCursorReason = 'malformed' | 'unsupported-version' | 'other-listing' | 'bad-key';

export class InvalidCursorError extends Error {
  constructor(
    readonly reason: InvalidCursorReason,
    message: string,
  ) {
    super(`invalid cursor: ${message}`);
    this.name = 'InvalidCursorError';
  }
}

export const CURSOR_VERSION = 1;
/** The longest legitimate cursor: a 1024-byte S3 key escaped by JSON and base64-encoded, with room to spare. */
export const MAX_CURSOR_LENGTH = 10_000;
/** No key attribute is longer than an S3 key (1024 bytes). */
const MAX_VALUE_BYTES = 1024;

export type StartKey = Record<string, string>;

export interface CursorScope {
  /** Names the listing (index, partition value, filters); a cursor is accepted only by the listing that issued it. */
  listing: string;
  /** The attributes of the index's LastEvaluatedKey, all strings. */
  attributes: readonly string[];
  /** Values some of them must have: the index's partition key. */
  fixed?: Record<string, string>;
}

const listingTag = (listing: string) => createHash('sha256').update(listing).digest('base64url').slice(0, 16);

/** Why a start key does not belong to the scope, or undefined when it does. */
function keyProblem(key: unknown, scope: CursorScope): string | undefined {
  if (typeof key !== 'object' || key === null || Array.isArray(key)) return 'the key is not an object';
  const names = Object.keys(key);
  const expected = [...scope.attributes].sort();
  if (names.length !== expected.length || [...names].sort().some((name, i) => name !== expected[i])) {
    return `the key has attributes ${names.join(', ')}, expected ${expected.join(', ')}`;
  }
  for (const [name, value] of Object.entries(key)) {
    if (typeof value !== 'string' || value === '') return `${name} is not a non-empty string`;
    if (Buffer.byteLength(value, 'utf8') > MAX_VALUE_BYTES) return `${name} is over ${MAX_VALUE_BYTES} bytes`;
    if (scope.fixed && name in scope.fixed && scope.fixed[name] !== value) return `${name} is not this listing's`;
  }
  return undefined;
}

export function encodeCursor(startKey: StartKey, scope: CursorScope): string {
  const problem = keyProblem(startKey, scope);
  if (problem) throw new RangeError(`cannot make a cursor: ${problem}`);
  return Buffer.from(JSON.stringify({ v: CURSOR_VERSION, l: listingTag(scope.listing), k: startKey })).toString('base64url');
}

/** The start key a cursor carries, or an InvalidCursorError saying why it is refused. */
export function decodeCursor(cursor: string, scope: CursorScope): StartKey {
  if (typeof cursor !== 'string' || cursor === '' || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw new InvalidCursorError('malformed', `expected base64url of at most ${MAX_CURSOR_LENGTH} characters`);
  }
  let envelope: unknown;
  try {
    envelope = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('malformed', 'not an encoded JSON envelope');
  }
  if (typeof envelope !== 'object' || envelope === null || !('v' in envelope) || !('l' in envelope) || !('k' in envelope)) {
    throw new InvalidCursorError('malformed', 'not a cursor envelope');
  }
  const { v, l, k } = envelope as { v: unknown; l: unknown; k: unknown };
  if (v !== CURSOR_VERSION) throw new InvalidCursorError('unsupported-version', `version ${JSON.stringify(v)}, expected ${CURSOR_VERSION}`);
  if (l !== listingTag(scope.listing)) throw new InvalidCursorError('other-listing', 'it was issued by another listing');
  const problem = keyProblem(k, scope);
  if (problem) throw new InvalidCursorError('bad-key', problem);
  return { ...(k as StartKey) };
}
