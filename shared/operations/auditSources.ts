import { ListObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { CatalogueItem } from '../catalogue/item';
import type { Catalogue } from '../catalogue/store';
import { METADATA } from '../outputs';
import { headObjectMetadata } from '../storage';
import {
  type AuditInput,
  type AuditReport,
  type AuditRules,
  type CatalogueView,
  type CatalogueViewItem,
  markersToCheck,
  type OutputFamily,
  reconcileAudit,
  type UploadObject,
} from './audit';
import { type DlqRow, parseDlqMessage } from './dlqRows';
import { peekQueue, queueDepth, type ScanOptions } from './scanQueue';

/** The function that writes an output family: its queue holds the family's in-flight work, its DLQ the failures. */
export interface FamilySource {
  family: OutputFamily;
  functionName: string;
  queueUrl: string;
  dlqUrl: string;
}

/**
 * The family sources of the queue-fed functions (every family each writes, or one family alone),
 * with the queue and DLQ `urlsOf` finds for each function (it throws, naming what is unknown).
 */
export function familySources(
  functions: readonly { name: string; outputs: readonly OutputFamily[] }[],
  urlsOf: (functionName: string) => { queueUrl: string; dlqUrl: string },
  outputs: OutputFamily | 'all' = 'all',
): FamilySource[] {
  return functions.flatMap((fn) =>
    fn.outputs
      .filter((family) => outputs === 'all' || family === outputs)
      .map((family) => ({ family, functionName: fn.name, ...urlsOf(fn.name) })),
  );
}

/** Where an audit looks: the two buckets, each family's queue and DLQ, and the delivery DLQ. */
export interface AuditTarget {
  uploadsBucket: string;
  thumbnailsBucket: string;
  families: readonly FamilySource[];
  deliveryDlqUrl?: string;
}

export interface AuditOptions extends Omit<AuditRules, 'now' | 'uploadsBucket' | 'families'> {
  maxReceiveCount: number;
  scan?: ScanOptions;
  /** Parallel HEAD requests for the marker objects. */
  concurrency?: number;
  now?: () => Date;
}

const summary = (key: string, object: { ETag?: string; LastModified?: Date; Size?: number }): UploadObject => ({
  key,
  eTag: object.ETag,
  lastModified: object.LastModified,
  size: object.Size,
});

async function listV2(s3: S3Client, bucket: string, prefix: string | undefined): Promise<UploadObject[]> {
  const objects: UploadObject[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) if (object.Key !== undefined) objects.push(summary(object.Key, object));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
}

async function listV1(s3: S3Client, bucket: string, prefix: string | undefined): Promise<UploadObject[]> {
  const objects: UploadObject[] = [];
  let marker: string | undefined;
  for (;;) {
    const page = await s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: prefix, Marker: marker }));
    const contents = (page.Contents ?? []).filter((object) => object.Key !== undefined);
    for (const object of contents) if (object.Key !== undefined) objects.push(summary(object.Key, object));
    if (!page.IsTruncated || contents.length === 0) return objects;
    marker = page.NextMarker ?? contents[contents.length - 1].Key;
  }
}

const isServerError = (error: unknown) => ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0) >= 500;

/**
 * Every object of a bucket, following ListObjectsV2 continuation tokens. s3rver 3.7.1 builds those
 * tokens with DES, which Node's OpenSSL 3 refuses, so it answers 500 to any listing longer than a
 * page; after a server error the listing is done again with ListObjects (V1) and its Marker.
 */
export async function listAllObjects(s3: S3Client, bucket: string, prefix?: string): Promise<UploadObject[]> {
  try {
    return await listV2(s3, bucket, prefix);
  } catch (error) {
    if (!isServerError(error)) throw error;
    return listV1(s3, bucket, prefix);
  }
}

/**
 * One page of a bucket after a key (ListObjectsV2 StartAfter; V1 Marker after a server error, as
 * for listAllObjects: s3rver fails any V2 page that is truncated).
 */
export async function listObjectsPage(
  s3: S3Client,
  bucket: string,
  page: { prefix?: string; startAfter?: string; maxKeys: number },
): Promise<{ objects: UploadObject[]; truncated: boolean }> {
  const read = (contents: { Key?: string; ETag?: string; LastModified?: Date; Size?: number }[] | undefined) =>
    (contents ?? []).flatMap((object) => (object.Key === undefined ? [] : [summary(object.Key, object)]));
  const after = page.startAfter || undefined;
  try {
    const answer = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: page.prefix, StartAfter: after, MaxKeys: page.maxKeys }),
    );
    return { objects: read(answer.Contents), truncated: answer.IsTruncated === true };
  } catch (error) {
    if (!isServerError(error)) throw error;
    const answer = await s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: page.prefix, Marker: after, MaxKeys: page.maxKeys }));
    return { objects: read(answer.Contents), truncated: answer.IsTruncated === true };
  }
}

/** `fn` over every item, at most `limit` at a time; results in the items' order. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The most a catalogue listing page may hold (store.ts MAX_LIST_LIMIT). */
const CATALOGUE_PAGE = 1000;

/** Every item of the catalogue, page by page (the newest-first index of all items). */
export async function listCatalogue(catalogue: Pick<Catalogue, 'list'>): Promise<CatalogueItem[]> {
  const items: CatalogueItem[] = [];
  let cursor: string | null = null;
  do {
    const page = await catalogue.list({ limit: CATALOGUE_PAGE, cursor });
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return items;
}

const viewOf = (item: CatalogueItem): CatalogueViewItem => ({ status: item.status, eTag: item.source.eTag });

const isMissingQueue = (error: unknown) =>
  /QueueDoesNotExist|NonExistentQueue/.test(`${(error as Error).name} ${(error as Error).message}`);

/**
 * Gathers what the audit reconciles, in an order that cannot report in-flight work as missing:
 * uploads first (what must be accounted for), then the main queues' depths, then the outputs, then
 * the DLQs. An upload whose message had left its queue before the depth was read has, by then,
 * either its outputs or its DLQ message, and both are read later. (A redrive or a hand deletion
 * running at the same time can still fool it; run it again.)
 *
 * With a catalogue, its items are listed before anything else: a stage records its result after
 * writing its outputs (and a failure before sending it to the DLQ), so an item that claims a result
 * is checked against outputs and DLQs read after it. An item that lags (a stage finished after the
 * listing, or the index had not caught up) is read again, strongly consistent, at the end, and only
 * a disagreement that holds then is reported.
 */
export async function runAudit(
  clients: { s3: S3Client; sqs: SQSClient; catalogue?: Pick<Catalogue, 'list' | 'get'> },
  target: AuditTarget,
  options: AuditOptions,
): Promise<AuditReport> {
  const { s3, sqs } = clients;
  const families = target.families.map((source) => source.family);
  const rules = { thumbnails: options.thumbnails, outputs: options.outputs, families };
  const warnings: string[] = [];

  const catalogueItems = clients.catalogue ? await listCatalogue(clients.catalogue) : undefined;
  const uploads = await listAllObjects(s3, target.uploadsBucket);
  const now = (options.now ?? (() => new Date()))();
  const queueDepths: Partial<Record<OutputFamily, number>> = {};
  for (const source of target.families) queueDepths[source.family] = await queueDepth(sqs, source.queueUrl);

  const outputKeys = new Set((await listAllObjects(s3, target.thumbnailsBucket)).map((object) => object.key));
  const markers = markersToCheck(uploads, outputKeys, rules);
  const metadata = await mapLimited(markers, options.concurrency ?? 16, (key) => headObjectMetadata(s3, target.thumbnailsBucket, key));
  const markerETags = new Map(markers.map((key, index) => [key, metadata[index]?.[METADATA.sourceETag]]));

  const readDlq = async (queue: string, url: string | undefined, required: boolean): Promise<DlqRow[]> => {
    if (!url) return [];
    try {
      const { messages, truncated } = await peekQueue(sqs, url, options.scan);
      if (truncated)
        warnings.push(`the ${queue} DLQ holds more messages than were read; uploads it names beyond them may be reported missing`);
      return messages.map((message) => parseDlqMessage(message, { queue, maxReceiveCount: options.maxReceiveCount }));
    } catch (error) {
      if (!required && isMissingQueue(error)) {
        warnings.push(`the ${queue} DLQ (${url}) does not exist; skipped`);
        return [];
      }
      throw error;
    }
  };
  const byFamily: Partial<Record<OutputFamily, DlqRow[]>> = {};
  for (const source of target.families) byFamily[source.family] = await readDlq(source.functionName, source.dlqUrl, true);
  const deadLetters: AuditInput['deadLetters'] = { ...byFamily, any: await readDlq('delivery', target.deliveryDlqUrl, false) };

  const reconcile = (catalogue: CatalogueView | undefined) =>
    reconcileAudit({
      ...rules,
      uploadsBucket: target.uploadsBucket,
      graceSeconds: options.graceSeconds,
      now,
      uploads,
      outputKeys,
      markerETags,
      deadLetters,
      queueDepths,
      ...(catalogue && { catalogue }),
    });
  const listed = catalogueItems && new Map(catalogueItems.map((item) => [item.key, viewOf(item)]));
  let report = reconcile(listed);
  const flagged = [...new Set((report.catalogue?.disagreements ?? []).map((disagreement) => disagreement.key))];
  if (clients.catalogue && listed && flagged.length > 0) {
    // Judged per key: a key read again changes only its own verdict.
    const { catalogue } = clients;
    const fresh = await mapLimited(flagged, options.concurrency ?? 16, (key) => catalogue.get(key));
    const view = new Map(listed);
    flagged.forEach((key, index) => {
      const item = fresh[index];
      if (item) view.set(key, viewOf(item));
      else view.delete(key);
    });
    report = reconcile(view);
  }
  return { ...report, warnings: [...warnings, ...report.warnings] };
}
