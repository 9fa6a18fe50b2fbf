import fc from 'fast-check';
import { authorize, callerFromClaims, callerOf, claimValues } from '../../shared/api/auth';
import { ApiError } from '../../shared/api/errors';
import { checkFilename, checkUploadRequest, keySafeName, UPLOAD_CONTENT_TYPES, uploadKey } from '../../shared/api/uploads';

const LIMIT = 50 * 1024 * 1024;
const valid = { filename: 'photo.jpg', contentType: 'image/jpeg', size: 1234 };

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApiError) return `${error.status} ${error.code}`;
    throw error;
  }
  return undefined;
};

describe('POST /uploads request', () => {
  test('a well-formed request is accepted, the content type normalised', () => {
    expect(checkUploadRequest({ ...valid, contentType: ' Image/PNG ' }, LIMIT)).toEqual({ ...valid, contentType: 'image/png' });
  });

  test.each([
    ['not an object', [], '400 invalid-request'],
    ['no filename', { ...valid, filename: undefined }, '400 invalid-filename'],
    ['a missing size', { ...valid, size: undefined }, '400 invalid-size'],
    ['a size of 0', { ...valid, size: 0 }, '400 invalid-size'],
    ['a fractional size', { ...valid, size: 1.5 }, '400 invalid-size'],
    ['a size as a string', { ...valid, size: '100' }, '400 invalid-size'],
    ['a size over the limit', { ...valid, size: LIMIT + 1 }, '400 too-large'],
    ['no content type', { ...valid, contentType: undefined }, '400 unsupported-content-type'],
    ['a non-image content type', { ...valid, contentType: 'application/pdf' }, '400 unsupported-content-type'],
    ['SVG (a vector format that can reference other files)', { ...valid, contentType: 'image/svg+xml' }, '400 unsupported-content-type'],
  ])('%s is refused', (_, body, code) => {
    expect(codeOf(() => checkUploadRequest(body, LIMIT))).toBe(code);
  });

  test('the size limit is inclusive', () => {
    expect(checkUploadRequest({ ...valid, size: LIMIT }, LIMIT).size).toBe(LIMIT);
  });

  test('every accepted content type is an image type', () => {
    for (const type of UPLOAD_CONTENT_TYPES) expect(type).toMatch(/^image\//);
  });
});

describe('filenames', () => {
  test.each([
    '../etc/passwd',
    '..',
    '.',
    '/absolute.jpg',
    'C:\\photos\\a.jpg',
    'C:photo.jpg',
    'dir/photo.jpg',
    'photo\u0000.jpg',
    'line\nbreak.jpg',
    ' ',
    'x'.repeat(256),
  ])('%j is refused', (name) => {
    expect(codeOf(() => checkFilename(name))).toBe('400 invalid-filename');
  });

  test('a name with spaces, brackets and accents is kept as a name', () => {
    expect(checkFilename('Été (1).JPG')).toBe('Été (1).JPG');
    expect(keySafeName('Été (1).JPG')).toBe('Ete-1-.JPG');
  });

  test('the key name is never empty, never a dot file, and keeps a short extension when cut', () => {
    expect(keySafeName('???')).toBe('upload');
    expect(keySafeName('.hidden')).toBe('hidden');
    const long = keySafeName(`${'a'.repeat(300)}.jpeg`);
    expect(long).toHaveLength(100);
    expect(long.endsWith('.jpeg')).toBe(true);
  });

  test('any accepted filename gives a key inside its own upload folder', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 255 }), (name) => {
        let accepted: string;
        try {
          accepted = checkFilename(name);
        } catch {
          return;
        }
        const key = uploadKey('u/', accepted, new Date('2026-12-02T10:00:00Z'), 'id-1');
        expect(key.startsWith('u/2026-12-02/id-1/')).toBe(true);
        const last = key.slice('u/2026-12-02/id-1/'.length);
        expect(last).toMatch(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$/);
      }),
    );
  });
});

describe('auth decisions', () => {
  const admin = { scope: 'pipeline/admin', group: 'admin' };

  test('array claims read alike whether API Gateway flattened them, a JSON array or a space-separated list', () => {
    expect(claimValues('[admin editors]')).toEqual(['admin', 'editors']);
    expect(claimValues(['admin', 'editors'])).toEqual(['admin', 'editors']);
    expect(claimValues('openid pipeline/admin')).toEqual(['openid', 'pipeline/admin']);
    expect(claimValues(undefined)).toEqual([]);
  });

  test('an operator by scope or by group; anyone else with a token is a user; no claims is anonymous', () => {
    expect(callerFromClaims({ sub: 'a', scope: 'openid pipeline/admin' }, admin)).toEqual({ kind: 'admin', subject: 'a' });
    expect(callerFromClaims({ sub: 'b', 'cognito:groups': '[admin]' }, admin)).toEqual({ kind: 'admin', subject: 'b' });
    expect(callerFromClaims({ sub: 'c', 'cognito:groups': '[administrators]', scope: 'pipeline/admins' }, admin)).toEqual({
      kind: 'user',
      subject: 'c',
    });
    expect(callerFromClaims(undefined, admin)).toEqual({ kind: 'anonymous' });
  });

  test('locally every caller is an operator; with jwt the claims decide', () => {
    expect(callerOf(undefined, { auth: 'local', admin })).toEqual({ kind: 'admin', subject: 'local' });
    expect(callerOf(undefined, { auth: 'jwt', admin })).toEqual({ kind: 'anonymous' });
  });

  test.each([
    ['public', { kind: 'anonymous' }, undefined],
    ['user', { kind: 'anonymous' }, '401 unauthorized'],
    ['user', { kind: 'user', subject: 's' }, undefined],
    ['admin', { kind: 'user', subject: 's' }, '403 forbidden'],
    ['admin', { kind: 'admin', subject: 's' }, undefined],
  ] as const)('a %s route for a %o caller: %s', (access, caller, code) => {
    expect(codeOf(() => authorize(access, caller))).toBe(code);
  });
});
