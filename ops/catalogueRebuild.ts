import { isDeepStrictEqual } from 'node:util';
import type { StagePart } from '../shared/catalogue/fromOutputs';
import {
  type CatalogueItem,
  type CatalogueSource,
  type ItemStatus,
  LISTING_ALL,
  mergeStage,
  type StageSource,
  type StageState,
  type StageUpdate,
  withDerived,
} from '../shared/catalogue/item';
import { normalizeETag } from '../shared/events';
import { deadLetterFor, type UploadObject } from '../shared/operations/audit';
import { type DlqRow, formatTable } from '../shared/operations/dlqRows';

/**
 * The decisions behind `pipeline catalogue rebuild`: what the catalogue item of an upload should be,
 * given what its stages' outputs and DLQs show, and whether the stored item already is that. Pure
 * functions, so the rules are tested without servers; the I/O is in catalogueRebuildSources.ts.
 *
 * A stage of an upload is complete when its outputs are there for the upload's ETag, else failed
 * when its function's DLQ holds a message naming the upload, else pending. The item is what the live
 * pipeline would have built from those results (mergeStage, folded from no item), so a rebuild and
 * the functions agree on every attribute they can both know.
 */

/** What S3 and a function's DLQ say about one stage of one upload. */
export type StageFinding =
  | { status: 'complete'; part: StagePart }
  | { status: 'failed'; reason: string; message: string }
  | { status: 'pending' };

const PENDING: StageFinding = { status: 'pending' };

const failedAt = (row: DlqRow) => row.lastFailedAt ?? row.sentAt ?? '';

/** The stage's failure from its DLQ: the newest message naming this upload (and, when it says, its ETag). */
export function failureFinding(upload: UploadObject, uploadsBucket: string, rows: readonly DlqRow[]): StageFinding {
  const newestFirst = [...rows].sort((a, b) => (failedAt(a) < failedAt(b) ? 1 : failedAt(a) > failedAt(b) ? -1 : 0));
  const row = deadLetterFor(upload, uploadsBucket, newestFirst);
  return row ? { status: 'failed', reason: row.reason, message: row.errorMessage } : PENDING;
}

/** A stage's finding: complete from its outputs, else failed from its DLQ, else pending. */
export function stageFinding(part: StagePart | undefined, failure: StageFinding): StageFinding {
  return part ? { status: 'complete', part } : failure;
}

export type ItemPlan =
  /** The stored item already says what S3 and the DLQs say. */
  | { key: string; action: 'unchanged' }
  /** No stage has a result and there is no item: left to the pipeline, which creates it on the first result. */
  | { key: string; action: 'skip-pending' }
  | {
      key: string;
      action: 'create' | 'update';
      /** The item to put (its derived attributes computed). */
      item: CatalogueItem;
      /** The stored item's status, for an update. */
      was?: ItemStatus;
      /** What changes, for people. */
      detail: string;
    };

const isoOf = (value: Date | string | undefined) => (value === undefined ? undefined : new Date(value).toISOString());

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * The source every stage update carries. A listing knows the ETag, the size and LastModified; what
 * the events told the stored item about the same bytes (the sequencer, the event time, the format
 * and dimensions) is kept, as a listing cannot know it better.
 */
function sourceFor(upload: UploadObject, eTag: string, stored: CatalogueItem | undefined, now: Date): StageSource {
  const same = stored?.source.eTag === eTag ? stored.source : undefined;
  return dropUndefined({
    eTag,
    sequencer: same?.sequencer,
    size: upload.size ?? same?.size,
    uploadedAt: same?.uploadedAt ?? isoOf(upload.lastModified) ?? now.toISOString(),
    format: same?.format,
    width: same?.width,
    height: same?.height,
  });
}

/** An item whose every stage is pending for the source: what a stored item that claims too much is reset to. */
function pendingItem(key: string, source: StageSource, stages: readonly string[], now: Date): CatalogueItem {
  const at = now.toISOString();
  const stored: CatalogueSource = dropUndefined({ ...source, uploadedAt: new Date(source.uploadedAt).toISOString() });
  return withDerived(
    {
      key,
      source: stored,
      stages: Object.fromEntries(stages.map((stage) => [stage, { status: 'pending', eTag: source.eTag, updatedAt: at } as StageState])),
      thumbnails: [],
      prediction: null,
      status: 'pending',
      listing: LISTING_ALL,
      uploadedAt: stored.uploadedAt,
      createdAt: at,
      updatedAt: at,
      revision: 0,
    },
    stages,
  );
}

/** Through JSON: an absent attribute and an undefined one are the same to DynamoDB. */
const plain = (value: unknown) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

const stateSubstance = (state: StageState | undefined) => {
  if (!state) return undefined;
  const { updatedAt: _s, ...rest } = state;
  return plain(rest);
};

/** What an item holds apart from its timestamps and revision: equal means a put would change nothing. */
function substance(item: CatalogueItem) {
  const { createdAt: _c, updatedAt: _u, revision: _r, stages, ...rest } = item;
  const states = Object.fromEntries(Object.entries(stages ?? {}).map(([name, state]) => [name, stateSubstance(state)]));
  return plain({ ...rest, stages: states });
}

/** Whether two items say the same, ignoring createdAt, updatedAt and revision (the item's and its stages'). */
export function sameItem(a: CatalogueItem, b: CatalogueItem): boolean {
  return isDeepStrictEqual(substance(a), substance(b));
}

/** A stage's state as a word or two: a state for another version counts as pending. */
function describeState(state: StageState | undefined, eTag: string): string {
  if (!state || state.eTag !== eTag || state.status === 'pending') return 'pending';
  return state.status === 'failed' ? `failed (${state.reason ?? '?'})` : 'complete';
}

/** What a put changes: the status, the source version, each stage's state, the parts. */
export function describeChange(stored: CatalogueItem | undefined, item: CatalogueItem, stages: readonly string[]): string {
  const eTag = item.source.eTag;
  if (!stored) return stages.map((stage) => `${stage} ${describeState(item.stages[stage], eTag)}`).join(', ');
  const changes: string[] = [];
  if (stored.source.eTag !== eTag) changes.push(`source ETag ${stored.source.eTag} -> ${eTag}`);
  for (const stage of stages) {
    const [was, now] = [describeState(stored.stages?.[stage], stored.source.eTag), describeState(item.stages[stage], eTag)];
    if (was !== now) changes.push(`${stage} ${was} -> ${now}`);
  }
  const storedThumbnails = stored.thumbnails ?? [];
  if (storedThumbnails.length !== item.thumbnails.length)
    changes.push(`thumbnails ${storedThumbnails.length} -> ${item.thumbnails.length}`);
  else if (!isDeepStrictEqual(plain(storedThumbnails), plain(item.thumbnails))) changes.push('thumbnails');
  if (!isDeepStrictEqual(plain(stored.prediction ?? null), plain(item.prediction))) changes.push('prediction');
  if (changes.length === 0 && stored.status !== item.status) changes.push(`status derived again from the stages`);
  if (changes.length === 0) changes.push('attributes');
  return changes.join('; ');
}

/**
 * The item an upload should have, and whether the stored one already is it:
 * - each stage's result (complete, failed) is folded with mergeStage from no item, in stage order;
 * - no stage result: left out when there is no item (the pipeline creates it on the first result);
 *   a stored item that claims a result S3 and the DLQs do not show is reset to pending;
 * - compared with the stored item ignoring createdAt, updatedAt and revision: unchanged, or a put
 *   that keeps the stored createdAt, the updatedAt of every stage state it does not change, and
 *   moves the revision on (so a live writer holding the old revision re-reads and merges onto it).
 */
export function planItem(input: {
  upload: UploadObject;
  /** By stage name; a stage with no finding is pending. */
  findings: Readonly<Record<string, StageFinding>>;
  stages: readonly string[];
  stored: CatalogueItem | undefined;
  now: Date;
}): ItemPlan {
  const { upload, findings, stages, stored, now } = input;
  const { key } = upload;
  const eTag = normalizeETag(upload.eTag);
  if (!eTag) throw new Error(`s3 listed ${JSON.stringify(key)} without an ETag`);
  const source = sourceFor(upload, eTag, stored, now);

  let built: CatalogueItem | undefined;
  for (const stage of stages) {
    const finding = findings[stage] ?? PENDING;
    if (finding.status === 'pending') continue;
    const update: StageUpdate =
      finding.status === 'complete'
        ? {
            key,
            stage,
            source: { ...source, ...finding.part.source },
            result: { status: 'complete', thumbnails: finding.part.thumbnails, prediction: finding.part.prediction },
          }
        : { key, stage, source, result: { status: 'failed', reason: finding.reason, message: finding.message } };
    const merged = mergeStage(built, update, stages, now);
    if (typeof merged !== 'string') built = merged;
  }
  if (!built) {
    if (!stored) return { key, action: 'skip-pending' };
    built = pendingItem(key, source, stages, now);
  }

  const at = now.toISOString();
  // A stage state the rebuild does not change keeps the time it was recorded.
  const states = Object.fromEntries(
    Object.entries(built.stages).map(([stage, state]) => {
      const previous = stored?.stages?.[stage];
      const kept = previous && isDeepStrictEqual(stateSubstance(previous), stateSubstance(state));
      return [stage, kept ? { ...state, updatedAt: previous.updatedAt } : state];
    }),
  );
  const item = withDerived(
    { ...built, stages: states, createdAt: stored?.createdAt ?? at, updatedAt: at, revision: (stored?.revision ?? 0) + 1 },
    stages,
  );
  if (stored && sameItem(stored, item)) return { key, action: 'unchanged' };
  return stored
    ? { key, action: 'update', item, was: stored.status, detail: describeChange(stored, item, stages) }
    : { key, action: 'create', item, detail: describeChange(undefined, item, stages) };
}

/** Catalogue keys with no object in the uploads bucket: their items are removed. */
export function keysWithoutUpload(itemKeys: Iterable<string>, uploadKeys: ReadonlySet<string>): string[] {
  return [...new Set(itemKeys)].filter((key) => !uploadKeys.has(key)).sort();
}

/** What was done (or, in a dry run, would be) to one item. */
export interface RebuildChange {
  key: string;
  action: 'create' | 'update' | 'remove';
  /** The item's status after the change (absent for a removal). */
  status?: ItemStatus;
  /** The stored item's status before it. */
  was?: ItemStatus;
  detail: string;
  /**
   * done; dry-run (nothing written); skipped: the item (or, for a removal, the object) changed
   * while the rebuild ran, so the live pipeline's write is kept.
   */
  outcome: 'done' | 'dry-run' | 'skipped';
}

export interface RebuildReport {
  /** False when some upload could not be rebuilt (see errors). */
  ok: boolean;
  dryRun: boolean;
  table: string;
  uploadsBucket: string;
  /** The stages whose DLQs were read. */
  stages: string[];
  summary: {
    uploads: number;
    /** Items put (dry run: that would be). */
    written: number;
    unchanged: number;
    /** Items deleted for keys not in the uploads bucket (dry run: that would be). */
    removed: number;
    /** Uploads with no stage result and no item: left out. */
    skippedPending: number;
    /** Changes not made because the item or the object changed meanwhile. */
    skippedChanged: number;
    errors: number;
  };
  changes: RebuildChange[];
  errors: { key: string; message: string }[];
  warnings: string[];
}

/** The report of a rebuild from its plans and what came of each change. */
export function rebuildReport(input: {
  dryRun: boolean;
  table: string;
  uploadsBucket: string;
  stages: readonly string[];
  uploads: number;
  plans: readonly ItemPlan[];
  changes: readonly RebuildChange[];
  errors: readonly { key: string; message: string }[];
  warnings: readonly string[];
}): RebuildReport {
  const { changes, plans } = input;
  const count = (predicate: (change: RebuildChange) => boolean) => changes.filter(predicate).length;
  const made = (change: RebuildChange) => change.outcome !== 'skipped';
  const byKey = (a: RebuildChange, b: RebuildChange) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  return {
    ok: input.errors.length === 0,
    dryRun: input.dryRun,
    table: input.table,
    uploadsBucket: input.uploadsBucket,
    stages: [...input.stages],
    summary: {
      uploads: input.uploads,
      written: count((change) => change.action !== 'remove' && made(change)),
      unchanged: plans.filter((plan) => plan.action === 'unchanged').length,
      removed: count((change) => change.action === 'remove' && made(change)),
      skippedPending: plans.filter((plan) => plan.action === 'skip-pending').length,
      skippedChanged: count((change) => !made(change)),
      errors: input.errors.length,
    },
    changes: [...changes].sort(byKey),
    errors: [...input.errors],
    warnings: [...input.warnings],
  };
}

/** A change as a report line's first column: what was (or would be) done. */
const actionWord = (change: RebuildChange) =>
  change.outcome === 'skipped' ? `skipped ${change.action}` : change.outcome === 'dry-run' ? `would ${change.action}` : change.action;

export function formatRebuildReport(report: RebuildReport): string {
  const { summary } = report;
  const lines = [
    `Catalogue ${report.table} rebuilt from s3://${report.uploadsBucket}, its outputs and the ${report.stages.join(', ')} DLQs${report.dryRun ? ' (dry run: nothing written)' : ''}`,
    `  uploads ${summary.uploads}, written ${summary.written}, unchanged ${summary.unchanged}, removed ${summary.removed}, skipped pending ${summary.skippedPending}` +
      (summary.skippedChanged > 0 ? `, skipped changed ${summary.skippedChanged}` : '') +
      (summary.errors > 0 ? `, errors ${summary.errors}` : ''),
  ];
  if (summary.skippedPending > 0) {
    lines.push(
      `  ${summary.skippedPending} upload(s) have no stage result yet and no item: left out; the pipeline creates the item when a stage finishes`,
    );
  }
  if (report.changes.length > 0) {
    lines.push(
      '',
      formatTable(
        ['CHANGE', 'STATUS', 'KEY', 'WHAT'],
        report.changes.map((change) => [
          actionWord(change),
          change.was || change.status ? `${change.was ? `${change.was} -> ` : ''}${change.status ?? '-'}` : '-',
          change.key,
          change.detail,
        ]),
        200,
      ),
    );
  }
  if (summary.skippedChanged > 0) {
    lines.push('', `${summary.skippedChanged} change(s) skipped: the item or its object changed while the rebuild ran; run it again`);
  }
  for (const error of report.errors) lines.push('', `error: ${error.key}: ${error.message}`);
  for (const warning of report.warnings) lines.push('', `warning: ${warning}`);
  return lines.join('\n');
}
