import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Moderation } from '../shared/moderation/policy';
import { listAllObjects } from '../shared/operations/auditSources';
import { formatTable } from '../shared/operations/dlqRows';
import { METADATA, PREDICTIONS_PREFIX } from '../shared/outputs';
import { headObjectMetadata } from '../shared/storage';

/** `pipeline moderation list`: the flagged uploads, from the predictions' metadata and, for those, their JSON. */

export interface FlaggedUpload {
  key: string;
  eTag?: string;
  model: string;
  flaggedBy: Moderation['flaggedBy'];
  createdAt?: string;
}

const CONCURRENCY = 16;

export async function listFlagged(s3: S3Client, thumbnailsBucket: string): Promise<FlaggedUpload[]> {
  const predictions = (await listAllObjects(s3, thumbnailsBucket, PREDICTIONS_PREFIX)).filter((object) => object.key.endsWith('.json'));
  const flagged: FlaggedUpload[] = [];
  for (let i = 0; i < predictions.length; i += CONCURRENCY) {
    const batch = predictions.slice(i, i + CONCURRENCY);
    const metadata = await Promise.all(batch.map((object) => headObjectMetadata(s3, thumbnailsBucket, object.key)));
    const keys = batch.filter((_, index) => metadata[index]?.[METADATA.moderation] === 'flagged').map((object) => object.key);
    flagged.push(...(await Promise.all(keys.map((key) => readFlagged(s3, thumbnailsBucket, key)))));
  }
  return flagged.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

async function readFlagged(s3: S3Client, bucket: string, key: string): Promise<FlaggedUpload> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const prediction = JSON.parse((await response.Body?.transformToString('utf8')) ?? '{}');
  return {
    key: prediction.source?.key ?? key.slice(PREDICTIONS_PREFIX.length, -'.json'.length),
    eTag: prediction.source?.eTag,
    model: `${prediction.model?.name}/${prediction.model?.version}`,
    flaggedBy: prediction.moderation?.flaggedBy ?? [],
    createdAt: prediction.createdAt,
  };
}

export function formatFlagged(rows: readonly FlaggedUpload[]): string {
  if (rows.length === 0) return 'No flagged uploads.';
  return [
    formatTable(
      ['KEY', 'FLAGGED BY', 'MODEL', 'PREDICTED'],
      rows.map((row) => [
        row.key,
        row.flaggedBy.map((flag) => `${flag.label} ${flag.score.toFixed(3)} >= ${flag.threshold}`).join(', '),
        row.model,
        row.createdAt ?? '',
      ]),
    ),
    `${rows.length} flagged upload(s); their thumbnails are obscured.`,
  ].join('\n');
}
