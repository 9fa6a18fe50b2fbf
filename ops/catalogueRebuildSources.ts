import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { StagePart } from '../shared/catalogue/fromOutputs';
import { stagePart } from '../shared/catalogue/fromOutputs';
import type { CatalogueItem } from '../shared/catalogue/item';
import type { Catalogue } from '../shared/catalogue/store';
import type { PipelineConfig } from '../shared/config';
import { normalizeETag } from '../shared/events';
import type { UploadObject } from '../shared/operations/audit';
import { listAllObjects, listCatalogue, mapLimited } from '../shared/operations/auditSources';
import { type DlqRow, parseDlqMessage } from '../shared/operations/dlqRows';
import { peekQueue, type ScanOptions } from '../shared/operations/scanQueue';
import type { OutputFamilyName } from '../shared/outputs';
import { headObject } from '../shared/storage';
import {
  failureFinding,
  type ItemPlan,
  keysWithoutUpload,
  planItem,
  type RebuildChange,
  type RebuildReport,
  rebuildReport,
  type StageFinding,
  stageFinding,
} from './catalogueRebuild';

/** A stage of the catalogue: a queue-fed function, the output families it writes and its DLQ. */
export interface RebuildStage {
  name: string;
  outputs: readonly OutputFamilyName[];
  dlqUrl: string;
}

export interface RebuildTarget {
  uploadsBucket: string;
  thumbnailsBucket: string;
  /** For the report. */
  table: string;
  /** Every stage, in registry order (an item is complete when all of them are). */
  stages: readonly RebuildStage[];
}

export interface RebuildOptions {
  /** Sizes and format as the functions write them. */
  thumbnails: PipelineConfig['thumbnails'];
  maxReceiveCount: number;
  dryRun: boolean;
  scan?: ScanOptions;
  /** Uploads read (and items written) at a time. */
  concurrency?: number;
  now?: () => Date;
}

type CatalogueAccess = Pick<Catalogue, 'get' | 'put' | 'delete' | 'list'>;

interface Gathered {
  upload: UploadObject;
  stored: CatalogueItem | undefined;
  parts: (StagePart | undefined)[];
}

const revisionOf = (item: CatalogueItem | undefined) => (item ? item.revision : -1);

/**
 * Rebuilds the catalogue from the buckets and the DLQs, in an order that leaves the live pipeline's
 * writes alone (the stages record after writing their outputs, and a failure before sending it to
 * the DLQ):
 *   1. the catalogue's items are listed (what may need removing), then the uploads;
 *   2. per upload, its item is read (strongly consistent), then each stage's outputs, so a result
 *      the item claims has its outputs read after it;
 *   3. the DLQs are peeked (nothing is consumed), so a failure the item claims is in them by then;
 *   4. per upload, the item it should be is planned; before a put the item is read again, and if its
 *      revision moved (a stage recorded meanwhile) the change is skipped and the live write kept;
 *   5. items whose key is not among the uploads are deleted, unless the object is back (a HEAD).
 * Puts and deletes are unconditional (the store has no conditional replace): a stage that records in
 * the milliseconds between the second read and the put can still be overwritten; run it again.
 */
export async function runCatalogueRebuild(
  clients: { s3: S3Client; sqs: SQSClient; catalogue: CatalogueAccess },
  target: RebuildTarget,
  options: RebuildOptions,
): Promise<RebuildReport> {
  const { s3, sqs, catalogue } = clients;
  const concurrency = options.concurrency ?? 16;
  const now = options.now ?? (() => new Date());
  const stageNames = target.stages.map((stage) => stage.name);
  const config = {
    buckets: { uploads: target.uploadsBucket, thumbnails: target.thumbnailsBucket, models: '' },
    thumbnails: options.thumbnails,
  };
  const errors: { key: string; message: string }[] = [];
  const warnings: string[] = [];
  const fail = (key: string, error: unknown) => errors.push({ key, message: (error as Error).message });

  const listed = await listCatalogue(catalogue);
  const uploads = await listAllObjects(s3, target.uploadsBucket);

  const gathered = await mapLimited(uploads, concurrency, async (upload): Promise<Gathered | undefined> => {
    try {
      const stored = await catalogue.get(upload.key);
      const eTag = normalizeETag(upload.eTag) ?? '';
      const parts = await Promise.all(target.stages.map((stage) => stagePart(stage.outputs, upload.key, eTag, { config, s3 })));
      return { upload, stored, parts };
    } catch (error) {
      fail(upload.key, error);
      return undefined;
    }
  });

  const rows: DlqRow[][] = [];
  for (const stage of target.stages) {
    const { messages, truncated } = await peekQueue(sqs, stage.dlqUrl, options.scan);
    if (truncated) warnings.push(`the ${stage.name} DLQ holds more messages than were read; failures beyond them are not recorded`);
    rows.push(messages.map((message) => parseDlqMessage(message, { queue: stage.name, maxReceiveCount: options.maxReceiveCount })));
  }

  const plans: ItemPlan[] = [];
  const changes: RebuildChange[] = [];
  await mapLimited(
    gathered.filter((entry): entry is Gathered => entry !== undefined),
    concurrency,
    async ({ upload, stored, parts }) => {
      try {
        const findings: Record<string, StageFinding> = {};
        target.stages.forEach((stage, index) => {
          findings[stage.name] = stageFinding(parts[index], failureFinding(upload, target.uploadsBucket, rows[index]));
        });
        const plan = planItem({ upload, findings, stages: stageNames, stored, now: now() });
        plans.push(plan);
        if (plan.action !== 'create' && plan.action !== 'update') return;
        const change: RebuildChange = {
          key: plan.key,
          action: plan.action,
          status: plan.item.status,
          ...(plan.was && { was: plan.was }),
          detail: plan.detail,
          outcome: 'dry-run',
        };
        if (!options.dryRun) {
          const current = await catalogue.get(plan.key);
          if (revisionOf(current) !== revisionOf(stored)) {
            change.outcome = 'skipped';
            change.detail = `${change.detail} (not written: the item changed while the rebuild ran)`;
          } else {
            await catalogue.put(plan.item);
            change.outcome = 'done';
          }
        }
        changes.push(change);
      } catch (error) {
        fail(upload.key, error);
      }
    },
  );

  const uploadKeys = new Set(uploads.map((upload) => upload.key));
  const orphans = keysWithoutUpload(
    listed.map((item) => item.key),
    uploadKeys,
  );
  const statusOf = new Map(listed.map((item) => [item.key, item.status]));
  await mapLimited(orphans, concurrency, async (key) => {
    const change: RebuildChange = {
      key,
      action: 'remove',
      ...(statusOf.get(key) && { was: statusOf.get(key) }),
      detail: `no object in s3://${target.uploadsBucket}`,
      outcome: 'dry-run',
    };
    try {
      if (!options.dryRun) {
        if (await headObject(s3, target.uploadsBucket, key)) {
          change.outcome = 'skipped';
          change.detail = `not removed: the object was uploaded again while the rebuild ran`;
        } else {
          await catalogue.delete(key);
          change.outcome = 'done';
        }
      }
      changes.push(change);
    } catch (error) {
      fail(key, error);
    }
  });

  return rebuildReport({
    dryRun: options.dryRun,
    table: target.table,
    uploadsBucket: target.uploadsBucket,
    stages: stageNames,
    uploads: uploads.length,
    plans,
    changes,
    errors,
    warnings,
  });
}
