import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import sharp from 'sharp';
import { apiClient, type Json } from '../helpers/apiClient';
import { startTestStack, type TestStack } from '../helpers/localStack';

/**
 * The HTTP API of the local stack, used as a web or mobile app would: over HTTP only (fetch, and a
 * browser-form POST of the file to the presigned request), following each upload to its outcome.
 */

const SAMPLES = path.resolve(__dirname, '../../events/samples');
const photo = readFileSync(path.join(SAMPLES, 'landscape.jpg'));
const corrupt = readFileSync(path.join(SAMPLES, 'corrupt.png'));

jest.setTimeout(120_000);

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack({ batchWindowSeconds: 0 });
});

afterAll(async () => {
  await t?.stop();
});

const call = apiClient(() => t.apiUrl);

interface PresignedUpload {
  key: string;
  method: string;
  url: string;
  fields: Record<string, string>;
  expiresAt: string;
}

async function presign(filename: string, contentType: string, size: number): Promise<PresignedUpload> {
  const { status, json } = await call('POST', '/uploads', { filename, contentType, size });
  expect({ status, json }).toMatchObject({ status: 201 });
  return json as unknown as PresignedUpload;
}

/** The browser-form POST S3 documents: the signed fields, then the file, last. */
async function postFile(upload: PresignedUpload, data: Buffer, options: { contentType?: string; fields?: Record<string, string> } = {}) {
  const form = new FormData();
  for (const [name, value] of Object.entries({ ...upload.fields, ...options.fields })) form.append(name, value);
  if (options.contentType) form.set('Content-Type', options.contentType);
  form.append('file', new Blob([new Uint8Array(data)]), 'file');
  const response = await fetch(upload.url, { method: 'POST', body: form });
  return { status: response.status, text: await response.text() };
}

const imagePath = (key: string) => `/images/${encodeURIComponent(key)}`;

async function imageOnceSettled(key: string): Promise<Json> {
  return t.waitFor(
    async () => {
      const { status, json } = await call('GET', imagePath(key));
      return status === 200 && json.status !== 'pending' ? json : undefined;
    },
    60_000,
    `${key} to be complete or failed`,
  );
}

test('GET /health answers without a token', async () => {
  expect(await call('GET', '/health')).toEqual({ status: 200, json: { status: 'ok' } });
});

test('an unknown route is a JSON 404, as API Gateway answers', async () => {
  const { status } = await call('GET', '/nowhere');
  expect(status).toBe(404);
});

test('a photo uploaded through a presigned POST ends complete, with three thumbnails a client can download', async () => {
  const upload = await presign('Holiday photo.jpg', 'image/jpeg', photo.length);
  expect(upload.method).toBe('POST');
  expect(upload.key).toMatch(/^u\/\d{4}-\d{2}-\d{2}\/[0-9a-f-]{36}\/Holiday-photo\.jpg$/);
  const expiresInMs = Date.parse(upload.expiresAt) - Date.now();
  expect(expiresInMs).toBeGreaterThan(0);
  expect(expiresInMs).toBeLessThanOrEqual(15 * 60 * 1000);

  expect((await postFile(upload, photo)).status).toBe(204);
  const image = await imageOnceSettled(upload.key);
  expect(image).toMatchObject({ key: upload.key, status: 'complete', failure: null });
  expect(image.source).toMatchObject({ size: photo.length, format: 'jpeg', width: 1800, height: 1200 });
  expect((image.moderation as Json).verdict).toBe('clean');
  expect((image.prediction as { labels: unknown[] }).labels.length).toBeGreaterThan(0);

  const thumbnails = image.thumbnails as { size: number; format: string; width: number; height: number; url: string }[];
  expect(thumbnails.map((thumbnail) => thumbnail.size).sort((a, b) => a - b)).toEqual([256, 512, 1024]);
  for (const thumbnail of thumbnails) {
    const response = await fetch(thumbnail.url);
    expect(response.status).toBe(200);
    const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
    expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({
      format: thumbnail.format,
      width: thumbnail.width,
      height: thumbnail.height,
    });
    expect(Math.max(thumbnail.width, thumbnail.height)).toBe(thumbnail.size);
  }
});

test('a corrupt file ends failed, with the reason the pipeline gave', async () => {
  const upload = await presign('broken.png', 'image/png', corrupt.length);
  expect((await postFile(upload, corrupt)).status).toBe(204);
  const image = await imageOnceSettled(upload.key);
  expect(image.status).toBe('failed');
  expect(['corrupt', 'not-an-image']).toContain((image.failure as Json).reason);
  expect(image.thumbnails).toEqual([]);
});

describe('the local S3 enforces the presigned request as S3 does', () => {
  const refused = async (result: { status: number; text: string }, code: string) => {
    expect(result.status).toBeGreaterThanOrEqual(400);
    expect(result.text).toContain(`<Code>${code}</Code>`);
  };

  test('a body larger than the declared size', async () => {
    const upload = await presign('small.jpg', 'image/jpeg', photo.length - 1);
    await refused(await postFile(upload, photo), 'EntityTooLarge');
    expect(await t.exists('uploads', upload.key)).toBe(false);
  });

  test('another key than the signed one', async () => {
    const upload = await presign('mine.jpg', 'image/jpeg', photo.length);
    const other = `${upload.key}-elsewhere`;
    await refused(await postFile(upload, photo, { fields: { key: other } }), 'AccessDenied');
    expect(await t.exists('uploads', other)).toBe(false);
  });

  test('another content type than the signed one', async () => {
    const upload = await presign('typed.jpg', 'image/jpeg', photo.length);
    await refused(await postFile(upload, photo, { contentType: 'text/html' }), 'AccessDenied');
    expect(await t.exists('uploads', upload.key)).toBe(false);
  });
});

describe('refused requests', () => {
  test.each([
    [{ filename: '../escape.jpg', contentType: 'image/jpeg', size: 10 }, 'invalid-filename'],
    [{ filename: 'a.jpg', contentType: 'image/jpeg' }, 'invalid-size'],
    [{ filename: 'a.jpg', contentType: 'image/jpeg', size: 60 * 1024 * 1024 }, 'too-large'],
    [{ filename: 'a.pdf', contentType: 'application/pdf', size: 10 }, 'unsupported-content-type'],
  ])('POST /uploads %j -> 400 %s', async (body, error) => {
    const { status, json } = await call('POST', '/uploads', body);
    expect(status).toBe(400);
    expect(json.error).toBe(error);
    expect(typeof json.message).toBe('string');
  });

  test('an unknown key is a 404; a bad listing query a 400', async () => {
    expect((await call('GET', imagePath('u/none/such.jpg'))).status).toBe(404);
    expect((await call('GET', '/images?status=done')).json.error).toBe('invalid-query');
    expect((await call('GET', '/images?limit=0')).json.error).toBe('invalid-query');
    expect((await call('GET', '/images?cursor=not-a-cursor')).json.error).toBe('invalid-cursor');
  });
});

test('the listing pages newest first through its cursor, filters by status, and deletion removes an image', async () => {
  const keys: string[] = [];
  for (let i = 0; i < 5; i++) {
    const upload = await presign(`page-${i}.jpg`, 'image/jpeg', photo.length);
    expect((await postFile(upload, photo)).status).toBe(204);
    keys.push(upload.key);
  }
  for (const key of keys) await imageOnceSettled(key);

  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = `/images?prefix=u/&status=complete&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const { status, json } = await call('GET', query);
    expect(status).toBe(200);
    const items = json.items as { key: string; status: string; source: { uploadedAt: string } }[];
    expect(items.length).toBeLessThanOrEqual(2);
    for (const item of items) expect(item.status).toBe('complete');
    seen.push(...items.map((item) => item.key));
    cursor = json.cursor as string | null;
    pages++;
  } while (cursor);
  expect(pages).toBeGreaterThan(2);
  expect(new Set(seen).size).toBe(seen.length);
  for (const key of keys) expect(seen).toContain(key);
  // Newest first: the five uploads were made one after the other.
  const order = keys.map((key) => seen.indexOf(key));
  expect([...order].sort((a, b) => b - a)).toEqual(order);

  const [doomed] = keys;
  expect(await call('DELETE', imagePath(doomed))).toMatchObject({ status: 202, json: { key: doomed } });
  await t.waitFor(async () => (await call('GET', imagePath(doomed))).status === 404, 30_000, 'the deleted image to leave the catalogue');
  await t.waitFor(async () => !(await t.exists('thumbnails', `256/${doomed}.webp`)), 30_000, 'its thumbnails to be removed');
  expect(await t.exists('uploads', doomed)).toBe(false);
  expect((await call('DELETE', imagePath(doomed))).status).toBe(404);
});

test('a late event for an old version does not overwrite the record of the newer one', async () => {
  const upload = await presign('versions.jpg', 'image/jpeg', photo.length);
  expect((await postFile(upload, photo)).status).toBe(204);
  const first = await imageOnceSettled(upload.key);
  const oldETag = (first.source as { eTag: string }).eTag;
  const oldEvent = t.batches.length;

  const smaller = await sharp(photo).resize(900).jpeg().toBuffer();
  const again = await fetch(upload.url, {
    method: 'POST',
    body: (() => {
      const form = new FormData();
      for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
      form.append('file', new Blob([new Uint8Array(smaller)]), 'file');
      return form;
    })(),
  });
  expect(again.status).toBe(204);
  const second = await t.waitFor(async () => {
    const { json } = await call('GET', imagePath(upload.key));
    return json.status === 'complete' && (json.source as { eTag: string }).eTag !== oldETag ? json : undefined;
  });
  expect(t.batches.length).toBeGreaterThan(oldEvent);
  const newETag = (second.source as { eTag: string }).eTag;

  // The first upload's notification delivered again, late, to both functions.
  const late = {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Post',
        eventTime: new Date(Date.parse((first.source as { uploadedAt: string }).uploadedAt)).toISOString(),
        s3: {
          bucket: { name: 'uploads' },
          object: {
            key: encodeURIComponent(upload.key).replace(/%2F/g, '/'),
            size: photo.length,
            eTag: oldETag,
            sequencer: (first.source as { sequencer?: string }).sequencer ?? '0',
          },
        },
      },
    ],
  };
  const before = t.batches.length;
  for (const url of [t.queueUrls.resize, t.queueUrls.predict]) {
    await t.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(late) }));
  }
  await t.waitFor(() => t.batches.length >= before + 2, 30_000, 'both functions to take the late event');
  const after = (await call('GET', imagePath(upload.key))).json;
  expect((after.source as { eTag: string }).eTag).toBe(newETag);
  expect(after.status).toBe('complete');
  expect((after.source as { width: number }).width).toBe(900);
});

test('a page of an allowed origin may call the API and POST to the presigned URL; another origin may not', async () => {
  const origin = 'http://127.0.0.1:3000';
  const preflight = (url: string, from: string) =>
    fetch(url, {
      method: 'OPTIONS',
      headers: { origin: from, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
  const api = await preflight(`${t.apiUrl}/uploads`, origin);
  expect(api.status).toBe(204);
  expect(api.headers.get('access-control-allow-origin')).toBe(origin);
  expect((await preflight(`${t.apiUrl}/uploads`, 'https://elsewhere.example')).headers.get('access-control-allow-origin')).toBeNull();

  const upload = await presign('cors.jpg', 'image/jpeg', photo.length);
  const s3 = await preflight(upload.url, origin);
  expect(s3.status).toBe(200);
  // s3rver answers a matched preflight with `*` where S3 echoes the origin; either lets the page POST.
  expect([origin, '*']).toContain(s3.headers.get('access-control-allow-origin'));
  expect((await preflight(upload.url, 'https://elsewhere.example')).status).toBe(403);

  // A refusal carries the CORS header too, so the page can read why (as S3 does for a matching rule).
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append('file', new Blob([new Uint8Array(photo)]), 'file');
  form.set('Content-Type', 'text/html');
  const refused = await fetch(upload.url, { method: 'POST', body: form, headers: { origin } });
  expect(refused.status).toBe(403);
  expect(refused.headers.get('access-control-allow-origin')).toBe(origin);
  expect(await refused.text()).toContain('<Code>AccessDenied</Code>');
});
