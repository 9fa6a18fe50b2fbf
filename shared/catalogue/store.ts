import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { classifyError } from '../classifyError';
import { ConfigError, type PipelineError, TransientError } from '../errors';
import type { Verdict } from '../moderation/policy';
import { checkNumber, checkOneOf } from '../validate';
import { type CursorScope, decodeCursor, encodeCursor, type StartKey } from './cursor';
import {
  type CatalogueItem,
  type ItemStatus,
  LISTING_ALL,
  mergeStage,
  type Removal,
  removalAllowed,
  type StageUpdate,
  withDerived,
} from './item';
import { CATALOGUE_INDEXES, type CatalogueIndex, indexKeyAttributes, KEY_ATTRIBUTE } from './table';

/**
 * The catalogue's DynamoDB I/O, kept thin: what an item becomes is decided by item.ts, which index
 * answers a listing by listingPlan below. Writes are optimistic: each is conditioned on the
 * revision it read, so two stages finishing at once cannot lose each other's update; the loser
 * reads again and merges onto the winner's item. Every SDK error leaves as the pipeline's
 * TransientError or PermanentError.
 */

export interface CatalogueOptions {
  client: DynamoDBClient;
  tableName: string;
  /** The stages whose results make an item complete (the queue-fed functions). */
  stages: readonly string[];
  /** Index entries one Query evaluates when a filter may discard some; unfiltered queries ask for exactly what is missing. */
  queryPageSize?: number;
  /** Read-merge-write rounds before a write that keeps losing to other writers is left to the queue's retry. */
  maxAttempts?: number;
  now?: () => Date;
}

export interface ListOptions {
  status?: ItemStatus;
  verdict?: Verdict;
  /** Only keys that start with this. */
  prefix?: string;
  limit: number;
  /** The cursor of the previous page of the same listing. */
  cursor?: string | null;
}

export interface ListPage {
  /** Newest upload first. */
  items: CatalogueItem[];
  /** Present when more items may follow; passed back as `cursor`, it continues the listing. */
  cursor: string | null;
}

export type RecordOutcome = 'written' | 'stale' | 'unchanged';
export type RemoveOutcome = 'deleted' | 'kept' | 'absent';

export interface Catalogue {
  get(key: string): Promise<CatalogueItem | undefined>;
  /** Merges a stage's result into the item (see mergeStage): 'stale' and 'unchanged' write nothing. */
  record(update: StageUpdate): Promise<RecordOutcome>;
  /** Deletes the item for an ObjectRemoved event, unless it records a newer version ('kept'). */
  remove(key: string, removal: Removal): Promise<RemoveOutcome>;
  /** Replaces the item unconditionally (a rebuild from S3); its derived attributes are recomputed. */
  put(item: CatalogueItem): Promise<void>;
  delete(key: string): Promise<void>;
  list(options: ListOptions): Promise<ListPage>;
}

/** Raised for list options no listing can answer, naming the option. */
export class InvalidListOptionError extends Error {
  constructor(
    readonly option: 'limit' | 'status' | 'verdict' | 'prefix',
    problem: string,
  ) {
    super(`${option}: ${problem}`);
    this.name = 'InvalidListOptionError';
  }
}

export const MAX_LIST_LIMIT = 1000;
const ITEM_STATUSES: readonly ItemStatus[] = ['pending', 'complete', 'failed'];
const VERDICTS: readonly Verdict[] = ['clean', 'flagged'];
const DEFAULT_QUERY_PAGE_SIZE = 200;
const DEFAULT_MAX_ATTEMPTS = 5;

/** DynamoDB's throttling that classifyError does not name (it answers 400, not 429). */
const DYNAMODB_THROTTLING = new Set(['ProvisionedThroughputExceededException']);

function storeError(error: unknown): PipelineError {
  const name = (error as { name?: string } | null)?.name ?? '';
  if (DYNAMODB_THROTTLING.has(name)) return new TransientError('throttled', (error as Error).message, { cause: error });
  return classifyError(error);
}

const call = <T>(request: Promise<T>): Promise<T> =>
  request.catch((error: unknown) => {
    throw storeError(error);
  });

const isConditionFailure = (error: unknown) => (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';

export interface ListingPlan {
  index: CatalogueIndex;
  /** The Query without table, page size and start key. */
  query: Pick<
    QueryCommandInput,
    | 'IndexName'
    | 'KeyConditionExpression'
    | 'FilterExpression'
    | 'ExpressionAttributeNames'
    | 'ExpressionAttributeValues'
    | 'ScanIndexForward'
  >;
  filtered: boolean;
  scope: CursorScope;
}

/**
 * Which index answers a listing and how: by status when one is given, else by verdict, else all
 * uploads; the remaining filters become a FilterExpression. Pure, and the one place the filters
 * are checked (the limit is checked by list).
 */
export function listingPlan(options: Omit<ListOptions, 'limit' | 'cursor'>): ListingPlan {
  const status =
    options.status === undefined ? undefined : checkOneOf(options.status, ITEM_STATUSES, (p) => new InvalidListOptionError('status', p));
  const verdict =
    options.verdict === undefined ? undefined : checkOneOf(options.verdict, VERDICTS, (p) => new InvalidListOptionError('verdict', p));
  const { prefix } = options;
  if (prefix !== undefined && (typeof prefix !== 'string' || prefix === '' || Buffer.byteLength(prefix, 'utf8') > 1024)) {
    throw new InvalidListOptionError('prefix', `expected a non-empty string of at most 1024 bytes, got ${JSON.stringify(prefix)}`);
  }
  const index: CatalogueIndex = status ? 'byStatus' : verdict ? 'byVerdict' : 'byUpload';
  const hashAttribute = CATALOGUE_INDEXES[index];
  const hashValue = status ?? verdict ?? LISTING_ALL;
  const names: Record<string, string> = { '#hash': hashAttribute };
  const values: Record<string, string> = { ':hash': hashValue };
  const filters: string[] = [];
  if (status && verdict) {
    names['#verdict'] = CATALOGUE_INDEXES.byVerdict;
    values[':verdict'] = verdict;
    filters.push('#verdict = :verdict');
  }
  if (prefix !== undefined) {
    names['#key'] = KEY_ATTRIBUTE;
    values[':prefix'] = prefix;
    filters.push('begins_with(#key, :prefix)');
  }
  return {
    index,
    query: {
      IndexName: index,
      KeyConditionExpression: '#hash = :hash',
      ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: marshall(values),
      ScanIndexForward: false,
    },
    filtered: filters.length > 0,
    scope: {
      listing: JSON.stringify([index, hashValue, status && verdict ? verdict : null, prefix ?? null]),
      attributes: indexKeyAttributes(index),
      fixed: { [hashAttribute]: hashValue },
    },
  };
}

function checkOptions(options: CatalogueOptions): void {
  const { stages, tableName } = options;
  if (typeof tableName !== 'string' || tableName.length < 3)
    throw new ConfigError('catalogue table', `expected a table name, got ${JSON.stringify(tableName)}`);
  if (stages.length === 0) throw new ConfigError('catalogue stages', 'needs at least one stage, or every item would be complete at once');
  if (stages.some((stage) => typeof stage !== 'string' || stage === '')) throw new ConfigError('catalogue stages', 'a stage name is empty');
  if (new Set(stages).size !== stages.length) throw new ConfigError('catalogue stages', `stages repeat: ${stages.join(', ')}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createCatalogue(options: CatalogueOptions): Catalogue {
  checkOptions(options);
  const { client, tableName } = options;
  const stages = [...options.stages];
  const now = options.now ?? (() => new Date());
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const queryPageSize = options.queryPageSize ?? DEFAULT_QUERY_PAGE_SIZE;
  const keyOf = (key: string) => marshall({ [KEY_ATTRIBUTE]: key });
  const toItem = (item: CatalogueItem) => marshall(item, { removeUndefinedValues: true });

  // Strongly consistent: a read-merge-write must see the last write, and an app asking whether its
  // upload is ready right after the pipeline said so must not be told it is pending.
  const get = async (key: string): Promise<CatalogueItem | undefined> => {
    const { Item } = await call(client.send(new GetItemCommand({ TableName: tableName, Key: keyOf(key), ConsistentRead: true })));
    return Item ? (unmarshall(Item) as CatalogueItem) : undefined;
  };

  /** The condition that the item is still as it was read: absent, or at the revision read. */
  const unchangedSince = (
    read: CatalogueItem | undefined,
  ): {
    ConditionExpression: string;
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues?: Record<string, AttributeValue>;
  } =>
    read
      ? {
          ConditionExpression: '#revision = :read',
          ExpressionAttributeNames: { '#revision': 'revision' },
          ExpressionAttributeValues: marshall({ ':read': read.revision }),
        }
      : { ConditionExpression: 'attribute_not_exists(#key)', ExpressionAttributeNames: { '#key': KEY_ATTRIBUTE } };

  /** Runs a conditional write; false when another writer got there first. */
  const conditional = async (write: Promise<unknown>): Promise<boolean> => {
    try {
      await write;
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw storeError(error);
    }
  };

  /** Repeats read-decide-write while other writers win the race; the queue retries after maxAttempts. */
  async function optimistic<T>(key: string, round: (read: CatalogueItem | undefined) => Promise<T | 'conflict'>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const outcome = await round(await get(key));
      if (outcome !== 'conflict') return outcome;
      if (attempt >= maxAttempts) {
        throw new TransientError(
          'unexpected',
          `catalogue item ${JSON.stringify(key)} changed under each of ${attempt} writes; retrying later`,
        );
      }
      await sleep(Math.random() * 25 * attempt); // jittered, so the writers that collided do not collide again
    }
  }

  const record = (update: StageUpdate) =>
    optimistic<RecordOutcome>(update.key, async (read) => {
      const merged = mergeStage(read, update, stages, now());
      if (merged === 'stale' || merged === 'unchanged') return merged;
      const written = await conditional(
        client.send(new PutItemCommand({ TableName: tableName, Item: toItem(merged), ...unchangedSince(read) })),
      );
      return written ? 'written' : 'conflict';
    });

  const remove = (key: string, removal: Removal) =>
    optimistic<RemoveOutcome>(key, async (read) => {
      if (!read) return 'absent';
      if (!removalAllowed(read, removal)) return 'kept';
      const deleted = await conditional(
        client.send(new DeleteItemCommand({ TableName: tableName, Key: keyOf(key), ...unchangedSince(read) })),
      );
      return deleted ? 'deleted' : 'conflict';
    });

  async function list(request: ListOptions): Promise<ListPage> {
    const limit = checkNumber(request.limit, { integer: true, min: 1, max: MAX_LIST_LIMIT }, (p) => new InvalidListOptionError('limit', p));
    const plan = listingPlan(request);
    const cursorAt = (key: StartKey) => encodeCursor(key, plan.scope);
    const startOf = (item: CatalogueItem): StartKey =>
      Object.fromEntries(plan.scope.attributes.map((name) => [name, String((item as unknown as Record<string, unknown>)[name])]));
    const items: CatalogueItem[] = [];
    let start: StartKey | undefined = request.cursor ? decodeCursor(request.cursor, plan.scope) : undefined;
    for (;;) {
      const room = limit - items.length;
      const page = await call(
        client.send(
          new QueryCommand({
            TableName: tableName,
            ...plan.query,
            Limit: plan.filtered ? Math.max(room, queryPageSize) : room,
            ...(start ? { ExclusiveStartKey: marshall(start) } : {}),
          }),
        ),
      );
      const found = (page.Items ?? []).map((item) => unmarshall(item) as CatalogueItem);
      if (found.length > room) {
        // A filtered page can hold more than is wanted: the next page starts after the last one kept.
        items.push(...found.slice(0, room));
        return { items, cursor: cursorAt(startOf(items[items.length - 1])) };
      }
      items.push(...found);
      if (!page.LastEvaluatedKey) return { items, cursor: null };
      start = unmarshall(page.LastEvaluatedKey) as StartKey;
      if (items.length === limit) return { items, cursor: cursorAt(start) };
    }
  }

  return {
    get,
    record,
    remove,
    list,
    put: async (item) => {
      await call(client.send(new PutItemCommand({ TableName: tableName, Item: toItem(withDerived(item, stages)) })));
    },
    delete: async (key) => {
      await call(client.send(new DeleteItemCommand({ TableName: tableName, Key: keyOf(key) })));
    },
  };
}
