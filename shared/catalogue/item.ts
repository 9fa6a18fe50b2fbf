import { isDeepStrictEqual } from 'node:util';
import { PermanentError } from '../errors';
import { normalizeETag } from '../events';
import type { Verdict } from '../moderation/policy';
import type { LabelScore } from '../predict/scores';

/**
 * One catalogue item per upload key: what apps and the HTTP API read to know whether an image is
 * ready, why it failed and what the model said. The S3 objects stay the source of truth; each
 * stage (a queue-fed function) records its own part after it has done its work, and this module
 * decides, without I/O, what an item becomes when a stage's result arrives in any order, late or
 * twice.
 */

export type StageStatus = 'pending' | 'complete' | 'failed';
export type ItemStatus = StageStatus;

/** The parts of an item a stage can provide; a stage owns the parts its last complete result set. */
export type CataloguePart = 'thumbnails' | 'prediction';

/** The partition key of the newest-first index of every item (`byUpload`). */
export const LISTING_ALL = 'all';

/**
 * S3 sequencers are hexadecimal strings of varying length; AWS documents comparing them by
 * left-padding the shorter with zeros. Stored padded to this width, they compare as strings
 * (in a condition or by eye) exactly as the numbers do.
 */
export const SEQUENCER_WIDTH = 32;

export interface CatalogueSource {
  /** The upload's ETag, without quotes: the version every stage result is tied to. */
  eTag: string;
  /** The S3 event sequencer, upper case, left-padded with zeros to SEQUENCER_WIDTH. */
  sequencer?: string;
  size?: number;
  format?: string;
  width?: number;
  height?: number;
  /** ISO 8601 (toISOString), so the index sort key orders by time. */
  uploadedAt: string;
}

export interface StageState {
  status: StageStatus;
  /** The source version this state is for; a state for another ETag counts as pending. */
  eTag: string;
  /** A failure's machine-readable reason (the pipeline's PermanentReason or TransientReason). */
  reason?: string;
  message?: string;
  /** The parts this stage's complete result set: what a later failure of the stage clears. */
  parts?: CataloguePart[];
  updatedAt: string;
}

export interface CatalogueThumbnail {
  size: number;
  format: string;
  width: number;
  height: number;
  bytes: number;
  /** The thumbnail's key in the thumbnails bucket. */
  key: string;
  /** Written obscured (its upload was flagged): the only kind of thumbnail of a flagged upload the API hands out. */
  obscured?: boolean;
}

export interface CataloguePrediction {
  /** `name/version` of the model that produced the labels. */
  model: string;
  labels: LabelScore[];
  verdict: Verdict;
  /** The labels whose scores reached their thresholds. */
  flaggedBy: string[];
  /** For a flagged upload: its thumbnails of this version are written obscured (by predict, or by resize itself). */
  thumbnailsObscured?: boolean;
}

export interface CatalogueItem {
  key: string;
  source: CatalogueSource;
  stages: Record<string, StageState>;
  thumbnails: CatalogueThumbnail[];
  prediction: CataloguePrediction | null;
  /** Derived from `stages` for the current source (see deriveStatus): the `byStatus` index's partition key. */
  status: ItemStatus;
  /** prediction.verdict, absent without a prediction, so the `byVerdict` index holds only judged items. */
  verdict?: Verdict;
  /** Always LISTING_ALL: the `byUpload` index's partition key. */
  listing: typeof LISTING_ALL;
  /** source.uploadedAt: every index's sort key. */
  uploadedAt: string;
  createdAt: string;
  updatedAt: string;
  /** Incremented by every write; a write is conditioned on the revision it read. */
  revision: number;
}

/** The source version a stage worked on, and what it learned about it. */
export interface StageSource {
  eTag: string;
  /** As the S3 event carries it; padded when stored. */
  sequencer?: string;
  size?: number;
  /** When the version was uploaded: the event time or the object's LastModified. */
  uploadedAt: string;
  format?: string;
  width?: number;
  height?: number;
}

export type StageResult =
  | { status: 'complete'; thumbnails?: CatalogueThumbnail[]; prediction?: CataloguePrediction }
  | { status: 'failed'; reason: string; message: string };

export interface StageUpdate {
  /** The upload key. */
  key: string;
  stage: string;
  source: StageSource;
  result: StageResult;
}

/** An ObjectRemoved event, as far as the catalogue needs it. */
export interface Removal {
  sequencer?: string;
  eventTime: string;
}

export type MergeOutcome = CatalogueItem | 'stale' | 'unchanged';

function invalid(message: string): never {
  throw new PermanentError('invalid-event', message);
}

/** Upper case and zero-padded to SEQUENCER_WIDTH; anything but hexadecimal digits is not a sequencer. */
export function padSequencer(sequencer: string): string {
  const hex = sequencer.trim().toUpperCase();
  if (!/^[0-9A-F]+$/.test(hex)) invalid(`sequencer ${JSON.stringify(sequencer)} is not hexadecimal`);
  return hex.padStart(SEQUENCER_WIDTH, '0');
}

/** Negative, zero or positive as a is older than, the same as or newer than b; pads both, so any length compares. */
export function compareSequencers(a: string, b: string): number {
  const [x, y] = [padSequencer(a), padSequencer(b)];
  const width = Math.max(x.length, y.length);
  const [px, py] = [x.padStart(width, '0'), y.padStart(width, '0')];
  return px < py ? -1 : px > py ? 1 : 0;
}

function isoTime(value: string, what: string): string {
  const time = Date.parse(value);
  if (!Number.isFinite(time)) invalid(`${what} ${JSON.stringify(value)} is not a date`);
  return new Date(time).toISOString();
}

/**
 * Whether a version (an update's or a removal's) is at least as new as the recorded one. Sequencers
 * order the events of one key exactly; without both, the upload times decide, and a tie goes to the
 * caller, who has just checked that the object is current.
 */
function notOlder(candidate: { sequencer?: string; time: string }, recorded: CatalogueSource): boolean {
  if (candidate.sequencer && recorded.sequencer) return compareSequencers(candidate.sequencer, recorded.sequencer) >= 0;
  return Date.parse(candidate.time) >= Date.parse(recorded.uploadedAt);
}

/**
 * Failed if any expected stage failed for the current source, complete if every expected stage is
 * complete for it, pending otherwise. A stage with no state, or a state for another ETag, is pending.
 */
export function deriveStatus(item: Pick<CatalogueItem, 'source' | 'stages'>, stages: readonly string[]): ItemStatus {
  const current = stages
    .map((stage) => (Object.hasOwn(item.stages, stage) ? item.stages[stage] : undefined))
    .map((state) => (state?.eTag === item.source.eTag ? state.status : 'pending'));
  if (current.includes('failed')) return 'failed';
  return current.every((status) => status === 'complete') ? 'complete' : 'pending';
}

/** The item with its derived attributes (status, verdict, listing, uploadedAt) recomputed from its own data. */
export function withDerived(item: CatalogueItem, stages: readonly string[]): CatalogueItem {
  const { verdict: _verdict, ...rest } = item;
  return {
    ...rest,
    status: deriveStatus(item, stages),
    ...(item.prediction ? { verdict: item.prediction.verdict } : {}),
    listing: LISTING_ALL,
    uploadedAt: item.source.uploadedAt,
  };
}

/** The update's source in stored form: ETag without quotes, padded sequencer, ISO upload time. */
function storedSource(source: StageSource): CatalogueSource {
  const eTag = normalizeETag(source.eTag);
  if (!eTag) invalid('the source has no ETag');
  return dropUndefined({
    eTag,
    sequencer: source.sequencer ? padSequencer(source.sequencer) : undefined,
    size: source.size,
    format: source.format,
    width: source.width,
    height: source.height,
    uploadedAt: isoTime(source.uploadedAt, 'uploadedAt'),
  });
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** A failure message is for people; a stack-sized one would only bring the item nearer DynamoDB's 400 KB limit. */
const MAX_MESSAGE_LENGTH = 1000;

const pending = (eTag: string, now: string): StageState => ({ status: 'pending', eTag, updatedAt: now });

/** What an item holds apart from timestamps and revision: equal means a write would change nothing. */
function substance(item: CatalogueItem) {
  const { createdAt: _c, updatedAt: _u, revision: _r, stages, ...rest } = item;
  const states = Object.fromEntries(Object.entries(stages).map(([name, { updatedAt: _s, ...state }]) => [name, state]));
  // Through JSON: an absent attribute and an undefined one are the same to DynamoDB.
  return JSON.parse(JSON.stringify({ ...rest, stages: states }));
}

/**
 * What the item becomes when a stage's result arrives:
 * - no item: a new one, the other stages pending;
 * - the same source ETag: this stage's state and part are set (a failure clears the parts the
 *   stage had provided), and what it learned about the source is added to what is known;
 * - another ETag: the update wins only if its version is not older (see notOlder); then the
 *   source is replaced, every other stage is pending for it and their parts are dropped. An older
 *   version is 'stale': a late event never overwrites a newer record;
 * - nothing but timestamps would change: 'unchanged', so a duplicate delivery writes nothing.
 * Throws a RangeError for a stage not in `stages` (a deployment that forgot to declare it).
 */
export function mergeStage(existing: CatalogueItem | undefined, update: StageUpdate, stages: readonly string[], now: Date): MergeOutcome {
  if (!stages.includes(update.stage)) {
    throw new RangeError(`stage ${JSON.stringify(update.stage)} is not one of the catalogue's stages (${stages.join(', ')})`);
  }
  const at = now.toISOString();
  const incoming = storedSource(update.source);
  const version = { sequencer: incoming.sequencer, time: incoming.uploadedAt };
  let base: CatalogueItem;
  if (existing && existing.source.eTag === incoming.eTag) {
    // The same bytes: keep the newest event's sequencer and time, and everything learned so far.
    const newer = notOlder(version, existing.source);
    const source = dropUndefined({
      ...existing.source,
      ...incoming,
      sequencer: newer ? (incoming.sequencer ?? existing.source.sequencer) : (existing.source.sequencer ?? incoming.sequencer),
      uploadedAt: newer ? incoming.uploadedAt : existing.source.uploadedAt,
    });
    base = { ...existing, source };
  } else if (existing && !notOlder(version, existing.source)) {
    return 'stale';
  } else {
    const stageStates = Object.fromEntries(stages.map((stage) => [stage, pending(incoming.eTag, at)]));
    base = {
      key: update.key,
      source: incoming,
      stages: stageStates,
      thumbnails: [],
      prediction: null,
      status: 'pending',
      listing: LISTING_ALL,
      uploadedAt: incoming.uploadedAt,
      createdAt: existing?.createdAt ?? at,
      updatedAt: at,
      revision: existing?.revision ?? 0,
    };
  }

  // A stage declared since the item was written has no state yet: it is pending for this source.
  const missing = stages.filter((stage) => !Object.hasOwn(base.stages, stage)).map((stage) => [stage, pending(base.source.eTag, at)]);
  base = { ...base, stages: { ...base.stages, ...Object.fromEntries(missing) } };
  const merged = withDerived(
    { ...applyResult(base, update, base.source.eTag, at), updatedAt: at, revision: (existing?.revision ?? 0) + 1 },
    stages,
  );
  if (existing && isDeepStrictEqual(substance(merged), substance(existing))) return 'unchanged';
  return merged;
}

/** Sets the stage's state and the parts its result carries; the parts it provided before and no longer does are cleared. */
function applyResult(item: CatalogueItem, update: StageUpdate, eTag: string, at: string): CatalogueItem {
  const { result } = update;
  const previous = item.stages[update.stage];
  const owned = previous?.eTag === eTag ? (previous.parts ?? []) : [];
  const next: CatalogueItem = { ...item, stages: { ...item.stages } };
  for (const part of owned) {
    if (part === 'thumbnails') next.thumbnails = [];
    if (part === 'prediction') next.prediction = null;
  }
  if (result.status === 'failed') {
    const message = result.message.slice(0, MAX_MESSAGE_LENGTH);
    next.stages[update.stage] = { status: 'failed', eTag, reason: result.reason, message, updatedAt: at };
    return next;
  }
  const parts: CataloguePart[] = [];
  if (result.thumbnails) {
    next.thumbnails = result.thumbnails.map((thumbnail) => ({ ...thumbnail }));
    parts.push('thumbnails');
  }
  if (result.prediction) {
    next.prediction = { ...result.prediction, labels: result.prediction.labels.map((label) => ({ ...label })) };
    parts.push('prediction');
  }
  next.stages[update.stage] = { status: 'complete', eTag, parts, updatedAt: at };
  return next;
}

/**
 * Whether an ObjectRemoved event may delete the item: not when the item records a newer version
 * (a re-upload whose event was handled first), judged by sequencers when both have one, else by
 * time (an upload at the same instant as the removal does not survive it).
 */
export function removalAllowed(existing: CatalogueItem | undefined, removal: Removal): boolean {
  if (!existing) return true;
  const recorded = existing.source;
  if (removal.sequencer && recorded.sequencer) return compareSequencers(recorded.sequencer, removal.sequencer) <= 0;
  return Date.parse(recorded.uploadedAt) <= Date.parse(isoTime(removal.eventTime, 'eventTime'));
}
