import fc from 'fast-check';
import { encodeS3EventKey } from '../../shared/s3Key';

const decode = (encoded: string) => decodeURIComponent(encoded.replace(/\+/g, ' '));

describe('encodeS3EventKey (what the local fan-out writes into notifications)', () => {
  test.each([
    ['holiday/photo.jpg', 'holiday/photo.jpg'],
    ['red flower.jpg', 'red+flower.jpg'],
    ['a+b.jpg', 'a%2Bb.jpg'],
    ['samples/my photo+1 ü.jpg', 'samples/my+photo%2B1+%C3%BC.jpg'],
    ['50% off.jpg', '50%25+off.jpg'],
    ['dt=2018-05-04/_SUCCESS', 'dt%3D2018-05-04/_SUCCESS'],
    ['copy (1).png', 'copy+%281%29.png'],
    ['10:47:07,x;y.log', '10%3A47%3A07%2Cx%3By.log'],
    ["it's~here!", 'it%27s%7Ehere%21'],
    ['a*b-c_d.e', 'a*b-c_d.e'],
    ['日本/写真.png', '%E6%97%A5%E6%9C%AC/%E5%86%99%E7%9C%9F.png'],
    ['emoji 😀.jpg', 'emoji+%F0%9F%98%80.jpg'],
  ])('%s -> %s', (key, encoded) => {
    expect(encodeS3EventKey(key)).toBe(encoded);
  });

  test('a lone surrogate (not valid UTF-8, so never a real key) becomes U+FFFD instead of throwing', () => {
    expect(encodeS3EventKey('a\uD800b')).toBe('a%EF%BF%BDb');
  });

  test('property: every key round-trips through the decoding the handlers use', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }), (key) => {
        expect(decode(encodeS3EventKey(key))).toBe(key);
      }),
      { numRuns: 3000 },
    );
  });

  test('property: the output is plain ASCII with no spaces, and only `/` and unreserved characters stay literal', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 100 }), (key) => {
        expect(encodeS3EventKey(key)).toMatch(/^[A-Za-z0-9\-_.*/+%]*$/);
      }),
    );
  });

  test('property: `/` is never escaped, so prefixes stay readable', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme-ascii', maxLength: 10 }), { minLength: 1, maxLength: 6 }), (segments) => {
        const encoded = encodeS3EventKey(segments.join('/'));
        expect(encoded.split('/').length).toBe(segments.join('/').split('/').length);
      }),
    );
  });
});
