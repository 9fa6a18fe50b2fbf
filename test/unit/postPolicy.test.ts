import { S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost, type PresignedPost } from '@aws-sdk/s3-presigned-post';
import fc from 'fast-check';
import {
  checkPostPolicy,
  decodePostPolicy,
  evaluatePostForm,
  type FormField,
  type PostPolicyVerdict,
  postPolicyMiddleware,
  postPolicySignature,
  s3ErrorXml,
  verifyPostSignature,
} from '../../local/postPolicy';

/** The POST policy checks of the local stack, against AWS's worked example and against the SDK's own createPresignedPost. */

const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const BUCKET = 'uploads';
const KEY = 'incoming/7f3a.png';
const SIZE = 5000;

const refusal = (verdict: PostPolicyVerdict) => (verdict.ok ? 'accepted' : verdict.error);

describe("AWS's worked example (S3 API Reference, 'Example: Browser-Based Upload using HTTP POST (Using AWS Signature Version 4)')", () => {
  // The policy exactly as the example prints it (CRLF line ends), its example key pair and its published signature.
  const policy = Buffer.from(
    [
      '{ "expiration": "2015-12-30T12:00:00.000Z",',
      '  "conditions": [',
      '    {"bucket": "sigv4examplebucket"},',
      '    ["starts-with", "$key", "user/user1/"],',
      '    {"acl": "public-read"},',
      '    {"success_action_redirect": "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"},',
      '    ["starts-with", "$Content-Type", "image/"],',
      '    {"x-amz-meta-uuid": "14365123651274"},',
      '    {"x-amz-server-side-encryption": "AES256"},',
      '    ["starts-with", "$x-amz-meta-tag", ""],',
      '',
      '    {"x-amz-credential": "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"},',
      '    {"x-amz-algorithm": "AWS4-HMAC-SHA256"},',
      '    {"x-amz-date": "20151229T000000Z" }',
      '  ]',
      '}',
    ].join('\r\n'),
  ).toString('base64');
  const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
  const signature = '8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e';
  const fields: FormField[] = [
    ['key', 'user/user1/${filename}'],
    ['acl', 'public-read'],
    ['success_action_redirect', 'http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html'],
    ['Content-Type', 'image/jpeg'],
    ['x-amz-meta-uuid', '14365123651274'],
    ['x-amz-server-side-encryption', 'AES256'],
    ['X-Amz-Credential', 'AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request'],
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Date', '20151229T000000Z'],
    ['x-amz-meta-tag', ''],
    ['Policy', policy],
    ['X-Amz-Signature', signature],
  ];
  const context = { bucket: 'sigv4examplebucket', credentials, now: new Date('2015-12-29T12:00:00Z') };

  test('the signature is the published one', () => {
    expect(postPolicySignature(policy, credentials.secretAccessKey, '20151229', 'us-east-1')).toBe(signature);
  });

  test('the example form is accepted before the expiration and refused after it', () => {
    expect(evaluatePostForm({ fields, fileSize: 1234 }, context)).toEqual({ ok: true });
    expect(refusal(evaluatePostForm({ fields, fileSize: 1234 }, { ...context, now: new Date('2015-12-30T12:00:01Z') }))).toEqual({
      status: 403,
      code: 'AccessDenied',
      message: 'Invalid according to Policy: Policy expired.',
    });
  });
});

describe("the SDK's createPresignedPost, signed for a dummy endpoint", () => {
  let post: PresignedPost;
  let signedAt: Date;
  beforeAll(async () => {
    const client = new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', forcePathStyle: true, credentials: CREDENTIALS });
    signedAt = new Date();
    post = await createPresignedPost(client, {
      Bucket: BUCKET,
      Key: KEY,
      Conditions: [
        ['content-length-range', 1, SIZE],
        ['eq', '$Content-Type', 'image/png'],
      ],
      Fields: { 'Content-Type': 'image/png' },
      Expires: 900,
    });
    client.destroy();
  });

  const formOf = (fields: Record<string, string>): FormField[] => Object.entries(fields);
  const evaluate = (fields: FormField[], options: { fileSize?: number; bucket?: string; now?: Date; secret?: string } = {}) =>
    evaluatePostForm(
      { fields, fileSize: 'fileSize' in options ? options.fileSize : SIZE },
      {
        bucket: options.bucket ?? BUCKET,
        credentials: { ...CREDENTIALS, secretAccessKey: options.secret ?? CREDENTIALS.secretAccessKey },
        now: options.now ?? signedAt,
      },
    );
  const without = (name: string) => formOf(post.fields).filter(([field]) => field !== name);
  const withField = (name: string, value: string) => formOf({ ...post.fields, [name]: value });
  const reencoded = (change: (policy: { expiration: string; conditions: unknown[] }) => void) => {
    const policy = JSON.parse(Buffer.from(post.fields.Policy, 'base64').toString('utf8'));
    change(policy);
    return withField('Policy', Buffer.from(JSON.stringify(policy)).toString('base64'));
  };
  const conditionFailed = (condition: string) => ({
    status: 403,
    code: 'AccessDenied',
    message: `Invalid according to Policy: Policy Condition failed: ${condition}`,
  });

  test('the signed form is accepted, up to the last second of its 15 minutes and at every size in its range', () => {
    const fields = formOf(post.fields);
    const expiration = new Date(JSON.parse(Buffer.from(post.fields.Policy, 'base64').toString('utf8')).expiration);
    expect(expiration.getTime() - signedAt.getTime()).toBeLessThanOrEqual(900_000);
    for (const fileSize of [1, SIZE]) expect(evaluate(fields, { fileSize })).toEqual({ ok: true });
    expect(evaluate(fields, { now: expiration })).toEqual({ ok: true });
  });

  test('field names in any case, x-ignore- fields, and the file part are accepted unconditioned', () => {
    const renamed = formOf(post.fields).map(([name, value]): FormField => [name === 'key' ? name : name.toLowerCase(), value]);
    expect(evaluate([...renamed, ['x-ignore-submit', 'Upload']])).toEqual({ ok: true });
  });

  test.each([
    ['another key', () => withField('key', 'incoming/other.png'), conditionFailed(`["eq", "$key", "${KEY}"]`)],
    ['another content type', () => withField('Content-Type', 'image/svg+xml'), conditionFailed('["eq", "$Content-Type", "image/png"]')],
    ['no content type', () => without('Content-Type'), conditionFailed('["eq", "$Content-Type", "image/png"]')],
    [
      'another signing date',
      () => withField('X-Amz-Date', '20200101T000000Z'),
      {
        ...conditionFailed(''),
        message: expect.stringMatching(/^Invalid according to Policy: Policy Condition failed: \["eq", "\$X-Amz-Date", "\d{8}T\d{6}Z"\]$/),
      },
    ],
    [
      'an extra field',
      () => withField('x-amz-meta-owner', 'mallory'),
      { status: 403, code: 'AccessDenied', message: 'Invalid according to Policy: Extra input fields: x-amz-meta-owner' },
    ],
    ['no policy (an anonymous upload)', () => without('Policy'), { status: 403, code: 'AccessDenied', message: 'Access Denied' }],
    [
      'no signature',
      () => without('X-Amz-Signature'),
      {
        status: 400,
        code: 'InvalidArgument',
        message: "Bucket POST must contain a field named 'x-amz-signature'.  If it is specified, please check the order of the fields.",
        detail: { ArgumentName: 'x-amz-signature', ArgumentValue: '' },
      },
    ],
    [
      'another access key',
      () => withField('X-Amz-Credential', post.fields['X-Amz-Credential'].replace(/^S3RVER/, 'AKIAOTHER')),
      {
        status: 403,
        code: 'InvalidAccessKeyId',
        message: 'The AWS Access Key Id you provided does not exist in our records.',
        detail: { AWSAccessKeyId: 'AKIAOTHER' },
      },
    ],
    [
      'a malformed credential',
      () => withField('X-Amz-Credential', 'S3RVER/us-east-1/s3/aws4_request'),
      expect.objectContaining({
        status: 400,
        code: 'InvalidArgument',
        detail: expect.objectContaining({ ArgumentName: 'x-amz-credential' }),
      }),
    ],
    [
      'another algorithm',
      () => withField('X-Amz-Algorithm', 'AWS4-HMAC-SHA1'),
      expect.objectContaining({
        status: 400,
        code: 'InvalidArgument',
        detail: expect.objectContaining({ ArgumentName: 'x-amz-algorithm' }),
      }),
    ],
    [
      'a duplicated field under another case',
      (): FormField[] => [...formOf(post.fields), ['Key', 'incoming/smuggled.png']],
      expect.objectContaining({ status: 400, code: 'InvalidArgument', detail: expect.objectContaining({ ArgumentName: 'key' }) }),
    ],
  ])('%s is refused', (_name, fields, expected) => {
    expect(refusal(evaluate(fields()))).toEqual(expected);
  });

  const signatureMismatch = expect.objectContaining({ status: 403, code: 'SignatureDoesNotMatch' });
  test.each([
    ['a larger size range', () => reencoded((policy) => (policy.conditions[0] = ['content-length-range', 1, 10_000_000]))],
    ['a later expiration', () => reencoded((policy) => (policy.expiration = '2099-01-01T00:00:00Z'))],
    ['a condition removed', () => reencoded((policy) => policy.conditions.splice(1, 1))],
    [
      'a signature with one digit changed',
      () =>
        withField(
          'X-Amz-Signature',
          post.fields['X-Amz-Signature'].replace(/^./, (c) => (c === '0' ? '1' : '0')),
        ),
    ],
    ['a signature in capitals', () => withField('X-Amz-Signature', post.fields['X-Amz-Signature'].toUpperCase())],
    [
      'another region in the credential',
      () => withField('X-Amz-Credential', post.fields['X-Amz-Credential'].replace('us-east-1', 'eu-west-1')),
    ],
  ])('a policy or signature tampered with (%s) does not match its signature', (_name, fields) => {
    expect(refusal(evaluate(fields()))).toEqual(signatureMismatch);
  });

  test('the signature is checked with the stack secret: another secret does not match', () => {
    expect(refusal(evaluate(formOf(post.fields), { secret: 'not-S3RVER' }))).toEqual(signatureMismatch);
    const mismatch = refusal(evaluate(formOf(post.fields), { secret: 'not-S3RVER' }));
    expect(mismatch).toMatchObject({
      detail: { AWSAccessKeyId: 'S3RVER', StringToSign: post.fields.Policy, SignatureProvided: post.fields['X-Amz-Signature'] },
    });
  });

  test('another bucket, a file past either end of the range, no file, after the expiration', () => {
    const fields = formOf(post.fields);
    expect(refusal(evaluate(fields, { bucket: 'thumbnails' }))).toEqual(conditionFailed(`["eq", "$bucket", "${BUCKET}"]`));
    expect(refusal(evaluate(fields, { fileSize: SIZE + 1 }))).toEqual({
      status: 400,
      code: 'EntityTooLarge',
      message: 'Your proposed upload exceeds the maximum allowed size',
      detail: { ProposedSize: SIZE + 1, MaxSizeAllowed: SIZE },
    });
    expect(refusal(evaluate(fields, { fileSize: 0 }))).toEqual({
      status: 400,
      code: 'EntityTooSmall',
      message: 'Your proposed upload is smaller than the minimum allowed size',
      detail: { ProposedSize: 0, MinSizeAllowed: 1 },
    });
    expect(refusal(evaluate(fields, { fileSize: undefined }))).toEqual({
      status: 400,
      code: 'InvalidArgument',
      message: 'POST requires exactly one file upload per request.',
      detail: { ArgumentName: 'file', ArgumentValue: 0 },
    });
    const expired = new Date(signedAt.getTime() + 901_000);
    expect(refusal(evaluate(fields, { now: expired }))).toMatchObject({
      status: 403,
      message: 'Invalid according to Policy: Policy expired.',
    });
  });

  test('verifyPostSignature alone accepts the signed fields', () => {
    expect(verifyPostSignature(formOf(post.fields), CREDENTIALS)).toEqual({ ok: true });
  });
});

describe('checkPostPolicy', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  const check = (conditions: unknown[], fields: FormField[], fileSize = 10) =>
    refusal(checkPostPolicy({ expiration: '2030-01-01T00:15:00.000Z', conditions }, { fields, fileSize, bucket: BUCKET, now }));

  test('starts-with matches a prefix; "" matches any value of a field that is sent, and fails one that is not', () => {
    const conditions = [
      ['starts-with', '$key', 'user/'],
      ['starts-with', '$x-amz-meta-tag', ''],
    ];
    expect(
      check(conditions, [
        ['key', 'user/a.png'],
        ['x-amz-meta-tag', 'anything'],
      ]),
    ).toBe('accepted');
    expect(
      check(conditions, [
        ['key', 'users/a.png'],
        ['x-amz-meta-tag', ''],
      ]),
    ).toMatchObject({
      message: 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "user/"]',
    });
    expect(check(conditions, [['key', 'user/a.png']])).toMatchObject({
      message: 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$x-amz-meta-tag", ""]',
    });
  });

  test('values are compared exactly (case included), names are not', () => {
    expect(check([{ 'Content-Type': 'image/png' }], [['CONTENT-TYPE', 'image/png']])).toBe('accepted');
    expect(check([['EQ', '$content-type', 'image/png']], [['Content-Type', 'image/PNG']])).toMatchObject({ code: 'AccessDenied' });
  });

  test('an object condition with several members is one exact match per member; ranges may be written as digit strings', () => {
    const conditions = [{ key: 'a.png', acl: 'private' }, ['content-length-range', '1', '10']];
    expect(
      check(conditions, [
        ['key', 'a.png'],
        ['acl', 'private'],
      ]),
    ).toBe('accepted');
    expect(
      check(conditions, [
        ['key', 'a.png'],
        ['acl', 'public-read'],
      ]),
    ).toMatchObject({
      message: 'Invalid according to Policy: Policy Condition failed: ["eq", "$acl", "private"]',
    });
    expect(
      check(
        conditions,
        [
          ['key', 'a.png'],
          ['acl', 'private'],
        ],
        11,
      ),
    ).toMatchObject({ code: 'EntityTooLarge' });
  });

  test('every uncovered field is named', () => {
    expect(
      check(
        [{ key: 'a.png' }],
        [
          ['key', 'a.png'],
          ['Content-Type', 'image/png'],
          ['acl', 'private'],
        ],
      ),
    ).toMatchObject({
      message: 'Invalid according to Policy: Extra input fields: content-type, acl',
    });
  });

  test.each([
    [['content-length-range', 10, 1]],
    [['content-length-range', -1, 10]],
    [['content-length-range', 1]],
    [['in', '$key', 'a.png']],
    [['eq', 'key', 'a.png']],
    [['eq', '$key', 7]],
    [{ key: 7 }],
    [{}],
    ['key'],
    [null],
  ])('a malformed condition %j is an InvalidPolicyDocument', (condition) => {
    expect(check([condition], [])).toMatchObject({ status: 400, code: 'InvalidPolicyDocument' });
  });

  test('an unreadable expiration is an InvalidPolicyDocument', () => {
    const verdict = checkPostPolicy({ expiration: 'tomorrow', conditions: [] }, { fields: [], fileSize: 1, bucket: BUCKET, now });
    expect(refusal(verdict)).toMatchObject({ status: 400, code: 'InvalidPolicyDocument' });
  });

  test('never throws, whatever the conditions and fields', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue()), fc.array(fc.tuple(fc.string(), fc.string())), fc.nat(), (conditions, fields, fileSize) => {
        const verdict = checkPostPolicy({ expiration: '2030-01-01T00:15:00Z', conditions }, { fields, fileSize, bucket: BUCKET, now });
        expect(typeof verdict.ok).toBe('boolean');
      }),
    );
  });

  test('an exact match accepts the signed value and no other', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (signed, sent) => {
        expect(check([{ key: signed }], [['key', sent]]) === 'accepted').toBe(signed === sent);
      }),
    );
  });
});

describe('decodePostPolicy', () => {
  const encode = (text: string) => Buffer.from(text).toString('base64');
  test.each([
    ['not JSON', encode('{"expiration":'), 'Invalid Policy: Invalid JSON.'],
    ['not an object', encode('[1, 2]'), 'Invalid Policy: Invalid JSON.'],
    ['no expiration', encode('{"conditions": []}'), 'Invalid Policy: Policy missing expiration.'],
    ['no conditions', encode('{"expiration": "2030-01-01T00:00:00Z"}'), 'Invalid Policy: Policy missing conditions.'],
  ])('%s: 400 InvalidPolicyDocument', (_name, encoded, message) => {
    expect(refusal(decodePostPolicy(encoded))).toEqual({ status: 400, code: 'InvalidPolicyDocument', message });
  });
});

test("s3ErrorXml writes S3's error document, escaped", () => {
  const xml = s3ErrorXml({
    status: 403,
    code: 'AccessDenied',
    message: 'Policy Condition failed: ["eq", "$key", "a<b>&c"]',
    detail: { Size: 3 },
  });
  expect(xml).toMatch(
    /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>AccessDenied<\/Code><Message>Policy Condition failed: \[&quot;eq&quot;, &quot;\$key&quot;, &quot;a&lt;b&gt;&amp;c&quot;\]<\/Message><Size>3<\/Size><RequestId>[0-9A-F]{16}<\/RequestId><HostId>[^<]+<\/HostId><\/Error>$/,
  );
});

test('the middleware takes a whole number of bytes as its body limit', () => {
  expect(() => postPolicyMiddleware({ credentials: CREDENTIALS, maxBodyBytes: 0 })).toThrow(
    'maxBodyBytes: expected a whole number of at least 1, got 0',
  );
  expect(() => postPolicyMiddleware({ credentials: CREDENTIALS, maxBodyBytes: 1.5 })).toThrow(/^maxBodyBytes: /);
});
