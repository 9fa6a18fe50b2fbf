import { PermanentError } from '../errors';

/** Raster formats the pipeline decodes. Vector and document formats (SVG, PDF) can reference other files, so they are refused. */
const ALLOWED_INPUT_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const;
export type InputFormat = (typeof ALLOWED_INPUT_FORMATS)[number];

/** Bytes needed to recognise every signature below. */
const SNIFF_BYTES = 64;

const startsWith = (bytes: Buffer, signature: number[], offset = 0) =>
  bytes.length >= offset + signature.length && signature.every((byte, i) => bytes[offset + i] === byte);
const ascii = (bytes: Buffer, start: number, end: number) => bytes.subarray(start, end).toString('latin1');

const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1']);

/** ISO-BMFF `ftyp` box: major brand at 8, compatible brands from 16 to the box's end. */
function ftypBrands(bytes: Buffer): string[] {
  if (bytes.length < 12 || ascii(bytes, 4, 8) !== 'ftyp') return [];
  const boxEnd = Math.min(bytes.readUInt32BE(0), bytes.length);
  const brands = [ascii(bytes, 8, 12)];
  for (let at = 16; at + 4 <= boxEnd; at += 4) brands.push(ascii(bytes, at, at + 4));
  return brands;
}

export type SniffResult = { format: InputFormat } | { format: string; allowed: false };

/** Identifies the real format from the leading bytes; never from the key's extension or Content-Type. */
export function sniffFormat(bytes: Buffer): SniffResult | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { format: 'jpeg' };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { format: 'png' };
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return { format: 'gif' };
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return { format: 'webp' };
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return { format: 'tiff' };
  const brands = ftypBrands(bytes);
  if (brands.some((brand) => AVIF_BRANDS.has(brand))) return { format: 'avif' };
  if (brands.some((brand) => HEIF_BRANDS.has(brand))) return { format: 'heif', allowed: false };
  if (ascii(bytes, 0, 5) === '%PDF-') return { format: 'pdf', allowed: false };
  if (startsWith(bytes, [0x42, 0x4d])) return { format: 'bmp', allowed: false };
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00])) return { format: 'ico', allowed: false };
  const text = ascii(bytes, 0, Math.min(bytes.length, SNIFF_BYTES))
    .replace(/^\uFEFF|^\xEF\xBB\xBF/, '')
    .trimStart()
    .toLowerCase();
  if (text.startsWith('<svg') || ((text.startsWith('<?xml') || text.startsWith('<!doctype svg')) && bytes.includes('<svg'))) {
    return { format: 'svg', allowed: false };
  }
  return undefined;
}

/** Throws the permanent failure for anything that is not an allowed raster image. */
export function requireAllowedFormat(bytes: Buffer): InputFormat {
  if (bytes.length === 0) throw new PermanentError('not-an-image', 'the object is empty (0 bytes)');
  const sniffed = sniffFormat(bytes);
  if (!sniffed) throw new PermanentError('not-an-image', 'the bytes match no known image signature');
  if ('allowed' in sniffed) {
    throw new PermanentError('unsupported-format', `${sniffed.format} is not accepted; allowed: ${ALLOWED_INPUT_FORMATS.join(', ')}`);
  }
  return sniffed.format;
}
