import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost, type PresignedPost } from '@aws-sdk/s3-presigned-post';
import S3rver, { type S3rverEvent } from 's3rver';
import sharp from 'sharp';
import { LOCAL_HOST } from '../../local/endpoints';
import { FORM_OVERHEAD_BYTES, installPostPolicyEnforcement } from '../../local/postPolicy';
import { freePort } from '../../local/servers';
import { createS3Client, s3ClientOptions } from '../../shared/clients';
import { waitFor } from '../helpers/waitFor';

/**
 * A real s3rver with the POST policy enforcement installed, presigned POSTs made by the SDK's
 * createPresignedPost, and uploads sent as a browser sends them (fetch + FormData): the signed
 * upload is stored and announced; every way of stepping outside the policy is refused with S3's
 * status and error code, and leaves neither an object nor an event behind.
 */

const BUCKET = 'uploads';
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const MAX_BODY_BYTES = 256 * 1024;

let stateDir: string;
let s3rver: S3rver;
let env: Record<string, string>;
let s3: S3Client;
let png: Buffer;
/** The key of every object s3rver announced, in order. */
const announced: string[] = [];

beforeAll(async () => {
  stateDir = mkdtempSync(path.join(tmpdir(), 'presigned-post-'));
  const port = await freePort();
  s3rver = new S3rver({ address: LOCAL_HOST, port, silent: true, directory: stateDir, configureBuckets: [{ name: BUCKET, configs: [] }] });
  installPostPolicyEnforcement(s3rver, { credentials: CREDENTIALS, maxBodyBytes: MAX_BODY_BYTES });
  await s3rver.run();
  s3rver.on('event', (event: S3rverEvent) => announced.push(...event.Records.map((record) => record.s3.object.key)));
  env = { AWS_ENDPOINT_URL_S3: `http://${LOCAL_HOST}:${port}`, AWS_REGION: 'us-east-1' };
  s3 = createS3Client(env);
  png = await sharp({ create: { width: 16, height: 12, channels: 3, background: { r: 200, g: 40, b: 90 } } })
    .png()
    .toBuffer();
});

afterAll(async () => {
  s3?.destroy();
  await s3rver?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

/** What the HTTP API hands out: the key pinned, the size capped at the declared size, the type pinned, 15 minutes. */
function presign(key: string, options: { client?: S3Client; size?: number; expires?: number } = {}) {
  return createPresignedPost(options.client ?? s3, {
    Bucket: BUCKET,
    Key: key,
    Conditions: [
      ['content-length-range', 1, options.size ?? png.length],
      ['eq', '$Content-Type', 'image/png'],
    ],
    Fields: { 'Content-Type': 'image/png' },
    Expires: options.expires ?? 900,
  });
}

interface Upload {
  fields?: Record<string, string>;
  file?: Buffer;
  /** Fields sent after the file part. */
  after?: Record<string, string>;
}

async function upload(post: PresignedPost, { fields = post.fields, file = png, after = {} }: Upload = {}) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([new Uint8Array(file)], { type: 'image/png' }), 'photo.png');
  for (const [name, value] of Object.entries(after)) form.append(name, value);
  const response = await fetch(post.url, { method: 'POST', body: form });
  const body = await response.text();
  return {
    status: response.status,
    body,
    code: /<Code>([^<]*)<\/Code>/.exec(body)?.[1],
    message: /<Message>([^<]*)<\/Message>/.exec(body)?.[1],
  };
}

let sentinels = 0;
/** A refused upload leaves no object, and no event: a signed upload sent after it is announced, and it alone. */
async function expectNoTrace(key: string) {
  const sentinel = `sentinel/${++sentinels}.png`;
  const before = announced.length;
  expect((await upload(await presign(sentinel))).status).toBe(204);
  await waitFor(() => announced.includes(sentinel), 5000, `the event for ${sentinel}`);
  expect(announced.slice(before)).toEqual([sentinel]);
  expect(announced).not.toContain(key);
  await expect(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).rejects.toMatchObject({ name: 'NotFound' });
}

test('the signed upload is stored with its bytes and content type, and announced', async () => {
  const key = 'incoming/signed.png';
  const post = await presign(key);
  expect(post.url).toBe(`${env.AWS_ENDPOINT_URL_S3}/${BUCKET}`);
  expect(await upload(post)).toMatchObject({ status: 204 });
  await waitFor(() => announced.includes(key), 5000, `the event for ${key}`);

  const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  expect(object.ContentType).toBe('image/png');
  expect(Buffer.from(await object.Body!.transformToByteArray())).toEqual(png);
});

test('fields after the file part are ignored, as S3 ignores them', async () => {
  const key = 'incoming/late-field.png';
  expect(await upload(await presign(key), { after: { 'x-amz-meta-late': 'ignored' } })).toMatchObject({ status: 204 });
  await waitFor(() => announced.includes(key), 5000, `the event for ${key}`);
});

test('the enforcement cannot be installed once s3rver runs (Koa has composed its middleware)', () => {
  expect(() => installPostPolicyEnforcement(s3rver, { credentials: CREDENTIALS, maxBodyBytes: MAX_BODY_BYTES })).toThrow(
    /install before run\(\)/,
  );
});

describe('refused as S3 refuses it', () => {
  test('a body one byte over the signed range: 400 EntityTooLarge', async () => {
    const key = 'refused/too-large.png';
    const refusal = await upload(await presign(key), { file: Buffer.concat([png, Buffer.from([0])]) });
    expect(refusal).toMatchObject({ status: 400, code: 'EntityTooLarge' });
    expect(refusal.body).toContain(`<ProposedSize>${png.length + 1}</ProposedSize><MaxSizeAllowed>${png.length}</MaxSizeAllowed>`);
    await expectNoTrace(key);
  });

  test('an empty file under a range from 1: 400 EntityTooSmall', async () => {
    const key = 'refused/empty.png';
    expect(await upload(await presign(key), { file: Buffer.alloc(0) })).toMatchObject({ status: 400, code: 'EntityTooSmall' });
    await expectNoTrace(key);
  });

  test('another key: 403 AccessDenied, the key condition named', async () => {
    const signed = 'refused/signed-key.png';
    const post = await presign(signed);
    const refusal = await upload(post, { fields: { ...post.fields, key: 'refused/other-key.png' } });
    expect(refusal).toMatchObject({
      status: 403,
      code: 'AccessDenied',
      message: `Invalid according to Policy: Policy Condition failed: [&quot;eq&quot;, &quot;$key&quot;, &quot;${signed}&quot;]`,
    });
    await expectNoTrace('refused/other-key.png');
    await expectNoTrace(signed);
  });

  test('another content type: 403 AccessDenied', async () => {
    const key = 'refused/content-type.png';
    const post = await presign(key);
    const refusal = await upload(post, { fields: { ...post.fields, 'Content-Type': 'text/html' } });
    expect(refusal).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(refusal.message).toMatch(/^Invalid according to Policy: Policy Condition failed: .*Content-Type.*image\/png/);
    await expectNoTrace(key);
  });

  test('an expired policy: 403 AccessDenied, Policy expired', async () => {
    const key = 'refused/expired.png';
    // Signed by a client whose clock is 20 minutes behind, for 60 seconds: expired 19 minutes ago.
    const lateClient = new S3Client({ ...s3ClientOptions(env), systemClockOffset: -20 * 60_000 });
    try {
      const refusal = await upload(await presign(key, { client: lateClient, expires: 60 }));
      expect(refusal).toMatchObject({ status: 403, code: 'AccessDenied', message: 'Invalid according to Policy: Policy expired.' });
    } finally {
      lateClient.destroy();
    }
    await expectNoTrace(key);
  });

  test('a tampered policy (a larger range under the old signature): 403 SignatureDoesNotMatch', async () => {
    const key = 'refused/tampered.png';
    const post = await presign(key, { size: 10 });
    const policy = JSON.parse(Buffer.from(post.fields.Policy, 'base64').toString('utf8'));
    policy.conditions[0] = ['content-length-range', 1, 10_000_000];
    const tampered = Buffer.from(JSON.stringify(policy)).toString('base64');
    expect(await upload(post, { fields: { ...post.fields, Policy: tampered } })).toMatchObject({
      status: 403,
      code: 'SignatureDoesNotMatch',
    });
    await expectNoTrace(key);
  });

  test('a policy signed with another secret: 403 SignatureDoesNotMatch', async () => {
    const key = 'refused/other-secret.png';
    const forger = new S3Client({ ...s3ClientOptions(env), credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'guessed' } });
    try {
      expect(await upload(await presign(key, { client: forger }))).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    } finally {
      forger.destroy();
    }
    await expectNoTrace(key);
  });

  test('an extra field: 403 AccessDenied, Extra input fields', async () => {
    const key = 'refused/extra-field.png';
    const post = await presign(key);
    expect(await upload(post, { fields: { ...post.fields, 'x-amz-meta-owner': 'mallory' } })).toMatchObject({
      status: 403,
      code: 'AccessDenied',
      message: 'Invalid according to Policy: Extra input fields: x-amz-meta-owner',
    });
    await expectNoTrace(key);
  });

  test("no policy at all (s3rver's anonymous form upload): 403 AccessDenied", async () => {
    const key = 'refused/anonymous.png';
    const post = await presign(key);
    const refusal = await upload(post, { fields: { key, 'Content-Type': 'image/png' } });
    expect(refusal).toMatchObject({ status: 403, code: 'AccessDenied', message: 'Access Denied' });
    expect(refusal.body).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>AccessDenied<\/Code>/);
    await expectNoTrace(key);
  });
});

describe('every route s3rver takes to its form upload is checked', () => {
  /** An anonymous form upload of `key`, sent with Node's http client so that the Host header can be chosen. */
  async function anonymousUpload(key: string, target: { path: string; host?: string }) {
    const form = new FormData();
    form.append('key', key);
    form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'photo.png');
    const encoded = new Response(form);
    const body = Buffer.from(await encoded.arrayBuffer());
    const { hostname, port } = new URL(env.AWS_ENDPOINT_URL_S3);
    const headers = {
      'content-type': encoded.headers.get('content-type')!,
      'content-length': body.length,
      ...(target.host && { host: target.host }),
    };
    const req = request({ hostname, port, method: 'POST', path: target.path, headers });
    req.end(body);
    const [response] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
    let text = '';
    for await (const chunk of response) text += chunk;
    return { status: response.statusCode, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] };
  }

  test('a query string on the bucket URL', async () => {
    const key = 'refused/query.png';
    expect(await anonymousUpload(key, { path: `/${BUCKET}?anything=1` })).toEqual({ status: 403, code: 'AccessDenied' });
    await expectNoTrace(key);
  });

  test('a virtual-hosted-style request (the bucket in the Host header)', async () => {
    const key = 'refused/vhost.png';
    expect(await anonymousUpload(key, { path: '/', host: BUCKET })).toEqual({ status: 403, code: 'AccessDenied' });
    expect(await anonymousUpload(key, { path: '/', host: `${BUCKET}.s3.amazonaws.com` })).toEqual({ status: 403, code: 'AccessDenied' });
    await expectNoTrace(key);
  });
});

describe("a body beyond the stack's limit is refused before it has all arrived", () => {
  /** Sends the head of a form POST and `sent` bytes of body, never ending it, and resolves with the answer. */
  async function answerToUnfinishedBody(headers: Record<string, string | number>, sent: number) {
    const { hostname, port } = new URL(env.AWS_ENDPOINT_URL_S3);
    const req = request({
      hostname,
      port,
      method: 'POST',
      path: `/${BUCKET}`,
      headers: { 'content-type': 'multipart/form-data; boundary=x', ...headers },
    });
    req.on('error', () => undefined); // the server closes the connection once it has answered
    req.write(Buffer.alloc(sent));
    const [response] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk);
    req.destroy();
    return { status: response.statusCode, connection: response.headers.connection, body: Buffer.concat(chunks).toString('utf8') };
  }

  test('a declared length over the limit is answered before any body is read', async () => {
    const declared = MAX_BODY_BYTES + FORM_OVERHEAD_BYTES + 1;
    const answer = await answerToUnfinishedBody({ 'content-length': declared }, 1024);
    expect(answer).toMatchObject({ status: 400, connection: 'close' });
    expect(answer.body).toContain(`<Code>EntityTooLarge</Code>`);
    expect(answer.body).toContain(`<ProposedSize>${declared}</ProposedSize><MaxSizeAllowed>${MAX_BODY_BYTES}</MaxSizeAllowed>`);
  });

  test('a chunked body is answered as soon as it passes the limit', async () => {
    const answer = await answerToUnfinishedBody({ 'transfer-encoding': 'chunked' }, MAX_BODY_BYTES + FORM_OVERHEAD_BYTES + 1);
    expect(answer).toMatchObject({ status: 400, connection: 'close' });
    expect(answer.body).toContain('<Code>EntityTooLarge</Code>');
  });
});
