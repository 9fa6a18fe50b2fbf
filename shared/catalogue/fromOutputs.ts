import type { S3Client } from '@aws-sdk/client-s3';
import type { PipelineConfig } from '../config';
import { isFlaggedOutput } from '../moderation/enforce';
import type { Moderation } from '../moderation/policy';
import { isOutputOf, METADATA, type OutputFamilyName, predictionKey, thumbnailKeys } from '../outputs';
import type { LabelScore } from '../predict/scores';
import { downloadObject, headObject } from '../storage';
import type { CataloguePrediction, CatalogueThumbnail, StageSource } from './item';

/**
 * A stage's part of the catalogue as the S3 outputs show it: the functions record what they wrote
 * (or found already written), and `catalogue rebuild` records what is there. The outputs, not a
 * function's memory, are the source of truth, so both paths agree.
 */

/** What a stage's outputs say for a source version: its part of the item and what it learned about the source. */
export interface StagePart {
  thumbnails?: CatalogueThumbnail[];
  prediction?: CataloguePrediction;
  source?: Pick<StageSource, 'format' | 'width' | 'height'>;
}

type Deps = { config: Pick<PipelineConfig, 'buckets' | 'thumbnails'>; s3: S3Client };

/** Every thumbnail of this source version, largest first, or undefined while any is missing or of another version. */
export async function thumbnailsOf(sourceKey: string, eTag: string, deps: Deps): Promise<CatalogueThumbnail[] | undefined> {
  const { sizes, format } = deps.config.thumbnails;
  const keys = thumbnailKeys(sourceKey, sizes, format);
  const heads = await Promise.all(keys.map((key) => headObject(deps.s3, deps.config.buckets.thumbnails, key)));
  if (heads.some((head) => !isOutputOf(head?.metadata, eTag))) return undefined;
  const bySize = [...sizes].sort((a, b) => b - a);
  return heads.map((head, i) => {
    const metadata = head?.metadata ?? {};
    return {
      size: bySize[i],
      format,
      width: Number(metadata[METADATA.width]) || 0,
      height: Number(metadata[METADATA.height]) || 0,
      bytes: head?.size ?? 0,
      key: keys[i],
      obscured: metadata[METADATA.moderation] === 'flagged',
    };
  });
}

/** What `predictions/<key>.json` holds that the catalogue keeps. */
interface StoredPrediction {
  source: { eTag?: string; format: string; width: number; height: number };
  model: { name: string; version: string };
  labels: LabelScore[];
  moderation: Moderation;
}

const MAX_PREDICTION_BYTES = 1024 * 1024;

/** The prediction of this source version and what it says about the source, or undefined when there is none for it. */
export async function predictionOf(
  sourceKey: string,
  eTag: string,
  deps: Deps,
): Promise<{ prediction: CataloguePrediction; source: Pick<StageSource, 'format' | 'width' | 'height'> } | undefined> {
  const object = await downloadObject(deps.s3, deps.config.buckets.thumbnails, predictionKey(sourceKey), MAX_PREDICTION_BYTES);
  if (!object) return undefined;
  const stored = JSON.parse(object.data.toString('utf8')) as StoredPrediction;
  if (stored.source.eTag !== eTag) return undefined;
  const { verdict } = stored.moderation;
  const marker = thumbnailKeys(sourceKey, deps.config.thumbnails.sizes, deps.config.thumbnails.format)[0];
  const thumbnailsObscured =
    verdict === 'flagged' && isFlaggedOutput((await headObject(deps.s3, deps.config.buckets.thumbnails, marker))?.metadata, eTag);
  return {
    prediction: {
      model: `${stored.model.name}/${stored.model.version}`,
      labels: stored.labels,
      verdict,
      flaggedBy: stored.moderation.flaggedBy.map(({ label }) => label),
      ...(verdict === 'flagged' && { thumbnailsObscured }),
    },
    source: { format: stored.source.format, width: stored.source.width, height: stored.source.height },
  };
}

/** Reads an output family's part of the catalogue; undefined while the family is not (all) there for the version. */
export type PartReader = (sourceKey: string, eTag: string, deps: Deps) => Promise<StagePart | undefined>;

export const FAMILY_PARTS: Record<OutputFamilyName, PartReader> = {
  thumbnails: async (sourceKey, eTag, deps) => {
    const thumbnails = await thumbnailsOf(sourceKey, eTag, deps);
    return thumbnails && { thumbnails };
  },
  prediction: (sourceKey, eTag, deps) => predictionOf(sourceKey, eTag, deps),
};

/** A stage's part: every family it writes, or undefined while any of them is missing. */
export async function stagePart(
  families: readonly OutputFamilyName[],
  sourceKey: string,
  eTag: string,
  deps: Deps,
): Promise<StagePart | undefined> {
  const parts = await Promise.all(families.map((family) => FAMILY_PARTS[family](sourceKey, eTag, deps)));
  if (parts.some((part) => part === undefined)) return undefined;
  return Object.assign({}, ...parts);
}
