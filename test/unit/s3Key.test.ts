import fc from 'fast-check';
import { decodeS3EventKey, encodeS3EventKey } from '../../shared/s3Key';

describe('decodeS3EventKey', () => {
  test.each([
    ['holiday/photo.jpg', 'holiday/photo.jpg'],
    ['my+photo.jpg', 'my photo.jpg'],
    ['a%2Bb.jpg', 'a+b.jpg'],
    ['caf%C3%A9/%E6%97%A5%E6%9C%AC.png', 'café/日本.png'],
    ['50%25+off.jpg', '50% off.jpg'],
    ['%2B%2B+%2B.jpg', '++ +.jpg'],
  ])('%s -> %s', (encoded, decoded) => {
    expect(decodeS3EventKey(encoded)).toBe(decoded);
  });

  test('rejects broken percent escapes instead of guessing', () => {
    expect(() => decodeS3EventKey('bad%E0%A4%A.jpg')).toThrow(URIError);
  });

  test('property: any key survives S3 form-encoding and back', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }), (key) => {
        expect(decodeS3EventKey(encodeS3EventKey(key))).toBe(key);
      }),
      { numRuns: 2000 },
    );
  });

  test('property: decoding never turns an encoded plus into a space', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('+', ' ', 'a', '/', '%'), { minLength: 1, maxLength: 30 }), (chars) => {
        const key = chars.join('');
        const decoded = decodeS3EventKey(encodeS3EventKey(key));
        expect(decoded.split('+').length).toBe(key.split('+').length);
      }),
    );
  });
});
