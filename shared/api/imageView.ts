import type { CatalogueItem } from '../catalogue/item';
import type { Presigner } from './presign';

/**
 * Whether a thumbnail may be handed out: only once moderation has judged the image (until then it
 * may be about to be flagged), and for a flagged image only once the record says its thumbnails
 * were written obscured. So no client is ever given a clear thumbnail of a flagged image.
 */
function servableThumbnail(item: CatalogueItem, thumbnail: CatalogueItem['thumbnails'][number]): boolean {
  const { prediction } = item;
  if (!prediction) return false;
  return prediction.verdict === 'clean' || thumbnail.obscured === true || prediction.thumbnailsObscured === true;
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
