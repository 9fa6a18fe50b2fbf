import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { hostname as machineName } from 'node:os';
import { Readable } from 'node:stream';
import type S3rver from 's3rver';
import type { S3rverContext, S3rverMiddleware } from 's3rver';
import { checkNumber } from '../shared/validate';

/**
 * S3's checks on a browser-form POST upload (what `createPresignedPost` hands out), which s3rver
 * skips: it stores whatever a form sends. The rules follow the S3 API Reference pages "POST Policy",
 * "Authenticating Requests: Browser-Based Uploads Using POST (AWS Signature Version 4)" and "Error
 * responses"; where AWS documents no message, the message is S3's as clients report it, or says
 * plainly what is refused. The checks are pure functions; the middleware at the end puts them in
 * front of s3rver.
 */

export interface PostPolicyCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** A refusal as S3 writes it: the HTTP status, the error code, the message, and the extra elements of its XML body. */
export interface S3ErrorResponse {
  status: number;
  code: string;
  message: string;
  detail?: Record<string, string | number>;
}

export type PostPolicyVerdict<T extends object = Record<never, never>> = ({ ok: true } & T) | { ok: false; error: S3ErrorResponse };

/** The decoded `policy` field; its conditions stay as JSON gave them, and the checker refuses a malformed one. */
export interface PostPolicyDocument {
  expiration: string;
  conditions: unknown[];
}

/** One form field as sent: the name in any case, and the value. */
export type FormField = readonly [name: string, value: string];

/** A browser form POST as S3 reads it: the fields before the file part (S3 ignores what follows it) and the file's size. */
export interface PostForm {
  fields: readonly FormField[];
  /** Undefined when the form has no part named `file`. */
  fileSize?: number;
}

export interface PostPolicyRequest {
  fields: readonly FormField[];
  fileSize: number;
  /** The bucket the request was sent to (its URL), which `{"bucket": ...}` conditions match. */
  bucket: string;
  now: Date;
}

const OK = { ok: true } as const;
const refuse = (status: number, code: string, message: string, detail?: S3ErrorResponse['detail']) =>
  ({ ok: false, error: { status, code, message, ...(detail && { detail }) } }) as const;
const accessDenied = (message: string) => refuse(403, 'AccessDenied', message);
const policyFailed = (reason: string) => accessDenied(`Invalid according to Policy: ${reason}`);
const invalidPolicy = (reason: string) => refuse(400, 'InvalidPolicyDocument', `Invalid Policy: ${reason}`);
const invalidArgument = (message: string, name: string, value: string | number) =>
  refuse(400, 'InvalidArgument', message, { ArgumentName: name, ArgumentValue: value });
const missingField = (name: string) =>
  invalidArgument(`Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`, name, '');

/** Fields no condition needs to cover (POST Policy, "Conditions"); names prefixed `x-ignore-` are skipped too. */
const UNCONDITIONED = new Set(['policy', 'x-amz-signature', 'file']);
const ALGORITHM = 'AWS4-HMAC-SHA256';

/**
 * Field names are case-insensitive to S3, values are not. A name sent twice is refused: s3rver keeps
 * the last `key` (spelled exactly so) and every other last value, so a check of either copy could pass
 * a form that is stored otherwise. (What S3 answers to a repeated field is not documented.)
 */
function fieldMap(fields: readonly FormField[]): PostPolicyVerdict<{ map: Map<string, string> }> {
  const map = new Map<string, string>();
  for (const [name, value] of fields) {
    const lower = name.toLowerCase();
    if (map.has(lower)) return invalidArgument(`Bucket POST must contain the field '${lower}' only once.`, lower, value);
    map.set(lower, value);
  }
  return { ok: true, map };
}

type Condition =
  | { kind: 'match'; operator: 'eq' | 'starts-with'; field: string; value: string; shown: string }
  | { kind: 'range'; min: number; max: number };

/** S3 quotes a failed condition in the array form whichever form the policy used: `["eq", "$key", "a.png"]`. */
const matchCondition = (operator: 'eq' | 'starts-with', name: string, value: string): Condition => ({
  kind: 'match',
  operator,
  field: name.toLowerCase(),
  value,
  shown: `[${[operator, `$${name}`, value].map((part) => JSON.stringify(part)).join(', ')}]`,
});

const byteCount = (raw: unknown) => {
  const value = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
};

/** One policy condition: `{"field": "value"}` (one match per member), `["eq" | "starts-with", "$field", "value"]`, `["content-length-range", min, max]`. */
function parseCondition(raw: unknown): PostPolicyVerdict<{ conditions: Condition[] }> {
  const invalid = invalidPolicy(`Invalid Condition: ${JSON.stringify(raw)}`);
  if (Array.isArray(raw)) {
    if (raw.length !== 3 || typeof raw[0] !== 'string') return invalid;
    const [, subject, value] = raw;
    const operator = raw[0].toLowerCase();
    if (operator === 'content-length-range') {
      const min = byteCount(subject);
      const max = byteCount(value);
      return min === undefined || max === undefined || min > max ? invalid : { ok: true, conditions: [{ kind: 'range', min, max }] };
    }
    const known = operator === 'eq' || operator === 'starts-with';
    if (!known || typeof subject !== 'string' || !subject.startsWith('$') || typeof value !== 'string') return invalid;
    return { ok: true, conditions: [matchCondition(operator, subject.slice(1), value)] };
  }
  if (raw === null || typeof raw !== 'object') return invalid;
  const members = Object.entries(raw);
  if (members.length === 0 || members.some(([, value]) => typeof value !== 'string')) return invalid;
  return { ok: true, conditions: members.map(([name, value]) => matchCondition('eq', name, value as string)) };
}

/** A field a condition names but the form lacks fails it, even `["starts-with", "$field", ""]`. */
const satisfies = (condition: Extract<Condition, { kind: 'match' }>, actual: string | undefined) =>
  actual !== undefined && (condition.operator === 'eq' ? actual === condition.value : actual.startsWith(condition.value));

/**
 * The policy document against the form, in this order: the expiration, every condition in policy
 * order, fields no condition covers, then the file size against each content-length-range.
 */
export function checkPostPolicy(policy: PostPolicyDocument, request: PostPolicyRequest): PostPolicyVerdict {
  const fields = fieldMap(request.fields);
  if (!fields.ok) return fields;
  const expiration = typeof policy.expiration === 'string' ? Date.parse(policy.expiration) : Number.NaN;
  if (Number.isNaN(expiration)) return invalidPolicy(`Invalid 'expiration' value: ${JSON.stringify(policy.expiration)}`);
  if (request.now.getTime() > expiration) return policyFailed('Policy expired.');
  if (!Array.isArray(policy.conditions)) return invalidPolicy('Policy missing conditions.');

  const covered = new Set<string>();
  const ranges: Extract<Condition, { kind: 'range' }>[] = [];
  for (const raw of policy.conditions) {
    const parsed = parseCondition(raw);
    if (!parsed.ok) return parsed;
    for (const condition of parsed.conditions) {
      if (condition.kind === 'range') {
        ranges.push(condition);
        continue;
      }
      covered.add(condition.field);
      const actual = condition.field === 'bucket' ? request.bucket : fields.map.get(condition.field);
      if (!satisfies(condition, actual)) return policyFailed(`Policy Condition failed: ${condition.shown}`);
    }
  }
  const extra = [...fields.map.keys()].filter((name) => !covered.has(name) && !UNCONDITIONED.has(name) && !name.startsWith('x-ignore-'));
  if (extra.length > 0) return policyFailed(`Extra input fields: ${extra.join(', ')}`);

  const size = request.fileSize;
  for (const { min, max } of ranges) {
    if (size > max) {
      return refuse(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
        ProposedSize: size,
        MaxSizeAllowed: max,
      });
    }
    if (size < min) {
      return refuse(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', {
        ProposedSize: size,
        MinSizeAllowed: min,
      });
    }
  }
  return OK;
}

/** The `policy` field: base64 of a JSON document with `expiration` and `conditions`. */
export function decodePostPolicy(encoded: string): PostPolicyVerdict<{ policy: PostPolicyDocument }> {
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    return invalidPolicy('Invalid JSON.');
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) return invalidPolicy('Invalid JSON.');
  const { expiration, conditions } = document as Record<string, unknown>;
  if (typeof expiration !== 'string') return invalidPolicy('Policy missing expiration.');
  if (!Array.isArray(conditions)) return invalidPolicy('Policy missing conditions.');
  return { ok: true, policy: { expiration, conditions } };
}

const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** SigV4 for POST: the string to sign is the base64 policy itself, signed with the key of `<date>/<region>/s3/aws4_request`. */
export function postPolicySignature(encodedPolicy: string, secretAccessKey: string, date: string, region: string): string {
  const signingKey = ['s3', 'aws4_request'].reduce(hmac, hmac(hmac(`AWS4${secretAccessKey}`, date), region));
  return hmac(signingKey, encodedPolicy).toString('hex');
}

/** The form's `x-amz-signature` against the policy it carries, for the one key pair this stack knows. */
export function verifyPostSignature(fields: readonly FormField[], credentials: PostPolicyCredentials): PostPolicyVerdict {
  const parsed = fieldMap(fields);
  if (!parsed.ok) return parsed;
  const { map } = parsed;
  for (const name of ['policy', 'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-signature']) {
    if (!map.has(name)) return missingField(name);
  }
  const policy = map.get('policy')!;
  const provided = map.get('x-amz-signature')!;
  const algorithm = map.get('x-amz-algorithm')!;
  if (algorithm !== ALGORITHM) return invalidArgument(`X-Amz-Algorithm only supports "${ALGORITHM}"`, 'x-amz-algorithm', algorithm);
  const credential = map.get('x-amz-credential')!;
  const [accessKeyId, date, region, service, terminator, ...rest] = credential.split('/');
  if (!/^\d{8}$/.test(date ?? '') || !region || service !== 's3' || terminator !== 'aws4_request' || rest.length > 0) {
    return invalidArgument(
      `Invalid credential: expected <access key>/<yyyymmdd>/<region>/s3/aws4_request, got ${credential}`,
      'x-amz-credential',
      credential,
    );
  }
  if (accessKeyId !== credentials.accessKeyId) {
    return refuse(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', {
      AWSAccessKeyId: accessKeyId,
    });
  }
  const expected = Buffer.from(postPolicySignature(policy, credentials.secretAccessKey, date, region));
  const given = Buffer.from(provided);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return refuse(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      { AWSAccessKeyId: accessKeyId, StringToSign: policy, SignatureProvided: provided },
    );
  }
  return OK;
}

export interface PostFormContext {
  bucket: string;
  credentials: PostPolicyCredentials;
  now: Date;
}

/**
 * Everything S3 decides about a form POST before it stores the file: a form without a policy is an
 * anonymous upload, which a private bucket refuses; then the signature, the policy's shape, the
 * file part, and the policy's conditions.
 */
export function evaluatePostForm(form: PostForm, context: PostFormContext): PostPolicyVerdict {
  const fields = fieldMap(form.fields);
  if (!fields.ok) return fields;
  const encoded = fields.map.get('policy');
  if (encoded === undefined) return accessDenied('Access Denied');
  const signed = verifyPostSignature(form.fields, context.credentials);
  if (!signed.ok) return signed;
  const decoded = decodePostPolicy(encoded);
  if (!decoded.ok) return decoded;
  if (form.fileSize === undefined) return invalidArgument('POST requires exactly one file upload per request.', 'file', 0);
  return checkPostPolicy(decoded.policy, { fields: form.fields, fileSize: form.fileSize, bucket: context.bucket, now: context.now });
}

const escapeXml = (text: string) =>
  text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[char]!);

/** S3's error body: `<Error><Code/><Message/>...detail<RequestId/><HostId/></Error>`. */
export function s3ErrorXml(error: S3ErrorResponse): string {
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  const elements = {
    Code: error.code,
    Message: error.message,
    ...error.detail,
    RequestId: requestId,
    HostId: randomBytes(32).toString('base64'),
  };
  const body = Object.entries(elements)
    .map(([name, value]) => `<${name}>${escapeXml(String(value))}</${name}>`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${body}</Error>`;
}

export interface PostPolicyEnforcementOptions {
  /** The key pair presigned POSTs must be signed with (the local stack's: S3RVER / S3RVER). */
  credentials: PostPolicyCredentials;
  /** The largest file a form POST may carry; a body longer than this plus FORM_OVERHEAD_BYTES is refused unread. */
  maxBodyBytes: number;
  /** The clock policies expire by (default: the system clock). */
  now?: () => Date;
  /**
   * Origins the bucket's CORS rules allow (as in serverless.yml): S3 sends its CORS headers with a
   * refusal too, so a page can read why its upload was refused.
   */
  allowedOrigins?: readonly string[];
}

/** Room for the other fields and the part headers around the file. */
export const FORM_OVERHEAD_BYTES = 64 * 1024;

/**
 * The path s3rver routes, found as its vhost middleware finds it (default options): path style on an
 * IP address or localhost, else the Host header names the bucket. Mirrored so that a Host header
 * cannot route a form POST to a bucket past this check.
 */
function routedPath(ctx: S3rverContext): string {
  const aws = /^(?:(.+)\.)?s3(-website)?([-.].+)?\.amazonaws\.com$/.exec(ctx.hostname);
  if (aws) return aws[1] ? `/${aws[1]}${ctx.path}` : ctx.path;
  const pathStyle = isIP(ctx.hostname) !== 0 || ctx.hostname === 'localhost' || ctx.hostname === machineName();
  return pathStyle ? ctx.path : `/${ctx.hostname}${ctx.path}`;
}

/** The bucket of a browser-form POST (`POST /<bucket>` as multipart/form-data, any query), else undefined. */
function formPostBucket(ctx: S3rverContext): string | undefined {
  if (ctx.method !== 'POST') return undefined;
  const mediaType = String(ctx.req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  if (mediaType !== 'multipart/form-data') return undefined;
  const segment = /^\/([^/]+)\/?$/.exec(routedPath(ctx))?.[1];
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The request body, or the number of bytes received when it passed `limit` (the rest is left unread). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer<ArrayBuffer> | number> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (settle: () => void) => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      settle();
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received <= limit) chunks.push(chunk);
      else {
        finish(() => resolve(received));
        req.pause();
      }
    };
    const onEnd = () => finish(() => resolve(Buffer.concat(chunks)));
    const onError = (error: Error) => finish(() => reject(error));
    const onClose = () => finish(() => reject(new Error('the request closed before its body ended')));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** The fields before the part named `file`, and that part's size; undefined when the body is no multipart form. */
async function parseForm(body: Buffer<ArrayBuffer>, contentType: string): Promise<PostForm | undefined> {
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch {
    return undefined;
  }
  const fields: FormField[] = [];
  for (const [name, value] of form) {
    // A part without a filename arrives as text; its byte length is the size S3 would see only for UTF-8 text.
    if (name === 'file') return { fields, fileSize: typeof value === 'string' ? Buffer.byteLength(value) : value.size };
    fields.push([name, typeof value === 'string' ? value : await value.text()]);
  }
  return { fields };
}

/** A request s3rver can read again: the same bytes, headers, method, URL and socket (Koa reads the client address from it). */
function replayRequest(original: IncomingMessage, body: Buffer): IncomingMessage {
  const replay = Readable.from([body], { objectMode: false });
  const { headers, rawHeaders, method, url, httpVersion, socket } = original;
  return Object.assign(replay, { headers, rawHeaders, method, url, httpVersion, socket }) as unknown as IncomingMessage;
}

/** Checks every browser-form POST to a bucket as S3 does and passes only an accepted one on to s3rver. */
export function postPolicyMiddleware(options: PostPolicyEnforcementOptions): S3rverMiddleware {
  const maxBodyBytes = checkNumber(options.maxBodyBytes, { integer: true, min: 1 }, (problem) => new TypeError(`maxBodyBytes: ${problem}`));
  const limit = maxBodyBytes + FORM_OVERHEAD_BYTES;
  const now = options.now ?? (() => new Date());
  const tooLarge = (proposed: number) =>
    refuse(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
      ProposedSize: proposed,
      MaxSizeAllowed: maxBodyBytes,
    }).error;

  const respond = (ctx: S3rverContext, error: S3ErrorResponse, bodyLeftUnread = false) => {
    const origin = ctx.req.headers.origin;
    if (origin && options.allowedOrigins?.includes(origin)) {
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Vary', 'Origin');
    }
    ctx.status = error.status;
    ctx.type = 'application/xml';
    ctx.body = s3ErrorXml(error);
    // The connection cannot carry another request after a body that was not read to its end.
    if (bodyLeftUnread) ctx.set('Connection', 'close');
  };

  return async (ctx, next) => {
    const bucket = formPostBucket(ctx);
    if (bucket === undefined) return next();
    const declared = Number(ctx.req.headers['content-length']);
    if (declared > limit) return respond(ctx, tooLarge(declared), true);
    const body = await readBody(ctx.req, limit);
    if (typeof body === 'number') return respond(ctx, tooLarge(body), true);

    const form = await parseForm(body, String(ctx.req.headers['content-type']));
    if (!form) {
      return respond(
        ctx,
        refuse(400, 'MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.').error,
      );
    }
    const verdict = evaluatePostForm(form, { bucket, credentials: options.credentials, now: now() });
    if (!verdict.ok) return respond(ctx, verdict.error);

    const replay = replayRequest(ctx.req, body);
    ctx.req = replay;
    ctx.request.req = replay;
    ctx.response.req = replay;
    return next();
  };
}

/**
 * Makes `s3rver` refuse presigned POSTs S3 would refuse. Koa composes its middleware when the
 * server starts, so this must run before `s3rver.run()`; the check goes first, ahead of s3rver's
 * logger and router.
 */
export function installPostPolicyEnforcement(s3rver: S3rver, options: PostPolicyEnforcementOptions): void {
  if (s3rver.httpServer) throw new Error('installPostPolicyEnforcement: s3rver is already running; install before run()');
  s3rver.middleware.unshift(postPolicyMiddleware(options));
}
