import type { CatalogueItem } from '../catalogue/item';
import type { Presigner } from './presign';

/**
 * What `GET /images/{key}` and the listing return for one image: the catalogue record with a
 * presigned GET per thumbnail. A flagged image's thumbnails are handed out only once the record
 * says they were written obscured, so no client is ever given a clear thumbnail of it.
 */
export async function imageView(item: CatalogueItem, presigner: Pick<Presigner, 'download'>) {
  const flagged = item.prediction?.verdict === 'flagged';
  const servable = item.thumbnails.filter((thumbnail) => !flagged || thumbnail.obscured || item.prediction?.thumbnailsObscured);
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
