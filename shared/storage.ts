import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { classifyError, isMissingObject } from './classifyError';
import { PermanentError } from './errors';
import { normalizeETag } from './events';

export interface DownloadedObject {
  data: Buffer;
  eTag?: string;
}

async function readLimited(body: Readable, maxBytes: number, bucket: string, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) {
      body.destroy();
      throw new PermanentError('too-large', `s3://${bucket}/${key} is larger than the limit of ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}

/**
 * Reads an object, refusing it before transfer when S3 reports it too large (and while streaming,
 * should the declared length be absent). Returns undefined when the object no longer exists.
 */
export async function downloadObject(s3: S3Client, bucket: string, key: string, maxBytes: number): Promise<DownloadedObject | undefined> {
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = response.Body as Readable;
    if (response.ContentLength !== undefined && response.ContentLength > maxBytes) {
      body.destroy();
      throw new PermanentError('too-large', `s3://${bucket}/${key} is ${response.ContentLength} bytes, over the limit of ${maxBytes}`);
    }
    return { data: await readLimited(body, maxBytes, bucket, key), eTag: normalizeETag(response.ETag) };
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw classifyError(error);
  }
}

/** ETag, user metadata, size and time of an object, or undefined when it does not exist. */
export async function headObject(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ eTag?: string; metadata: Record<string, string>; size?: number; lastModified?: Date } | undefined> {
  try {
    const response = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return {
      eTag: normalizeETag(response.ETag),
      metadata: response.Metadata ?? {},
      size: response.ContentLength,
      lastModified: response.LastModified,
    };
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw classifyError(error);
  }
}

/** User metadata of an object, or undefined when it does not exist. */
export const headObjectMetadata = async (s3: S3Client, bucket: string, key: string) => (await headObject(s3, bucket, key))?.metadata;

export async function putObject(
  s3: S3Client,
  object: { bucket: string; key: string; body: Buffer; contentType: string; metadata: Record<string, string> },
): Promise<void> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: object.bucket,
        Key: object.key,
        Body: object.body,
        ContentType: object.contentType,
        Metadata: object.metadata,
      }),
    );
  } catch (error) {
    throw classifyError(error);
  }
}

/** Deletes objects one by one: DeleteObjects needs a Content-MD5 that some S3-compatible servers mishandle. */
export async function deleteObjects(s3: S3Client, bucket: string, keys: string[]): Promise<void> {
  try {
    await Promise.all(keys.map((key) => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))));
  } catch (error) {
    throw classifyError(error);
  }
}
