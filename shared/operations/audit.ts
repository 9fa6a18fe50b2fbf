import type { ItemStatus } from '../catalogue/item';
import type { OutputFormat } from '../config';
import { normalizeETag } from '../events';
import { type FamilyOutputs, OUTPUT_FAMILIES, type OutputFamilyName } from '../outputs';
import type { DlqRow } from './dlqRows';
import { formatTable, shortTime } from './dlqRows';

/**
 * The reconciliation behind `pipeline audit`: every upload must end as its outputs or as a DLQ
 * message. Pure functions over listings, so the rules are tested without servers; the I/O that
 * gathers the listings is in auditSources.ts.
 *
 * Each output family is judged on its own: the thumbnails (resize function) and the prediction
 * (predict function). A family is
 *   complete       every output exists and the commit marker's `source-etag` is the upload's ETag
 *                  (resize writes the largest thumbnail last, so it proves the smaller ones; the
 *                  listing proves none was deleted since);
 *   dead-lettered  not complete, and its DLQ (or the delivery DLQ) holds a message naming the key
 *                  (and, when the message says, the same ETag);
 *   pending        not complete, but the upload is younger than the grace period or the family's
 *                  queue still holds messages (in flight, waiting or delayed);
 *   missing        none of these: the promise is broken.
 * An upload takes its worst family's status.
 *
 * Given the catalogue's view (each item's status and source ETag), the audit also reports where the
 * catalogue disagrees with what S3 and the DLQs prove; see judgeCatalogue. Those disagreements do
 * not make the audit fail: S3 stays the source of truth, and `pipeline catalogue rebuild` repairs them.
 */

type AuditStatus = 'complete' | 'dead-lettered' | 'pending' | 'missing';
export type OutputFamily = OutputFamilyName;
/** One output family checked alone, or every family. */
type OutputsOption = OutputFamilyName | 'all';

export interface UploadObject {
  key: string;
  eTag?: string;
  lastModified?: Date | string;
  size?: number;
}

export interface AuditRules {
  uploadsBucket: string;
  thumbnails: { sizes: readonly number[]; format: OutputFormat };
  outputs: OutputsOption;
  /** The families checked: `thumbnails` alone, or every family a function of the registry writes. */
  families: readonly OutputFamily[];
  graceSeconds: number;
  now: Date;
}

export interface AuditInput extends AuditRules {
  uploads: readonly UploadObject[];
  /** Every key in the thumbnails bucket (predictions included). */
  outputKeys: ReadonlySet<string>;
  /** `source-etag` metadata of the marker objects that were HEADed (see markersToCheck). */
  markerETags: ReadonlyMap<string, string | undefined>;
  /** Rows of the DLQs, by family (the DLQ of the function that writes it); `any` <- delivery DLQ. */
  deadLetters: Partial<Record<OutputFamily, readonly DlqRow[]>> & { any: readonly DlqRow[] };
  /** Messages still in each family's main queue (visible + in flight + delayed). */
  queueDepths: Partial<Record<OutputFamily, number>>;
  /** The catalogue's items by key, when the stack has a catalogue table: compared with the findings. */
  catalogue?: CatalogueView;
}

/** What the catalogue says about an upload: its item's derived status and the source ETag it is for. */
export interface CatalogueViewItem {
  status: ItemStatus;
  eTag: string;
}

export type CatalogueView = ReadonlyMap<string, CatalogueViewItem>;

/**
 * How a catalogue item disagrees with S3 and the DLQs:
 *   missing             no item, though a stage has finished (outputs or a failure it recorded);
 *   other-etag          the item is for another version of the object;
 *   complete-not-in-s3  the item says complete, but some outputs are absent or of another version;
 *   failed-without-dlq  the item says failed, but no function's DLQ holds a failure for the upload;
 *   behind-s3           the item says pending or failed, but every output is there;
 *   no-upload           an item for a key that is not in the uploads bucket.
 */
export type CatalogueProblem = 'missing' | 'other-etag' | 'complete-not-in-s3' | 'failed-without-dlq' | 'behind-s3' | 'no-upload';

export interface CatalogueDisagreement {
  key: string;
  problem: CatalogueProblem;
  /** What the catalogue says; absent when it has no item. */
  catalogue?: CatalogueViewItem;
  /** What the audit found; absent for an item with no upload. */
  audit?: AuditStatus;
  detail: string;
}

export interface CatalogueAudit {
  /** Items in the catalogue. */
  items: number;
  /**
   * `all`: every stage's outputs and DLQ were read, so every rule applies. `thumbnails`
   * (--outputs thumbnails): the predict stage was not read, so the rules that need every stage
   * (failed-without-dlq, behind-s3) are skipped.
   */
  judged: OutputsOption;
  /** Uploads still in flight (audit status pending) are not compared: the catalogue may lag them. */
  disagreements: CatalogueDisagreement[];
}

interface FamilyResult {
  family: OutputFamily;
  status: AuditStatus;
  detail: string;
  /** For dead-lettered: the DLQ row's queue, failure class, reason and message id. */
  deadLetter?: { queue: string; failureClass: DlqRow['failureClass']; reason: string; messageId: string };
  /** For pending: young upload, or messages still queued. */
  pendingBecause?: 'grace' | 'queue';
}

interface AuditEntry {
  key: string;
  eTag?: string;
  lastModified?: string;
  status: AuditStatus;
  families: FamilyResult[];
}

export interface AuditReport {
  ok: boolean;
  checkedAt: string;
  uploadsBucket: string;
  outputs: OutputsOption;
  graceSeconds: number;
  summary: Record<AuditStatus, number> & { uploads: number };
  queueDepths: Partial<Record<OutputFamily, number>>;
  /** Every upload that is not complete, worst first. */
  entries: AuditEntry[];
  /** Notes for the operator (e.g. more incomplete uploads than messages in flight). */
  warnings: string[];
  /** Where the catalogue disagrees with S3 and the DLQs; present when a catalogue view was given. */
  catalogue?: CatalogueAudit;
}

interface FamilyPlan extends FamilyOutputs {
  family: OutputFamily;
}

/** The outputs an upload must have, per family, and for each the object whose metadata proves the run. */
export function expectedOutputs(key: string, rules: Pick<AuditRules, 'thumbnails' | 'families'>): FamilyPlan[] {
  return rules.families.map((family) => ({ family, ...OUTPUT_FAMILIES[family](key, rules.thumbnails) }));
}

/** Marker objects worth a HEAD: those of families whose every output is listed (otherwise the family is incomplete anyway). */
export function markersToCheck(
  uploads: readonly UploadObject[],
  outputKeys: ReadonlySet<string>,
  rules: Pick<AuditRules, 'thumbnails' | 'families'>,
): string[] {
  const markers = new Set<string>();
  for (const upload of uploads) {
    for (const plan of expectedOutputs(upload.key, rules)) {
      if (plan.expected.every((key) => outputKeys.has(key))) markers.add(plan.marker);
    }
  }
  return [...markers];
}

const isoOf = (value: Date | string | undefined) => (value === undefined ? undefined : new Date(value).toISOString());

/** A DLQ row accounts for an upload when it names the key in that bucket, for its creation, and (when it says) the same ETag. */
export function deadLetterFor(upload: UploadObject, uploadsBucket: string, rows: readonly DlqRow[]): DlqRow | undefined {
  const eTag = normalizeETag(upload.eTag);
  return rows.find((row) => {
    if (row.objects.length === 0) return row.sourceKey === upload.key && (row.sourceBucket ?? uploadsBucket) === uploadsBucket;
    return row.objects.some(
      (object) =>
        object.kind === 'created' &&
        object.key === upload.key &&
        object.bucket === uploadsBucket &&
        (!object.eTag || !eTag || object.eTag === eTag),
    );
  });
}

const RANK: Record<AuditStatus, number> = { complete: 0, 'dead-lettered': 1, pending: 2, missing: 3 };
const worst = (statuses: AuditStatus[]) => statuses.reduce((a, b) => (RANK[b] > RANK[a] ? b : a), 'complete' as AuditStatus);

function judgeFamily(upload: UploadObject, plan: FamilyPlan, input: AuditInput): FamilyResult {
  const { family } = plan;
  const absent = plan.expected.filter((key) => !input.outputKeys.has(key));
  const eTag = normalizeETag(upload.eTag);
  let incomplete: string;
  if (absent.length === 0) {
    const markerETag = input.markerETags.get(plan.marker);
    if (eTag !== undefined && markerETag === eTag) return { family, status: 'complete', detail: 'ok' };
    incomplete = markerETag
      ? `outputs are from another version of the object (source-etag ${markerETag}, upload ${eTag ?? '?'})`
      : `${plan.marker} has no source-etag`;
  } else if (absent.length === plan.expected.length && absent.length > 1) {
    incomplete = `none of its ${absent.length} ${family} (${plan.marker}, ...)`;
  } else {
    incomplete = `no ${absent.join(', ')}`;
  }

  const rows = [...(input.deadLetters[family] ?? []), ...input.deadLetters.any];
  const dead = deadLetterFor(upload, input.uploadsBucket, rows);
  if (dead) {
    return {
      family,
      status: 'dead-lettered',
      detail: `${dead.queue} DLQ: ${dead.reason}`,
      deadLetter: { queue: dead.queue, failureClass: dead.failureClass, reason: dead.reason, messageId: dead.messageId },
    };
  }
  const modified = upload.lastModified === undefined ? undefined : new Date(upload.lastModified).getTime();
  const ageSeconds = modified === undefined ? Infinity : (input.now.getTime() - modified) / 1000;
  if (ageSeconds < input.graceSeconds) {
    return {
      family,
      status: 'pending',
      pendingBecause: 'grace',
      detail: `${incomplete}; uploaded ${Math.max(0, Math.round(ageSeconds))} s ago (grace ${input.graceSeconds} s)`,
    };
  }
  const depth = input.queueDepths[family] ?? 0;
  if (depth > 0)
    return { family, status: 'pending', pendingBecause: 'queue', detail: `${incomplete}; its queue still holds ${depth} message(s)` };
  return { family, status: 'missing', detail: incomplete };
}

/** A failure a function dead-lettered with its reason: the function recorded it in the catalogue first. */
const recordedFailure = (family: FamilyResult) =>
  family.status === 'dead-lettered' && family.deadLetter?.queue !== 'delivery' && family.deadLetter?.failureClass !== 'unknown';
/** A failure in a function's DLQ (not the delivery DLQ, which no function saw). */
const functionFailure = (family: FamilyResult) => family.status === 'dead-lettered' && family.deadLetter?.queue !== 'delivery';

/**
 * Whether the catalogue's item for an upload agrees with what the audit found. An upload still in
 * flight is not judged (the stages record after they have written, so the item may lag it); a
 * delivery failure or a message moved by the redrive policy reached no stage, so nothing was recorded.
 */
function judgeCatalogue(
  upload: UploadObject,
  families: readonly FamilyResult[],
  status: AuditStatus,
  item: CatalogueViewItem | undefined,
  outputs: OutputsOption,
): CatalogueDisagreement | undefined {
  if (status === 'pending') return undefined;
  const eTag = normalizeETag(upload.eTag);
  const base = { key: upload.key, audit: status, ...(item && { catalogue: item }) };
  const incomplete = () =>
    families
      .filter((family) => family.status !== 'complete')
      .map((family) => `${family.family}: ${family.detail}`)
      .join('; ');
  if (!item) {
    const done = families.find((family) => family.status === 'complete' || recordedFailure(family));
    if (!done) return undefined;
    const why = done.status === 'complete' ? `its ${done.family} are in S3` : `the ${done.deadLetter?.queue} DLQ holds its failure`;
    return { ...base, problem: 'missing', detail: `no catalogue item, but ${why}` };
  }
  if (item.eTag !== eTag) {
    return { ...base, problem: 'other-etag', detail: `the item is for ETag ${item.eTag}, the upload is ${eTag ?? '?'}` };
  }
  if (item.status === 'complete' && status !== 'complete') {
    return { ...base, problem: 'complete-not-in-s3', detail: `the item says complete, but ${incomplete()}` };
  }
  // The rules below need every stage's outputs and DLQ.
  if (outputs !== 'all') return undefined;
  if (item.status !== 'complete' && status === 'complete') {
    return { ...base, problem: 'behind-s3', detail: `the item says ${item.status}, but every output is in S3` };
  }
  if (item.status === 'failed' && !families.some(functionFailure)) {
    return { ...base, problem: 'failed-without-dlq', detail: `the item says failed, but no function's DLQ holds a failure for it` };
  }
  return undefined;
}

const PROBLEM_ORDER: readonly CatalogueProblem[] = [
  'complete-not-in-s3',
  'failed-without-dlq',
  'other-etag',
  'missing',
  'behind-s3',
  'no-upload',
];

export function reconcileAudit(input: AuditInput): AuditReport {
  const summary = { uploads: input.uploads.length, complete: 0, 'dead-lettered': 0, pending: 0, missing: 0 };
  const entries: AuditEntry[] = [];
  const pendingByQueue: Partial<Record<OutputFamily, number>> = {};
  const disagreements: CatalogueDisagreement[] = [];
  for (const upload of input.uploads) {
    const families = expectedOutputs(upload.key, input).map((plan) => judgeFamily(upload, plan, input));
    const status = worst(families.map((family) => family.status));
    summary[status]++;
    if (input.catalogue) {
      const disagreement = judgeCatalogue(upload, families, status, input.catalogue.get(upload.key), input.outputs);
      if (disagreement) disagreements.push(disagreement);
    }
    for (const family of families)
      if (family.pendingBecause === 'queue') pendingByQueue[family.family] = (pendingByQueue[family.family] ?? 0) + 1;
    if (status !== 'complete') {
      entries.push({ key: upload.key, eTag: normalizeETag(upload.eTag), lastModified: isoOf(upload.lastModified), status, families });
    }
  }
  entries.sort((a, b) => RANK[b.status] - RANK[a.status] || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  const warnings: string[] = [];
  for (const family of input.families) {
    const depth = input.queueDepths[family] ?? 0;
    const pending = pendingByQueue[family] ?? 0;
    if (pending > depth) {
      warnings.push(
        `${pending} upload(s) lack ${family} but the queue holds only ${depth} message(s): at least ${pending - depth} will not be processed by what is queued; run the audit again when the queue is empty`,
      );
    }
  }
  let catalogue: CatalogueAudit | undefined;
  if (input.catalogue) {
    const uploadKeys = new Set(input.uploads.map((upload) => upload.key));
    for (const [key, item] of input.catalogue) {
      if (!uploadKeys.has(key)) {
        disagreements.push({ key, problem: 'no-upload', catalogue: item, detail: `no object ${key} in s3://${input.uploadsBucket}` });
      }
    }
    disagreements.sort(
      (a, b) => PROBLEM_ORDER.indexOf(a.problem) - PROBLEM_ORDER.indexOf(b.problem) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
    catalogue = { items: input.catalogue.size, judged: input.outputs, disagreements };
  }
  return {
    ok: summary.missing === 0,
    checkedAt: input.now.toISOString(),
    uploadsBucket: input.uploadsBucket,
    outputs: input.outputs,
    graceSeconds: input.graceSeconds,
    summary,
    queueDepths: input.queueDepths,
    entries,
    warnings,
    ...(catalogue && { catalogue }),
  };
}

/** The catalogue section of the text report, or nothing when no catalogue was compared. */
function formatCatalogue(catalogue: CatalogueAudit | undefined, table: string | undefined): string[] {
  if (!catalogue) return [];
  const name = table ? `catalogue ${table}` : 'catalogue';
  const { items, disagreements } = catalogue;
  const partial = catalogue.judged === 'all' ? '' : ` (--outputs ${catalogue.judged}: failed-without-dlq and behind-s3 not checked)`;
  if (disagreements.length === 0) return ['', `The ${name} (${items} item(s)) agrees with S3 and the DLQs${partial}.`];
  return [
    '',
    `The ${name} (${items} item(s)) disagrees with S3 and the DLQs for ${disagreements.length} key(s)${partial}:`,
    formatTable(
      ['PROBLEM', 'CATALOGUE', 'AUDIT', 'KEY', 'WHY'],
      disagreements.map((d) => [d.problem, d.catalogue ? d.catalogue.status : '-', d.audit ?? '-', d.key, d.detail]),
      200,
    ),
    'hint: `npx pipeline catalogue rebuild` rebuilds those items from the buckets and the DLQs (--dry-run shows what it would change).',
  ];
}

export function formatAuditReport(
  report: AuditReport,
  where: { thumbnailsBucket: string; dlqs: string[]; families: readonly OutputFamily[]; catalogueTable?: string },
): string {
  const { summary } = report;
  const lines = [
    `Audit of s3://${report.uploadsBucket} (${summary.uploads} upload(s)) against s3://${where.thumbnailsBucket} and the ${where.dlqs.join(', ')} DLQs`,
    `  outputs checked: ${where.families.join(' and ')}; grace period ${report.graceSeconds} s`,
    `  complete ${summary.complete}, dead-lettered ${summary['dead-lettered']}, pending ${summary.pending}, missing ${summary.missing}`,
  ];
  if (report.entries.length > 0) {
    lines.push(
      '',
      formatTable(
        ['STATUS', 'UPLOADED', 'KEY', 'WHY'],
        report.entries.map((entry) => [
          entry.status.toUpperCase(),
          shortTime(entry.lastModified),
          entry.key,
          entry.families
            .filter((family) => family.status !== 'complete')
            .map((family) => `${family.family}: ${family.detail}`)
            .join('; '),
        ]),
        200,
      ),
    );
  }
  for (const warning of report.warnings) lines.push('', `warning: ${warning}`);
  lines.push(...formatCatalogue(report.catalogue, where.catalogueTable));
  lines.push(
    '',
    report.ok
      ? 'OK: every upload has its outputs or a DLQ entry.'
      : `MISSING: ${summary.missing} upload(s) have neither outputs nor a DLQ entry.`,
  );
  return lines.join('\n');
}
