import type { CatalogueItem, CataloguePart, StageState } from '../catalogue/item';
import type { Presigner } from './presign';

/** The stage whose last complete result for the current version set this part of the item. */
function stageOwning(item: CatalogueItem, part: CataloguePart): StageState | undefined {
  return Object.values(item.stages).find(
    (stage) => stage.status === 'complete' && stage.eTag === item.source.eTag && stage.parts?.includes(part),
  );
}

/**
 * Whether a thumbnail may be handed out: only once moderation has judged the image (until then it
 * may be about to be flagged), and for a flagged image only once it is stored obscured. The
 * thumbnails' own record says so when resize wrote them obscured; predict's word that it obscured
 * them counts only if resize had finished before predict recorded it, since a resize still running
 * may write them clear again (and then obscured, and record that itself).
 */
function servableThumbnail(item: CatalogueItem, thumbnail: CatalogueItem['thumbnails'][number]): boolean {
  const { prediction } = item;
  if (!prediction) return false;
  if (prediction.verdict === 'clean' || thumbnail.obscured === true) return true;
  if (!prediction.thumbnailsObscured) return false;
  const resized = stageOwning(item, 'thumbnails');
  const predicted = stageOwning(item, 'prediction');
  return resized !== undefined && predicted !== undefined && resized.updatedAt <= predicted.updatedAt;
}

/** What `GET /images/{key}` and the listing return for one image: the catalogue record with a presigned GET per servable thumbnail. */
export async function imageView(item: CatalogueItem, presigner: Pick<Presigner, 'download'>) {
  const servable = item.thumbnails.filter((thumbnail) => servableThumbnail(item, thumbnail));
  const failedStage = Object.values(item.stages).find((stage) => stage.status === 'failed' && stage.eTag === item.source.eTag);
  return {
    key: item.key,
    status: item.status,
    source: item.source,
    thumbnails: await Promise.all(
      servable.map(async ({ size, format, width, height, bytes, key }) => ({
        size,
        format,
        width,
        height,
        bytes,
        url: await presigner.download(key),
      })),
    ),
    prediction: item.prediction && { model: item.prediction.model, labels: item.prediction.labels },
    moderation: item.prediction && { verdict: item.prediction.verdict, flaggedBy: item.prediction.flaggedBy },
    stages: item.stages,
    failure: failedStage ? { reason: failedStage.reason ?? 'unknown', message: failedStage.message ?? '' } : null,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}

/** What `GET /images/{key}` answers, and each item of `GET /images`. */
export type ImageView = Awaited<ReturnType<typeof imageView>>;
