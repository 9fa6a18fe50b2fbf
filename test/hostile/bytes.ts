import zlib from 'node:zlib';

/**
 * Byte-level builders for hostile files that no encoder will write: PNG chunks with correct CRCs,
 * zlib streams that inflate to far more than they weigh, JPEG segment surgery, TIFF directories.
 */

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(...parts: Buffer[]): number {
  let crc = 0xffffffff;
  for (const part of parts) for (const byte of part) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const u32be = (value: number) => {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value >>> 0);
  return buffer;
};

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function pngChunk(type: string, data: Buffer): Buffer {
  const name = Buffer.from(type, 'latin1');
  return Buffer.concat([u32be(data.length), name, data, u32be(crc32(name, data))]);
}

/** IHDR for an 8-bit (or 16-bit) non-interlaced image; colour types: 0 grey, 2 RGB, 4 grey+alpha, 6 RGBA. */
export function ihdr(width: number, height: number, colourType: number, bitDepth = 8): Buffer {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width >>> 0, 0);
  data.writeUInt32BE(height >>> 0, 4);
  data[8] = bitDepth;
  data[9] = colourType;
  return pngChunk('IHDR', data); // compression, filter and interlace methods all 0
}

/** The same IHDR with the interlace method set to Adam7. */
export function interlacedIhdr(width: number, height: number, colourType: number, bitDepth = 8): Buffer {
  const data = Buffer.from(ihdr(width, height, colourType, bitDepth).subarray(8, 21));
  data[12] = 1;
  return pngChunk('IHDR', data);
}

/** Bytes of filtered image data in an Adam7-interlaced PNG: seven reduced images, each row with its filter byte. */
export function adam7DataLength(width: number, height: number, bytesPerPixel: number): number {
  const passes = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ];
  let total = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const passWidth = width > x0 ? Math.ceil((width - x0) / dx) : 0;
    const passHeight = height > y0 ? Math.ceil((height - y0) / dy) : 0;
    if (passWidth && passHeight) total += passHeight * (1 + passWidth * bytesPerPixel);
  }
  return total;
}

export const png = (...chunks: Buffer[]) => Buffer.concat([PNG_SIGNATURE, ...chunks, pngChunk('IEND', Buffer.alloc(0))]);

/**
 * A zlib stream that inflates to `length` zero bytes while weighing about length/1000 bytes. One
 * megabyte of zeros is deflated once with a full flush (byte-aligned, no back-references across it),
 * and that block is repeated; the Adler-32 of n zeros is ((n mod 65521) << 16) | 1. For a PNG whose
 * rows all use filter type 0 (None), all-zero data is a valid, black (or transparent) image.
 */
export function zeroZlibStream(length: number): Buffer {
  const MB = 1 << 20;
  const fullFlush = { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH };
  const block = zlib.deflateRawSync(Buffer.alloc(MB), fullFlush);
  const parts: Buffer[] = [Buffer.from([0x78, 0xda])];
  for (let i = 0; i < Math.floor(length / MB); i++) parts.push(block);
  if (length % MB) parts.push(zlib.deflateRawSync(Buffer.alloc(length % MB), fullFlush));
  parts.push(Buffer.from([0x03, 0x00])); // final, fixed-Huffman block holding only end-of-block
  parts.push(u32be(((length % 65521) << 16) | 1));
  return Buffer.concat(parts);
}

export interface JpegSegment {
  marker: number;
  /** Offset of the 0xFF of the marker. */
  offset: number;
  /** Offset of the segment's payload (after the two length bytes). */
  payload: number;
  /** Payload length, excluding the length field. */
  length: number;
}

/** The marker segments of a JPEG up to and including the first SOS. */
export function jpegSegments(jpeg: Buffer): JpegSegment[] {
  const segments: JpegSegment[] = [];
  let at = 2;
  while (at + 4 <= jpeg.length) {
    if (jpeg[at] !== 0xff) throw new Error(`no marker at ${at}`);
    const marker = jpeg[at + 1];
    const length = jpeg.readUInt16BE(at + 2) - 2;
    segments.push({ marker, offset: at, payload: at + 4, length });
    if (marker === 0xda) break;
    at += 4 + length;
  }
  return segments;
}

export function findSegment(jpeg: Buffer, predicate: (segment: JpegSegment) => boolean): JpegSegment {
  const segment = jpegSegments(jpeg).find(predicate);
  if (!segment) throw new Error('segment not found');
  return segment;
}

export const isSof = (segment: JpegSegment) =>
  segment.marker >= 0xc0 && segment.marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(segment.marker);

/** Removes every APPn segment matching `predicate` and inserts `inserted` right after SOI. */
export function replaceAppSegments(jpeg: Buffer, predicate: (segment: JpegSegment, jpeg: Buffer) => boolean, inserted: Buffer[]): Buffer {
  const segments = jpegSegments(jpeg);
  const kept: Buffer[] = [jpeg.subarray(0, 2), ...inserted];
  let cursor = 2;
  for (const segment of segments) {
    if (predicate(segment, jpeg)) {
      kept.push(jpeg.subarray(cursor, segment.offset));
      cursor = segment.payload + segment.length;
    }
  }
  kept.push(jpeg.subarray(cursor));
  return Buffer.concat(kept);
}

export function jpegSegment(marker: number, payload: Buffer): Buffer {
  if (payload.length + 2 > 0xffff) throw new RangeError(`a JPEG segment holds at most 65533 bytes, got ${payload.length}`);
  const header = Buffer.from([0xff, marker, 0, 0]);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([header, payload]);
}

const ICC_SIGNATURE = Buffer.from('ICC_PROFILE\0', 'latin1');
const ICC_CHUNK = 65519; // 65533 - 12 (signature) - 2 (sequence, count)

/** An ICC profile as APP2 segments (split as the ICC spec says, up to 255 chunks of 65519 bytes). */
export function iccSegments(profile: Buffer): Buffer[] {
  const count = Math.ceil(profile.length / ICC_CHUNK);
  if (count > 255) throw new RangeError('an ICC profile spans at most 255 APP2 segments');
  return Array.from({ length: count }, (_, i) =>
    jpegSegment(0xe2, Buffer.concat([ICC_SIGNATURE, Buffer.from([i + 1, count]), profile.subarray(i * ICC_CHUNK, (i + 1) * ICC_CHUNK)])),
  );
}

export const isIccSegment = (segment: JpegSegment, jpeg: Buffer) =>
  segment.marker === 0xe2 && jpeg.subarray(segment.payload, segment.payload + 12).equals(ICC_SIGNATURE);

/** Sets (or replaces) the embedded ICC profile of a JPEG without touching its pixels. */
export const withJpegIcc = (jpeg: Buffer, profile: Buffer) => replaceAppSegments(jpeg, isIccSegment, iccSegments(profile));
export const withoutJpegIcc = (jpeg: Buffer) => replaceAppSegments(jpeg, isIccSegment, []);

/** Pads a profile with `extra` bytes after its tag data and fixes the header's size field; the tags stay valid. */
export function padIccProfile(profile: Buffer, extra: number): Buffer {
  const padded = Buffer.concat([profile, Buffer.alloc(extra, 0x5a)]);
  padded.writeUInt32BE(padded.length, 0);
  return padded;
}

/**
 * Overwrites the value of the EXIF Orientation tag (0x0112, SHORT, count 1) in a JPEG's APP1
 * segment, in either byte order, to a value no encoder would write.
 */
export function setExifOrientation(jpeg: Buffer, value: number): Buffer {
  const app1 = findSegment(jpeg, (segment) => segment.marker === 0xe1);
  const exif = jpeg.subarray(app1.payload, app1.payload + app1.length);
  const littleEndian = exif.subarray(6, 8).toString('latin1') === 'II';
  const entry = littleEndian
    ? Buffer.from([0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00])
    : Buffer.from([0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01]);
  const at = exif.indexOf(entry);
  if (at < 0) throw new Error('no Orientation entry in the EXIF segment');
  const patched = Buffer.from(jpeg);
  const valueAt = app1.payload + at + 8;
  if (littleEndian) patched.writeUInt16LE(value, valueAt);
  else patched.writeUInt16BE(value, valueAt);
  return patched;
}

/** Little-endian TIFF directory entry: tag, type, count, value (or offset). */
export function tiffEntry(tag: number, type: number, count: number, value: number): Buffer {
  const entry = Buffer.alloc(12);
  entry.writeUInt16LE(tag, 0);
  entry.writeUInt16LE(type, 2);
  entry.writeUInt32LE(count, 4);
  if (type === 3 && count === 1) entry.writeUInt16LE(value, 8);
  else entry.writeUInt32LE(value >>> 0, 8);
  return entry;
}

export const SHORT = 3;
export const LONG = 4;

/** A little-endian TIFF with one directory at offset 8 (entries sorted by tag), followed by `tail`. */
export function tiff(entries: Buffer[], nextIfd: number, tail: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.from([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0]);
  const count = Buffer.alloc(2);
  count.writeUInt16LE(entries.length);
  const next = Buffer.alloc(4);
  next.writeUInt32LE(nextIfd);
  return Buffer.concat([header, count, ...entries, next, tail]);
}

/** Where the bytes after the single directory written by `tiff()` begin. */
export const tiffTailOffset = (entryCount: number) => 8 + 2 + entryCount * 12 + 4;

/**
 * A 32-bit float RGBA TIFF (16 bytes a pixel), deflate-compressed in strips of 16 rows of zeros.
 * Every strip offset points at the same compressed strip, so the file stays a few KB at any size.
 */
export function floatRgbaTiff(width: number, height: number): Buffer {
  const rowsPerStrip = 16;
  const strips = Math.ceil(height / rowsPerStrip);
  const strip = zeroZlibStream(width * rowsPerStrip * 16);
  const entryCount = 12;
  const offsetsAt = tiffTailOffset(entryCount);
  const countsAt = offsetsAt + strips * 4;
  const bitsAt = countsAt + strips * 4;
  const formatsAt = bitsAt + 8;
  const dataAt = formatsAt + 8;
  const arrays = Buffer.alloc(dataAt - offsetsAt);
  for (let i = 0; i < strips; i++) {
    arrays.writeUInt32LE(dataAt, i * 4);
    arrays.writeUInt32LE(strip.length, countsAt - offsetsAt + i * 4);
  }
  for (let sample = 0; sample < 4; sample++) {
    arrays.writeUInt16LE(32, bitsAt - offsetsAt + sample * 2);
    arrays.writeUInt16LE(3, formatsAt - offsetsAt + sample * 2); // SampleFormat: IEEE float
  }
  const entries = [
    tiffEntry(256, LONG, 1, width),
    tiffEntry(257, LONG, 1, height),
    tiffEntry(258, SHORT, 4, bitsAt), // BitsPerSample: 32 x 4
    tiffEntry(259, SHORT, 1, 8), // Compression: deflate
    tiffEntry(262, SHORT, 1, 2), // Photometric: RGB
    tiffEntry(273, LONG, strips, offsetsAt),
    tiffEntry(277, SHORT, 1, 4), // SamplesPerPixel
    tiffEntry(278, LONG, 1, rowsPerStrip),
    tiffEntry(279, LONG, strips, countsAt),
    tiffEntry(284, SHORT, 1, 1), // PlanarConfiguration: contiguous
    tiffEntry(338, SHORT, 1, 2), // ExtraSamples: unassociated alpha
    tiffEntry(339, SHORT, 4, formatsAt),
  ];
  return tiff(entries, 0, Buffer.concat([arrays, strip]));
}

/** A deterministic byte stream (mulberry32), for noise that does not change between runs. */
export function noise(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}
