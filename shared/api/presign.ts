import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { UploadRequest } from './uploads';

/** A browser-form upload S3 accepts only for this key, this content type and at most the declared size. */
export interface PresignedUpload {
  method: 'POST';
  url: string;
  fields: Record<string, string>;
  expiresAt: string;
}

export interface Presigner {
  upload(key: string, request: UploadRequest, now: Date): Promise<PresignedUpload>;
  /** A GET of a thumbnail that expires. */
  download(key: string): Promise<string>;
}

export function createPresigner(
  s3: S3Client,
  buckets: { uploads: string; thumbnails: string },
  expiry: { uploadSeconds: number; downloadSeconds: number },
): Presigner {
  return {
    async upload(key, request, now) {
      const { url, fields } = await createPresignedPost(s3, {
        Bucket: buckets.uploads,
        Key: key,
        Conditions: [
          ['content-length-range', 1, request.size],
          ['eq', '$Content-Type', request.contentType],
        ],
        Fields: { 'Content-Type': request.contentType },
        Expires: expiry.uploadSeconds,
      });
      return { method: 'POST', url, fields, expiresAt: new Date(now.getTime() + expiry.uploadSeconds * 1000).toISOString() };
    },
    download: (key) =>
      getSignedUrl(s3, new GetObjectCommand({ Bucket: buckets.thumbnails, Key: key }), { expiresIn: expiry.downloadSeconds }),
  };
}
