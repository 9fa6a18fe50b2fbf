import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { OutputFamilyName } from '../outputs';
import { METADATA } from '../outputs';
import { headObjectMetadata } from '../storage';
import { type AuditReport, type AuditRules, expectedOutputs, markersToCheck, reconcileAudit, type UploadObject } from './audit';
import { type AuditTarget, listObjectsPage, mapLimited } from './auditSources';
import { type DlqRow, parseDlqMessage } from './dlqRows';
import { plannedRepairs, type Repair, sendRepairs } from './repair';
import { peekQueue, queueDepth, type ScanOptions } from './scanQueue';

/**
 * The scheduled reconciler: `pipeline audit --repair` over one slice of the uploads bucket per run.
 * A run continues from a checkpoint (the last upload key it judged), lists one page of uploads at a
 * time (ListObjectsV2 StartAfter, never a continuation token, so a page needs nothing but the key
 * it starts after), lists only the outputs of that page, HEADs only their markers, and stops at
 * `maxObjectsPerRun` uploads or when the Lambda's remaining time drops to the reserve kept for the
 * DLQ reads, the repairs and the checkpoint write. When a listing ends, the checkpoint goes back to
 * the start: ten million objects take 10^7 / maxObjectsPerRun runs per pass.
 *
 * The order per page is the audit's (uploads, then queue depths, then outputs); the DLQs are read
 * once per run, after every page's outputs, so an upload whose message left its queue is found as
 * an output or as a DLQ message.
 */

export interface Checkpoint {
  /** The last upload key judged; '' at the start of a pass. */
  startAfter: string;
  /** Full passes finished since the parameter was created. */
  passes: number;
  /** When the current pass began (ISO). */
  passStartedAt?: string;
}

export interface CheckpointStore {
  read(): Promise<Checkpoint>;
  write(checkpoint: Checkpoint): Promise<void>;
}

/** A stored value that is not a checkpoint (`{}`, as the stack creates it) starts a new pass. */
export function parseCheckpoint(text: string | undefined): Checkpoint {
  try {
    const value = JSON.parse(text ?? '{}') as Partial<Checkpoint>;
    return {
      startAfter: typeof value.startAfter === 'string' ? value.startAfter : '',
      passes: Number.isInteger(value.passes) && (value.passes as number) >= 0 ? (value.passes as number) : 0,
      ...(typeof value.passStartedAt === 'string' && { passStartedAt: value.passStartedAt }),
    };
  } catch {
    return { startAfter: '', passes: 0 };
  }
}

export interface ReconcileBudget {
  /** Uploads judged per run at most; each costs at most one HEAD per output family. */
  maxObjectsPerRun: number;
  /** Uploads listed per page (ListObjectsV2 MaxKeys, at most 1000). */
  pageSize: number;
  /** No new page is started with less than this left. */
  reserveMs: number;
  remainingMs: () => number;
  maxRepairsPerRun: number;
  repairRatePerSecond: number;
  /** DLQ messages read per DLQ at most. */
  maxDlqMessages: number;
  /** Parallel HEADs. */
  concurrency: number;
}

export interface ReconcileOptions extends Pick<AuditRules, 'thumbnails' | 'graceSeconds'> {
  maxReceiveCount: number;
  region: string;
  budget: ReconcileBudget;
  scan?: ScanOptions;
  dryRun?: boolean;
  now?: () => Date;
}

export interface ReconcileRun {
  from: Checkpoint;
  to: Checkpoint;
  /** A listing reached the end of the bucket during this run. */
  passCompleted: boolean;
  pages: number;
  requests: { lists: number; heads: number };
  stoppedBecause: 'end-of-bucket' | 'max-objects' | 'time';
  summary: AuditReport['summary'];
  missing: AuditReport['entries'];
  repairs: Repair[];
  repaired: number;
  warnings: string[];
}

export interface UploadsPage {
  uploads: UploadObject[];
  /** There are more keys after the last one. */
  truncated: boolean;
}

/** One page of the uploads bucket after `startAfter`. */
export async function listUploadsPage(s3: S3Client, bucket: string, startAfter: string, maxKeys: number): Promise<UploadsPage> {
  const { objects, truncated } = await listObjectsPage(s3, bucket, { startAfter, maxKeys });
  return { uploads: objects, truncated: truncated && objects.length > 0 };
}

/**
 * The ranges of output keys a page of uploads may have, one per output folder (`1024/`, `256/`,
 * `predictions/`...): from its smallest to its largest expected key.
 */
export function outputRanges(uploads: readonly UploadObject[], rules: Pick<AuditRules, 'thumbnails' | 'families'>) {
  const ranges = new Map<string, { first: string; last: string }>();
  for (const upload of uploads) {
    for (const plan of expectedOutputs(upload.key, rules)) {
      for (const key of plan.expected) {
        const prefix = key.slice(0, key.indexOf('/') + 1);
        const range = ranges.get(prefix);
        if (!range) ranges.set(prefix, { first: key, last: key });
        else {
          if (key < range.first) range.first = key;
          if (key > range.last) range.last = key;
        }
      }
    }
  }
  return [...ranges].map(([prefix, range]) => ({ prefix, ...range }));
}

/**
 * The output keys of a page of uploads: each folder listed from just before its first expected key
 * (StartAfter its first key minus its last character, which sorts before it) to past its last.
 * Keys of other uploads inside a range come along and are ignored by the audit.
 */
export async function listPageOutputs(
  s3: S3Client,
  bucket: string,
  uploads: readonly UploadObject[],
  rules: Pick<AuditRules, 'thumbnails' | 'families'>,
): Promise<{ keys: Set<string>; lists: number }> {
  const keys = new Set<string>();
  let lists = 0;
  for (const range of outputRanges(uploads, rules)) {
    let startAfter = range.first.slice(0, -1);
    for (;;) {
      const page = await listObjectsPage(s3, bucket, { prefix: range.prefix, startAfter, maxKeys: 1000 });
      lists++;
      const contents = page.objects.map((object) => object.key);
      for (const key of contents) if (key <= range.last) keys.add(key);
      const lastKey = contents[contents.length - 1];
      if (!page.truncated || lastKey === undefined || lastKey >= range.last) break;
      startAfter = lastKey;
    }
  }
  return { keys, lists };
}

const emptySummary = (): AuditReport['summary'] => ({ uploads: 0, complete: 0, 'dead-lettered': 0, pending: 0, missing: 0 });

/** One run of the reconciler: pages from the checkpoint within the budget, then the DLQs, the verdicts, the repairs, the new checkpoint. */
export async function reconcileRun(
  clients: { s3: S3Client; sqs: SQSClient; checkpoints: CheckpointStore },
  target: AuditTarget,
  options: ReconcileOptions,
): Promise<ReconcileRun> {
  const { s3, sqs, checkpoints } = clients;
  const { budget } = options;
  const now = options.now ?? (() => new Date());
  const families: OutputFamilyName[] = target.families.map((source) => source.family);
  const rules = { thumbnails: options.thumbnails, families };
  const from = await checkpoints.read();
  const pages: {
    uploads: UploadObject[];
    outputKeys: Set<string>;
    markerETags: Map<string, string | undefined>;
    depths: Partial<Record<OutputFamilyName, number>>;
    at: Date;
  }[] = [];
  const requests = { lists: 0, heads: 0 };
  let startAfter = from.startAfter;
  let judged = 0;
  let stoppedBecause: ReconcileRun['stoppedBecause'] = 'max-objects';
  let passCompleted = false;
  while (judged < budget.maxObjectsPerRun) {
    if (budget.remainingMs() < budget.reserveMs) {
      stoppedBecause = 'time';
      break;
    }
    const page = await listUploadsPage(s3, target.uploadsBucket, startAfter, Math.min(budget.pageSize, budget.maxObjectsPerRun - judged));
    requests.lists++;
    const at = now();
    const depths: Partial<Record<OutputFamilyName, number>> = {};
    for (const source of target.families) depths[source.family] = await queueDepth(sqs, source.queueUrl);
    const outputs = await listPageOutputs(s3, target.thumbnailsBucket, page.uploads, rules);
    requests.lists += outputs.lists;
    const markers = markersToCheck(page.uploads, outputs.keys, rules);
    const metadata = await mapLimited(markers, budget.concurrency, (key) => headObjectMetadata(s3, target.thumbnailsBucket, key));
    requests.heads += markers.length;
    pages.push({
      uploads: page.uploads,
      outputKeys: outputs.keys,
      markerETags: new Map(markers.map((key, index) => [key, metadata[index]?.[METADATA.sourceETag]])),
      depths,
      at,
    });
    judged += page.uploads.length;
    if (!page.truncated) {
      passCompleted = true;
      stoppedBecause = 'end-of-bucket';
      startAfter = '';
      break;
    }
    startAfter = page.uploads[page.uploads.length - 1].key;
  }

  const warnings: string[] = [];
  const scan = { ...options.scan, maxMessages: budget.maxDlqMessages };
  const readDlq = async (queue: string, url: string | undefined): Promise<DlqRow[]> => {
    if (!url) return [];
    const { messages, truncated } = await peekQueue(sqs, url, scan);
    if (truncated)
      warnings.push(
        `the ${queue} DLQ holds more than ${budget.maxDlqMessages} messages; uploads named beyond them may be reported missing`,
      );
    return messages.map((message) => parseDlqMessage(message, { queue, maxReceiveCount: options.maxReceiveCount }));
  };
  const deadLetters: Parameters<typeof reconcileAudit>[0]['deadLetters'] = { any: [] };
  if (pages.length > 0) {
    for (const source of target.families) deadLetters[source.family] = await readDlq(source.functionName, source.dlqUrl);
    deadLetters.any = await readDlq('delivery', target.deliveryDlqUrl);
  }

  const summary = emptySummary();
  const missing: AuditReport['entries'] = [];
  for (const page of pages) {
    const report = reconcileAudit({
      ...rules,
      outputs: 'all',
      uploadsBucket: target.uploadsBucket,
      graceSeconds: options.graceSeconds,
      now: page.at,
      uploads: page.uploads,
      outputKeys: page.outputKeys,
      markerETags: page.markerETags,
      deadLetters,
      queueDepths: page.depths,
    });
    for (const status of Object.keys(summary) as (keyof typeof summary)[]) summary[status] += report.summary[status];
    missing.push(...report.entries.filter((entry) => entry.status === 'missing'));
    warnings.push(...report.warnings);
  }

  // Repairs fit the time left (less a second for the checkpoint) as well as the run's cap.
  const timeLeftForRepairs = Math.max(0, budget.remainingMs() - 1000) / 1000;
  const repairLimit = Math.min(budget.maxRepairsPerRun, Math.floor(timeLeftForRepairs * budget.repairRatePerSecond));
  const repairs = plannedRepairs({ entries: missing }, target.families, repairLimit);
  const wanted = plannedRepairs({ entries: missing }, target.families).length;
  if (wanted > repairs.length) {
    warnings.push(`${wanted - repairs.length} of ${wanted} repair(s) not sent in this run (budget); the next pass finds them again`);
  }
  const repaired = await sendRepairs(sqs, repairs, {
    uploadsBucket: target.uploadsBucket,
    region: options.region,
    ratePerSecond: budget.repairRatePerSecond,
    dryRun: options.dryRun ?? false,
  });

  const to: Checkpoint = passCompleted
    ? { startAfter: '', passes: from.passes + 1 }
    : { startAfter, passes: from.passes, passStartedAt: from.passStartedAt ?? now().toISOString() };
  if (!options.dryRun) await checkpoints.write(to);
  return {
    from,
    to,
    passCompleted,
    pages: pages.length,
    requests,
    stoppedBecause,
    summary,
    missing,
    repairs,
    repaired,
    warnings,
  };
}
