import type { Logger } from '@aws-lambda-powertools/logger';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { S3Client } from '@aws-sdk/client-s3';
import { createDynamoDbClient } from '../clients';
import type { PipelineConfig } from '../config';
import type { PipelineError } from '../errors';
import { normalizeETag, type S3ObjectEvent } from '../events';
import type { OutputFamilyName } from '../outputs';
import { type StagePart, stagePart } from './fromOutputs';
import type { StageSource } from './item';
import { type Catalogue, createCatalogue } from './store';

/**
 * How a queue-fed function keeps its part of an upload's catalogue item: after each event it
 * records what its outputs now show (or removes the item for a deletion), and a failure on its way
 * to the DLQ is recorded with its reason. Writes are conditional (see store.ts), so a late event
 * for an old version or a duplicate delivery changes nothing.
 */

/** The outcome of a stage's work on one event: the source version it worked on, when it did. */
export type StageOutcome =
  | { status: 'written'; eTag: string }
  | { status: 'duplicate-skipped'; eTag: string }
  | { status: 'source-missing' }
  | { status: 'deleted' };

export interface StageRecorder {
  recorded(event: S3ObjectEvent, outcome: StageOutcome): Promise<void>;
  failed(event: S3ObjectEvent, error: PipelineError): Promise<void>;
}

export function createStageRecorder(options: {
  stage: string;
  /** Only uploads are catalogued: an event from anywhere else is refused by the stage (recursion guard). */
  uploadsBucket: string;
  catalogue: Pick<Catalogue, 'get' | 'record' | 'remove'>;
  /** The stage's part for this version, read from its outputs; undefined when they are not (all) there. */
  part: (sourceKey: string, eTag: string) => Promise<StagePart | undefined>;
  logger: Logger;
}): StageRecorder {
  const { stage, catalogue, part, logger, uploadsBucket } = options;
  const sourceOf = (event: S3ObjectEvent, eTag: string): StageSource => ({
    eTag,
    sequencer: event.sequencer,
    size: event.size,
    uploadedAt: event.eventTime || new Date().toISOString(),
  });
  return {
    async recorded(event, outcome) {
      if (event.bucket !== uploadsBucket) return;
      if (outcome.status === 'deleted') {
        await catalogue.remove(event.key, { sequencer: event.sequencer, eventTime: event.eventTime || new Date().toISOString() });
        return;
      }
      // The object is gone: its ObjectRemoved event removes the item.
      if (outcome.status === 'source-missing') return;
      // A duplicate delivery costs one read when the item already has this result.
      if (outcome.status === 'duplicate-skipped') {
        const state = (await catalogue.get(event.key))?.stages[stage];
        if (state?.status === 'complete' && state.eTag === outcome.eTag) return;
      }
      const found = await part(event.key, outcome.eTag);
      if (!found) {
        logger.warn('outputs not found for the catalogue; left for the next delivery or a rebuild', { eTag: outcome.eTag });
        return;
      }
      const written = await catalogue.record({
        key: event.key,
        stage,
        source: { ...sourceOf(event, outcome.eTag), ...found.source },
        result: { status: 'complete', thumbnails: found.thumbnails, prediction: found.prediction },
      });
      if (written === 'stale') logger.info('catalogue holds a newer version; not recorded', { eTag: outcome.eTag });
    },
    async failed(event, error) {
      const eTag = normalizeETag(event.eTag);
      if (event.bucket !== uploadsBucket || event.kind !== 'created' || !eTag) return;
      await catalogue.record({
        key: event.key,
        stage,
        source: sourceOf(event, eTag),
        result: { status: 'failed', reason: error.reason, message: error.message },
      });
    },
  };
}

/**
 * The recorder a queue-fed function runs with: its part is read from the output families it
 * writes, and the table is the configured catalogue. `stages` are every queue-fed function's names
 * (an item is complete when all of them are).
 */
export function stageRecorderFor(
  stage: { name: string; outputs: readonly OutputFamilyName[] },
  stages: readonly string[],
  deps: { config: PipelineConfig; s3: S3Client; tracer: Tracer; logger: Logger },
): StageRecorder {
  const { config, s3, tracer, logger } = deps;
  const catalogue = createCatalogue({
    client: tracer.captureAWSv3Client(createDynamoDbClient()),
    tableName: config.catalogue.table,
    stages,
  });
  return createStageRecorder({
    stage: stage.name,
    uploadsBucket: config.buckets.uploads,
    catalogue,
    part: (sourceKey, eTag) => stagePart(stage.outputs, sourceKey, eTag, { config, s3 }),
    logger,
  });
}
