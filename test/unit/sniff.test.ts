import type { PermanentError } from '../../shared/errors';
import { requireAllowedFormat, sniffFormat } from '../../shared/image/sniff';

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part))));
const ftyp = (major: string, ...compatible: string[]) => {
  const size = 16 + compatible.length * 4;
  return bytes([0, 0, 0, size], 'ftyp', major, [0, 0, 0, 0], ...compatible, [0, 0, 0, 8]);
};

describe('sniffFormat', () => {
  test.each([
    [bytes([0xff, 0xd8, 0xff, 0xe0]), 'jpeg'],
    [bytes([0x89], 'PNG\r\n', [0x1a, 0x0a]), 'png'],
    [bytes('GIF89a'), 'gif'],
    [bytes('GIF87a'), 'gif'],
    [bytes('RIFF', [1, 2, 3, 4], 'WEBPVP8 '), 'webp'],
    [bytes('II', [0x2a, 0]), 'tiff'],
    [bytes('MM', [0, 0x2a]), 'tiff'],
    [ftyp('avif', 'mif1', 'miaf'), 'avif'],
    [ftyp('mif1', 'avif'), 'avif'],
  ])('recognises %#', (input, format) => {
    expect(sniffFormat(input)).toEqual({ format });
  });

  test.each([
    [ftyp('heic', 'mif1'), 'heif'],
    [bytes('%PDF-1.7\n'), 'pdf'],
    [bytes('<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>'), 'svg'],
    [bytes('<?xml version="1.0"?>\n<svg></svg>'), 'svg'],
    [bytes('BM', [0, 0, 0, 0]), 'bmp'],
  ])('flags refused formats %#', (input, format) => {
    expect(sniffFormat(input)).toEqual({ format, allowed: false });
  });

  test('ignores the extension: text is text', () => {
    expect(sniffFormat(bytes('<html><body>photo.jpg</body></html>'))).toBeUndefined();
  });
});

describe('requireAllowedFormat', () => {
  const reasonFor = (input: Buffer) => {
    try {
      requireAllowedFormat(input);
      return 'allowed';
    } catch (error) {
      return (error as PermanentError).reason;
    }
  };
  test('empty objects are not images', () => expect(reasonFor(Buffer.alloc(0))).toBe('not-an-image'));
  test('unknown bytes are not images', () => expect(reasonFor(bytes('hello world'))).toBe('not-an-image'));
  test('vector and document formats are unsupported', () => {
    expect(reasonFor(bytes('%PDF-1.4'))).toBe('unsupported-format');
    expect(reasonFor(bytes('<svg></svg>'))).toBe('unsupported-format');
    expect(reasonFor(ftyp('heic'))).toBe('unsupported-format');
  });
  test('raster images pass', () => expect(reasonFor(bytes([0xff, 0xd8, 0xff, 0xdb]))).toBe('allowed'));
});
