import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DescribeTableCommandOutput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { classifyError } from '../classifyError';
import { TransientError } from '../errors';

/**
 * The catalogue table, defined once: the local stack creates it with the SDK (createTableInput,
 * ensureTable) and the CloudFormation generator turns catalogueTableProperties into an
 * AWS::DynamoDB::Table, so the two cannot drift apart.
 *
 * One item per upload key. Three indexes list items newest first without a scan: by status, by
 * moderation verdict (sparse: only items with a prediction) and all of them (`listing` is a constant).
 * Each projects ALL attributes, so a listing page needs no second read.
 */

/** The table's partition key. */
export const KEY_ATTRIBUTE = 'key';
/** Every index's sort key: the source's upload time (ISO 8601). */
export const SORT_ATTRIBUTE = 'uploadedAt';

/** Each index and its partition key. */
export const CATALOGUE_INDEXES = {
  byStatus: 'status',
  byVerdict: 'verdict',
  byUpload: 'listing',
} as const;
export type CatalogueIndex = keyof typeof CATALOGUE_INDEXES;

type KeyElement = { AttributeName: string; KeyType: 'HASH' | 'RANGE' };

/** Plain data (type aliases, fresh arrays) so it is both a CreateTable input and CloudFormation properties. */
export type CatalogueTableProperties = {
  BillingMode: 'PAY_PER_REQUEST';
  AttributeDefinitions: { AttributeName: string; AttributeType: 'S' }[];
  KeySchema: KeyElement[];
  GlobalSecondaryIndexes: { IndexName: string; KeySchema: KeyElement[]; Projection: { ProjectionType: 'ALL' } }[];
};

/** The key attributes of an index's LastEvaluatedKey: the index's keys and the table's. */
export const indexKeyAttributes = (index: CatalogueIndex): string[] => [KEY_ATTRIBUTE, CATALOGUE_INDEXES[index], SORT_ATTRIBUTE];

export function catalogueTableProperties(): CatalogueTableProperties {
  const indexes = Object.entries(CATALOGUE_INDEXES);
  const string = (AttributeName: string) => ({ AttributeName, AttributeType: 'S' as const });
  return {
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [string(KEY_ATTRIBUTE), ...indexes.map(([, hash]) => string(hash)), string(SORT_ATTRIBUTE)],
    KeySchema: [{ AttributeName: KEY_ATTRIBUTE, KeyType: 'HASH' }],
    GlobalSecondaryIndexes: indexes.map(([IndexName, hash]) => ({
      IndexName,
      KeySchema: [
        { AttributeName: hash, KeyType: 'HASH' },
        { AttributeName: SORT_ATTRIBUTE, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
  };
}

export const createTableInput = (tableName: string): CreateTableCommandInput => ({ TableName: tableName, ...catalogueTableProperties() });

/** Thrown by ensureTable when a table of that name exists without the catalogue's indexes. */
export class CatalogueTableError extends Error {
  constructor(
    readonly tableName: string,
    message: string,
  ) {
    super(`table ${tableName}: ${message}`);
    this.name = 'CatalogueTableError';
  }
}

type Table = NonNullable<DescribeTableCommandOutput['Table']>;

const isActive = (table: Table) =>
  table.TableStatus === 'ACTIVE' && (table.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE');

/**
 * Creates the table unless it exists (ResourceInUseException: already there, or being created by
 * someone else), then waits until it and its indexes are ACTIVE, as a write before that fails.
 * An existing table that lacks an index is refused rather than used: its listings would fail later.
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  options: { timeoutMs?: number; pollMs?: number } = {},
): Promise<'created' | 'existed'> {
  const { timeoutMs = 120_000, pollMs = 500 } = options;
  let outcome: 'created' | 'existed' = 'created';
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceInUseException') throw classifyError(error);
    outcome = 'existed';
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName })).catch((error: unknown) => {
      throw classifyError(error);
    });
    if (!table) throw new CatalogueTableError(tableName, 'DescribeTable returned no table');
    const present = new Set((table.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
    const missing = Object.keys(CATALOGUE_INDEXES).filter((index) => !present.has(index));
    if (missing.length > 0) throw new CatalogueTableError(tableName, `exists without the index(es) ${missing.join(', ')}`);
    if (isActive(table)) return outcome;
    if (Date.now() > deadline) throw new TransientError('timeout', `table ${tableName} is not ACTIVE after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
