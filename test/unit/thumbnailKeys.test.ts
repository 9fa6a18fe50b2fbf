import { sqsSafeString } from '../../shared/deadLetter';
import { PermanentError } from '../../shared/errors';
import { MAX_S3_KEY_BYTES, thumbnailKeys } from '../../shared/outputs';

describe('thumbnailKeys', () => {
  test('<size>/<source key>.<format>, largest first', () => {
    expect(thumbnailKeys('holiday/photo.jpg', [256, 1024, 512], 'webp')).toEqual([
      '1024/holiday/photo.jpg.webp',
      '512/holiday/photo.jpg.webp',
      '256/holiday/photo.jpg.webp',
    ]);
  });

  test('keys are taken literally: a leading slash or dots stay as they are', () => {
    expect(thumbnailKeys('/a/../b.png', [256], 'jpeg')).toEqual(['256//a/../b.png.jpeg']);
  });

  test("a key that would exceed S3's 1,024-byte limit is a permanent key-too-long", () => {
    const longKey = 'é'.repeat((MAX_S3_KEY_BYTES - 8) / 2);
    expect(() => thumbnailKeys(longKey, [256], 'webp')).toThrow(PermanentError);
    try {
      thumbnailKeys(longKey, [256], 'webp');
    } catch (error) {
      expect((error as PermanentError).reason).toBe('key-too-long');
    }
    expect(() => thumbnailKeys('a'.repeat(MAX_S3_KEY_BYTES - 10), [1], 'webp')).not.toThrow();
  });
});

describe('sqsSafeString', () => {
  test('replaces control characters SQS refuses in attribute values', () => {
    expect(sqsSafeString('a\u0000b\u0007c\td')).toBe('a\uFFFDb\uFFFDc\td');
  });
  test('keeps unicode, including astral characters', () => {
    expect(sqsSafeString('日本 😀')).toBe('日本 😀');
  });
  test('caps the length', () => {
    expect(sqsSafeString('x'.repeat(5000)).length).toBe(1024);
  });
});
