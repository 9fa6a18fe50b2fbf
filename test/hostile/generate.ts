import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { declaredConfig } from '../../shared/config';
import {
  adam7DataLength,
  findSegment,
  floatRgbaTiff,
  ihdr,
  interlacedIhdr,
  isSof,
  LONG,
  noise,
  PNG_SIGNATURE,
  padIccProfile,
  png,
  pngChunk,
  SHORT,
  setExifOrientation,
  tiff,
  tiffEntry,
  tiffTailOffset,
  withJpegIcc,
  withoutJpegIcc,
  zeroZlibStream,
} from './bytes';

/**
 * Hostile inputs for the resize path, built from scratch on every run: nothing here depends on the
 * machine, the clock or a random seed that changes, so the same sharp version writes the same bytes.
 * Each file is named as it would be uploaded (an extension may lie on purpose). Run directly
 * (`npx tsx test/hostile/generate.ts <dir> [--heavy]`) to look at the files; that also writes
 * `manifest.json`, which is how the integration test reads them (it generates in a child process,
 * so the encoder's memory does not count in its peak RSS).
 */

export interface HostileFile {
  /** Upload key, relative: `<name>`. */
  name: string;
  data: Buffer;
  /** What the file is and how it was made. */
  about: string;
}

const RGB = 3;

/** Four flat quadrants (so colours can be sampled after resizing) under a faint deterministic texture (so JPEGs have real scan data). */
export const QUADRANTS = {
  topLeft: [220, 30, 30],
  topRight: [30, 170, 60],
  bottomLeft: [30, 60, 200],
  bottomRight: [230, 210, 40],
} as const;

function scene(width: number, height: number): Buffer {
  const texture = noise(width * height, 7);
  const pixels = Buffer.alloc(width * height * RGB);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const colour =
        y < height / 2
          ? x < width / 2
            ? QUADRANTS.topLeft
            : QUADRANTS.topRight
          : x < width / 2
            ? QUADRANTS.bottomLeft
            : QUADRANTS.bottomRight;
      const jitter = (texture[y * width + x] % 13) - 6;
      const at = (y * width + x) * RGB;
      for (let c = 0; c < RGB; c++) pixels[at + c] = Math.max(0, Math.min(255, colour[c] + jitter));
    }
  }
  return pixels;
}

const fromRaw = (pixels: Buffer, width: number, height: number, channels: 1 | 2 | 3 | 4 = RGB, pageHeight?: number) =>
  sharp(pixels, { raw: { width, height, channels, ...(pageHeight ? { pageHeight } : {}) } });

/** Horizontal bands of flat colour, one per entry, for files whose colours are checked exactly. */
function bands(width: number, height: number, colours: readonly (readonly number[])[]): Buffer {
  const channels = colours[0].length;
  const pixels = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    const colour = colours[Math.floor((y * colours.length) / height)];
    for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) pixels[(y * width + x) * channels + c] = colour[c];
  }
  return pixels;
}

/** Display P3 values stored in the P3 file: a saturated green outside sRGB, and a mid green inside it. */
export const P3_STORED = { saturated: [0, 255, 0], inGamut: [100, 200, 100] } as const;
/** 16-bit PNG bands (16-bit values) and the 8-bit colours they must become. */
export const SIXTEEN_BIT = {
  stored: [
    [65535, 0, 0],
    [0, 32896, 65535],
  ],
  expected: [
    [255, 0, 0],
    [0, 128, 255],
  ],
} as const;
/** Grey+alpha PNG bands: [grey, alpha]. */
export const GREY_ALPHA = [
  [200, 255],
  [50, 128],
] as const;
/** Multi-page TIFF and animated WebP/GIF page colours; only the first may appear in thumbnails. */
export const PAGE_COLOURS = [
  [220, 30, 30],
  [30, 170, 60],
  [30, 60, 200],
] as const;

const text = (value: string) => Buffer.from(value, 'utf8');

function svgReferencing(href: string): string {
  return [
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="640" height="480">',
    `  <image href="${href}" width="640" height="480"/>`,
    `  <image xlink:href="${href}" width="640" height="480"/>`,
    '</svg>',
  ].join('\n');
}

const MINIMAL_PDF = (() => {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>',
    '<< /Length 35 >>\nstream\n0 0 1 rg 72 72 468 648 re f\nendstream',
  ];
  let body = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(Buffer.byteLength(body, 'latin1'));
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = Buffer.byteLength(body, 'latin1');
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  body += offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('');
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
})();

/** ISO-BMFF box. */
const box = (type: string, ...payload: Buffer[]) => {
  const body = Buffer.concat(payload);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
};
const fullBox = (type: string, version: number, ...payload: Buffer[]) => box(type, Buffer.from([version, 0, 0, 0]), ...payload);

/**
 * What a phone's HEIC looks like to anything that reads its first boxes: `ftyp heic` (compatible
 * mif1, heic), a `meta` box naming an `hvc1` primary item, and an `mdat`. sharp's prebuilt libvips
 * has no HEVC encoder, so a real one cannot be made here, and sniffing only reads the `ftyp` box.
 */
const CRAFTED_HEIC = Buffer.concat([
  box('ftyp', text('heic'), Buffer.alloc(4), text('mif1'), text('heic')),
  fullBox(
    'meta',
    0,
    fullBox('hdlr', 0, Buffer.alloc(4), text('pict'), Buffer.alloc(12), Buffer.from([0])),
    fullBox('pitm', 0, Buffer.from([0, 1])),
    fullBox('iinf', 0, Buffer.from([0, 1]), fullBox('infe', 2, Buffer.from([0, 1, 0, 0]), text('hvc1'), Buffer.from([0]))),
  ),
  box('mdat', noise(256, 11)),
]);

/** A 2x2 24-bit BMP. */
const TINY_BMP = (() => {
  const header = Buffer.alloc(54);
  header.write('BM', 0, 'latin1');
  header.writeUInt32LE(54 + 16, 2);
  header.writeUInt32LE(54, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(2, 18);
  header.writeInt32LE(2, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(24, 28);
  header.writeUInt32LE(16, 34);
  return Buffer.concat([header, noise(16, 3)]);
})();

async function jpegFiles(): Promise<HostileFile[]> {
  const [width, height] = [1200, 900];
  const picture = scene(width, height);
  const baseline = await fromRaw(picture, width, height).jpeg({ quality: 90 }).toBuffer();
  const progressive = await fromRaw(picture, width, height).jpeg({ quality: 90, progressive: true }).toBuffer();
  const truncate = (at: number) => baseline.subarray(0, at);

  const sof = findSegment(baseline, isSof);
  const corruptSof = Buffer.from(baseline);
  corruptSof[sof.payload] = 13; // sample precision 13 bits: no baseline decoder accepts it
  corruptSof.fill(0xff, sof.payload + 5, sof.payload + 8); // component count 255, then garbage component specs
  const dqt = findSegment(baseline, (segment) => segment.marker === 0xdb);
  const corruptDqt = Buffer.from(baseline);
  corruptDqt[dqt.payload] = 0x1f; // precision 1 (16-bit) and table id 15 (only 0-3 exist)
  corruptDqt.fill(0, dqt.payload + 1, dqt.payload + 65); // every quantiser zero
  const zeroWidth = Buffer.from(baseline);
  zeroWidth.writeUInt16BE(0, sof.payload + 3);
  const headerBomb = Buffer.from(baseline);
  headerBomb.writeUInt16BE(65500, sof.payload + 1);
  headerBomb.writeUInt16BE(65500, sof.payload + 3);
  const scan = findSegment(baseline, (segment) => segment.marker === 0xda);
  const scrambled = Buffer.from(baseline);
  const middle = scan.payload + scan.length + Math.floor((baseline.length - scan.payload) / 2);
  noise(512, 5).copy(scrambled, middle);

  // Upright it is the scene at 1200x900; stored rotated a quarter turn back, with EXIF orientation 6 and a
  // 60 KB ImageDescription (one APP1 segment holds at most 64 KB).
  const rotated = await fromRaw(picture, width, height).rotate(270).raw().toBuffer();
  const hugeExif = await fromRaw(rotated, height, width)
    .jpeg({ quality: 90 })
    .withExif({ IFD0: { ImageDescription: 'x'.repeat(60000), Software: 'hostile-input generator' } })
    .withMetadata({ orientation: 6 })
    .toBuffer();
  const bogusOrientation = setExifOrientation(
    await fromRaw(picture, width, height).jpeg({ quality: 90 }).withMetadata({ orientation: 1 }).toBuffer(),
    99,
  );

  const srgbProfile = (await sharp(await fromRaw(picture, 8, 8).withIccProfile('srgb').jpeg().toBuffer()).metadata()).icc!;
  const hugeIcc = withJpegIcc(baseline, padIccProfile(srgbProfile, 4 * 1024 * 1024)); // a valid 4 MB profile in 65 APP2 segments
  const garbageIcc = withJpegIcc(baseline, noise(300000, 9));

  const cmykSource = bands(800, 600, PAGE_COLOURS);
  const cmyk = await fromRaw(cmykSource, 800, 600).withIccProfile('cmyk').jpeg({ quality: 92 }).toBuffer();
  const p3Stored = bands(800, 600, [P3_STORED.saturated, P3_STORED.inGamut]);
  const p3Profile = (await sharp(await fromRaw(p3Stored, 8, 8).withIccProfile('p3').jpeg().toBuffer()).metadata()).icc!;
  // The stored values are exactly P3_STORED (withIccProfile would convert them; splicing the profile in does not).
  const p3 = withJpegIcc(await fromRaw(p3Stored, 800, 600).jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer(), p3Profile);

  const trailing = Buffer.concat([baseline, text('SEFT'), noise(4096, 13)]); // phones append vendor trailers after EOI
  const junkBeforeEoi = Buffer.concat([baseline.subarray(0, -2), Buffer.from([0x00, 0x00, 0x00]), baseline.subarray(-2)]);
  // 48 MP: a real phone photo's size; decoded with JPEG shrink-on-load.
  const largeWidth = 8000;
  const largeHeight = 6000;
  const large = await sharp(picture, { raw: { width, height, channels: RGB } })
    .resize(largeWidth, largeHeight, { kernel: 'nearest' })
    .jpeg({ quality: 80 })
    .toBuffer();

  return [
    { name: 'jpeg/truncated-10.jpg', data: truncate(10), about: 'baseline JPEG cut after 10 bytes (inside APP0)' },
    { name: 'jpeg/truncated-100.jpg', data: truncate(100), about: 'cut after 100 bytes (inside the quantisation tables)' },
    { name: 'jpeg/truncated-1000.jpg', data: truncate(1000), about: 'cut after 1000 bytes (headers complete, scan just started)' },
    { name: 'jpeg/truncated-50pct.jpg', data: truncate(Math.floor(baseline.length / 2)), about: 'cut at half its length' },
    { name: 'jpeg/truncated-90pct.jpg', data: truncate(Math.floor(baseline.length * 0.9)), about: 'cut at 90% of its length' },
    { name: 'jpeg/truncated-no-eoi.jpg', data: truncate(baseline.length - 2), about: 'complete scan, only the EOI marker missing' },
    {
      name: 'jpeg/progressive-truncated-50pct.jpg',
      data: progressive.subarray(0, Math.floor(progressive.length / 2)),
      about: 'progressive JPEG cut at half (early scans complete, refinements missing)',
    },
    { name: 'jpeg/magic-only.jpg', data: baseline.subarray(0, 3), about: 'just FF D8 FF' },
    { name: 'jpeg/corrupt-sof.jpg', data: corruptSof, about: 'SOF0 overwritten: 13-bit precision, 255 components' },
    { name: 'jpeg/corrupt-dqt.jpg', data: corruptDqt, about: 'DQT overwritten: table id 15, 16-bit, all quantisers 0' },
    { name: 'jpeg/sof-zero-width.jpg', data: zeroWidth, about: 'SOF0 width 0 (libjpeg reads that as "defined by DNL")' },
    { name: 'jpeg/header-bomb-65500.jpg', data: headerBomb, about: 'SOF0 claims 65500x65500 (4.3 gigapixels) over a 1200x900 scan' },
    { name: 'jpeg/scrambled-scan.jpg', data: scrambled, about: '512 bytes of noise written into the middle of the entropy-coded scan' },
    { name: 'jpeg/trailing-bytes.jpg', data: trailing, about: 'valid JPEG followed by 4 KB after EOI, as some phones write' },
    {
      name: 'jpeg/junk-before-eoi.jpg',
      data: junkBeforeEoi,
      about: '3 stray bytes between the scan and EOI (libjpeg: "extraneous bytes before marker")',
    },
    {
      name: 'jpeg/huge-exif-orientation-6.jpg',
      data: hugeExif,
      about: '60 KB EXIF ImageDescription, orientation 6 (stored 900x1200, upright 1200x900)',
    },
    { name: 'jpeg/exif-orientation-99.jpg', data: bogusOrientation, about: 'EXIF orientation 99 (only 1-8 exist)' },
    { name: 'jpeg/huge-icc-4mb.jpg', data: hugeIcc, about: 'valid sRGB profile padded to 4 MB, in 65 APP2 segments' },
    { name: 'jpeg/garbage-icc.jpg', data: garbageIcc, about: '300 KB of noise as the ICC profile' },
    {
      name: 'jpeg/cmyk.jpg',
      data: cmyk,
      about: 'CMYK JPEG with an embedded 1 MB CMYK profile (sharp withIccProfile cmyk): red, green, blue bands',
    },
    { name: 'jpeg/cmyk-no-icc.jpg', data: withoutJpegIcc(cmyk), about: 'the same CMYK JPEG with its profile removed' },
    { name: 'jpeg/display-p3.jpg', data: p3, about: 'Display P3 profile; stored P3 (0,255,0) over P3 (100,200,100)' },
    { name: 'jpeg/large-48mp.jpg', data: large, about: '8000x6000 JPEG, 48 megapixels' },
  ];
}

async function pngFiles(): Promise<HostileFile[]> {
  const small = await fromRaw(scene(320, 240), 320, 240).png().toBuffer();
  // Written by hand: sharp's raw input reads ushort samples on the 0-255 scale.
  const sixteenRows = Array.from({ length: 64 }, (_, y) => {
    const row = Buffer.alloc(1 + 64 * 6); // filter type 0, then big-endian samples
    const colour = SIXTEEN_BIT.stored[y < 32 ? 0 : 1];
    for (let x = 0; x < 64; x++) colour.forEach((value, c) => row.writeUInt16BE(value, 1 + x * 6 + c * 2));
    return row;
  });
  const sixteenBit = png(ihdr(64, 64, 2, 16), pngChunk('IDAT', zlib.deflateSync(Buffer.concat(sixteenRows))));
  const blackIdat = pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(64 * (1 + 64 * 3))));
  const greyAlpha = await fromRaw(bands(64, 64, GREY_ALPHA), 64, 64, 2)
    .png()
    .toBuffer();

  return [
    {
      name: 'png/bomb-60000x60000.png',
      data: png(ihdr(60000, 60000, 2), pngChunk('IDAT', zeroZlibStream(4096))),
      about: 'IHDR claims 60000x60000 RGB (3.6 gigapixels, 10.8 GB decoded); 4 KB of zeros in the IDAT',
    },
    {
      name: 'png/zlib-bomb-5000x5000.png',
      data: png(ihdr(5000, 5000, 6), pngChunk('IDAT', zeroZlibStream(5000 * (1 + 5000 * 4)))),
      about: '5000x5000 RGBA (25 MP, under the limit): ~100 KB of IDAT inflating to 100 MB of zeros',
    },
    {
      name: 'png/zlib-bomb-10000x10000.png',
      data: png(ihdr(10000, 10000, 2), pngChunk('IDAT', zeroZlibStream(10000 * (1 + 10000 * 3)))),
      about: '10000x10000 RGB, exactly the 100 MP limit: ~300 KB inflating to 300 MB',
    },
    {
      name: 'png/1x1.png',
      data: await fromRaw(Buffer.from([220, 30, 30]), 1, 1)
        .png()
        .toBuffer(),
      about: 'a single red pixel',
    },
    {
      name: 'png/20000x1.png',
      data: await fromRaw(bands(20000, 1, [[30, 60, 200]]), 20000, 1)
        .png()
        .toBuffer(),
      about: 'one blue row, 20000 wide',
    },
    {
      name: 'png/1x20000.png',
      data: await fromRaw(bands(1, 20000, [[30, 60, 200]]), 1, 20000)
        .png()
        .toBuffer(),
      about: 'one blue column, 20000 tall',
    },
    {
      name: 'png/line-100000000x1.png',
      data: png(ihdr(100_000_000, 1, 2), pngChunk('IDAT', zeroZlibStream(1 + 100_000_000 * 3))),
      about: '100,000,000 x 1 RGB: exactly the pixel limit, one 300 MB row (libvips refuses edges over 10,000,000)',
    },
    {
      name: 'png/line-1000000x100.png',
      data: png(ihdr(1_000_000, 100, 2), pngChunk('IDAT', zeroZlibStream(100 * (1 + 1_000_000 * 3)))),
      about: '1,000,000 x 100 RGB: the pixel limit, 300 MB decoded, from 297 KB (peaked at 957 MB before the edge limit)',
    },
    {
      name: 'png/edge-65535x1525-rgba8.png',
      data: png(ihdr(65535, 1525, 6), pngChunk('IDAT', zeroZlibStream(1525 * (1 + 65535 * 4)))),
      about: '65535 x 1525 8-bit RGBA: at the pixel limit with the longest edge allowed, from 395 KB',
    },
    {
      name: 'png/interlaced-10000x10000-rgba16.png',
      data: png(interlacedIhdr(10000, 10000, 6, 16), pngChunk('IDAT', zeroZlibStream(adam7DataLength(10000, 10000, 8)))),
      about: 'Adam7-interlaced 16-bit RGBA at the pixel limit: 800 MB that libvips must decode whole, from 791 KB',
    },
    {
      name: 'png/interlaced-10000x10000-rgba8.png',
      data: png(interlacedIhdr(10000, 10000, 6), pngChunk('IDAT', zeroZlibStream(adam7DataLength(10000, 10000, 4)))),
      about: 'Adam7-interlaced 8-bit RGBA at the pixel limit: 400 MB decoded whole, from 396 KB',
    },
    { name: 'png/16-bit.png', data: sixteenBit, about: '16-bit RGB: (65535,0,0) over (0,32896,65535)' },
    { name: 'png/grey-alpha.png', data: greyAlpha, about: '8-bit grey+alpha: grey 200 opaque over grey 50 at alpha 128' },
    { name: 'png/zero-width.png', data: png(ihdr(0, 16, 2), pngChunk('IDAT', zeroZlibStream(16))), about: 'IHDR width 0, CRC correct' },
    {
      name: 'png/iccp-bomb.png',
      data: png(ihdr(64, 64, 2), pngChunk('iCCP', Buffer.concat([text('bomb\0\0'), zeroZlibStream(200 << 20)])), blackIdat),
      about: '64x64 black PNG whose iCCP profile inflates to 200 MB of zeros',
    },
    {
      name: 'png/ztxt-bomb.png',
      data: png(ihdr(64, 64, 2), pngChunk('zTXt', Buffer.concat([text('Comment\0\0'), zeroZlibStream(200 << 20)])), blackIdat),
      about: '64x64 black PNG with a zTXt comment inflating to 200 MB of zeros',
    },
    { name: 'png/signature-only.png', data: Buffer.from(small.subarray(0, 8)), about: 'the 8-byte PNG signature, nothing else' },
    { name: 'png/truncated-50pct.png', data: small.subarray(0, Math.floor(small.length / 2)), about: '320x240 PNG cut at half' },
    { name: 'png/named-as.jpg', data: small, about: 'a valid PNG uploaded with a .jpg name' },
  ];
}

/**
 * A 16x16 GIF89a with `frames` frames, each one 1x1 pixel placed along the canvas, written by hand
 * (sharp quantises every frame, which takes ~10 ms a frame). Each frame: graphic control extension
 * (delay 2/100 s), image descriptor, LZW minimum code size 2 and the classic one-pixel stream
 * (clear, index 0, end: 44 01).
 */
function animatedGif(frames: number): Buffer {
  const screen = Buffer.from([...Buffer.from('GIF89a', 'latin1'), 16, 0, 16, 0, 0x80, 0, 0, 0xdc, 0x1e, 0x1e, 0x1e, 0x3c, 0xc8]);
  const loop = Buffer.from([0x21, 0xff, 0x0b, ...Buffer.from('NETSCAPE2.0', 'latin1'), 0x03, 0x01, 0x00, 0x00, 0x00]);
  const frame = (i: number) =>
    Buffer.from([
      0x21,
      0xf9,
      0x04,
      0x04,
      0x02,
      0x00,
      0x00,
      0x00,
      0x2c,
      i % 16,
      0,
      Math.floor(i / 16) % 16,
      0,
      1,
      0,
      1,
      0,
      0x00,
      0x02,
      0x02,
      0x44,
      0x01,
      0x00,
    ]);
  return Buffer.concat([screen, loop, ...Array.from({ length: frames }, (_, i) => frame(i)), Buffer.from([0x3b])]);
}

async function animatedAndPagedFiles(): Promise<HostileFile[]> {
  const animation = animatedGif(2000);
  const pages = await fromRaw(bands(400, 300 * 3, PAGE_COLOURS), 400, 900, RGB, 300)
    .tiff({ compression: 'deflate' })
    .toBuffer();
  const manyPages = await fromRaw(noise(8 * 8 * 200 * RGB, 23), 8, 8 * 200, RGB, 8)
    .tiff({ compression: 'deflate' })
    .toBuffer();
  const animatedWebp = await fromRaw(bands(400, 900, PAGE_COLOURS), 400, 900, RGB, 300)
    .webp({ quality: 90, delay: 100 })
    .toBuffer();
  const oneFrameGif = await fromRaw(bands(300, 200, [PAGE_COLOURS[0]]), 300, 200)
    .gif()
    .toBuffer();

  // Logical screen 65535x65535 holding one 1x1 frame.
  const canvasBomb = Buffer.from(oneFrameGif);
  canvasBomb.writeUInt16LE(65535, 6);
  canvasBomb.writeUInt16LE(65535, 8);

  // Uncompressed 8-bit RGB in one strip.
  const entries = (side: number, stripBytes: number) => [
    tiffEntry(256, LONG, 1, side), // ImageWidth
    tiffEntry(257, LONG, 1, side), // ImageLength
    tiffEntry(258, SHORT, 1, 8), // BitsPerSample (one value for all samples is accepted by libtiff)
    tiffEntry(259, SHORT, 1, 1), // Compression: none
    tiffEntry(262, SHORT, 1, 2), // Photometric: RGB
    tiffEntry(273, LONG, 1, tiffTailOffset(9)), // StripOffsets: right after the directory
    tiffEntry(277, SHORT, 1, 3), // SamplesPerPixel
    tiffEntry(278, LONG, 1, side), // RowsPerStrip: the whole image in one strip
    tiffEntry(279, LONG, 1, stripBytes), // StripByteCounts
  ];
  // 8000x8000: one strip that claims 192,000,000 bytes; the file holds 64.
  const hugeStrip = tiff(entries(8000, 8000 * 8000 * 3), 0, noise(64, 17));
  // A valid 4x4 image whose "next directory" offset points back at its own directory.
  const loop = tiff(entries(4, 48), 8, Buffer.from(bands(4, 4, [PAGE_COLOURS[2]])));

  return [
    { name: 'gif/animated-2000-frames.gif', data: animation, about: '16x16 canvas, 2000 frames of one pixel each (hand-written)' },
    { name: 'gif/one-frame.gif', data: oneFrameGif, about: 'a static 300x200 GIF' },
    { name: 'gif/canvas-65535.gif', data: canvasBomb, about: 'logical screen 65535x65535 around a 300x200 frame' },
    { name: 'tiff/multipage-3.tiff', data: pages, about: '3 pages of 400x300: red, green, blue' },
    { name: 'tiff/200-pages.tiff', data: manyPages, about: '200 pages of 8x8' },
    { name: 'tiff/huge-strip.tiff', data: hugeStrip, about: '8000x8000 RGB, one strip declaring 192 MB, 64 bytes present' },
    {
      name: 'tiff/float-rgba-65535x1525.tiff',
      data: floatRgbaTiff(65535, 1525),
      about: '32-bit float RGBA, 65535 x 1525 (the pixel limit): 1.6 GB decoded, from 17 KB',
    },
    {
      name: 'tiff/float-rgba-5000x5000.tiff',
      data: floatRgbaTiff(5000, 5000),
      about: '32-bit float RGBA, 5000 x 5000: 400 MB decoded, from 4 KB',
    },
    { name: 'tiff/ifd-loop.tiff', data: loop, about: 'a 4x4 blue image whose next-directory offset points back at itself' },
    { name: 'webp/animated-3-frames.webp', data: animatedWebp, about: 'animated WebP, 3 frames: red, green, blue' },
  ];
}

async function modernFiles(): Promise<HostileFile[]> {
  const picture = scene(640, 480);
  const avif = await fromRaw(picture, 640, 480).avif({ quality: 60, effort: 2 }).toBuffer();
  // The same AVIF whose ispe property (what libheif reports before decoding) claims 8000x6000.
  const claimsLarge = Buffer.from(avif);
  const ispe = claimsLarge.indexOf('ispe');
  claimsLarge.writeUInt32BE(8000, ispe + 8);
  claimsLarge.writeUInt32BE(6000, ispe + 12);
  return [
    { name: 'webp/valid.webp', data: await fromRaw(picture, 640, 480).webp({ quality: 85 }).toBuffer(), about: '640x480 lossy WebP' },
    { name: 'avif/valid.avif', data: avif, about: '640x480 AVIF' },
    {
      name: 'avif/declares-48mp.avif',
      data: claimsLarge,
      about: 'the 640x480 AVIF with its ispe box claiming 8000x6000 (48 MP, under the pixel limit)',
    },
  ];
}

function notRasterFiles(): HostileFile[] {
  const localFile = svgReferencing('file:///etc/passwd');
  const xxe = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE svg [<!ENTITY secret SYSTEM "file:///etc/passwd">]>',
    '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480"><text x="10" y="20">&secret;</text></svg>',
  ].join('\n');
  const doctype = [
    '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">',
    svgReferencing('file:///etc/passwd'),
  ].join('\n');
  return [
    { name: 'text/empty.jpg', data: Buffer.alloc(0), about: 'zero bytes' },
    { name: 'text/text.jpg', data: text('This is not a photo.\nIt is a text file with a .jpg name.\n'), about: 'plain text named .jpg' },
    {
      name: 'text/html.jpg',
      data: text(
        '<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><img src="photo.jpg"></body></html>\n',
      ),
      about: 'an HTML error page saved as .jpg (what a failed download leaves behind)',
    },
    { name: 'text/random-4k.jpg', data: noise(4096, 29), about: '4 KB of noise' },
    { name: 'svg/local-file.svg', data: text(localFile), about: 'SVG with <image href="file:///etc/passwd">' },
    {
      name: 'svg/external-url.svg',
      data: text(svgReferencing('https://example.com/tracker.png')),
      about: 'SVG with an <image> from an external URL',
    },
    { name: 'svg/local-file-named.jpg', data: text(localFile), about: 'the local-file SVG uploaded as .jpg' },
    { name: 'svg/xxe.svg', data: text(xxe), about: 'SVG behind an XML declaration with an external entity on /etc/passwd' },
    {
      name: 'svg/doctype-first.svg',
      data: text(doctype),
      about: 'SVG starting with its DOCTYPE (no XML declaration), referencing a local file',
    },
    { name: 'pdf/document.pdf', data: MINIMAL_PDF, about: 'a one-page PDF' },
    { name: 'pdf/document-named.jpg', data: MINIMAL_PDF, about: 'the PDF uploaded as .jpg' },
    {
      name: 'heic/image.heic',
      data: CRAFTED_HEIC,
      about: 'crafted ISO-BMFF: ftyp heic, meta with an hvc1 item, mdat (no HEVC encoder here)',
    },
    { name: 'bmp/tiny.bmp', data: TINY_BMP, about: '2x2 BMP' },
    {
      name: 'polyglot/ftyp-avif-svg.avif',
      data: text(`    ftypavif    avif${svgReferencing('file:///etc/passwd')}`),
      about: 'an ftyp box (brand avif, size field of spaces) followed by an SVG: sniffed as AVIF, libvips picks its SVG loader',
    },
    {
      name: 'oversize/over-max-input-bytes.jpg',
      data: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(declaredConfig.limits.maxInputBytes - 3)]),
      about: 'a JPEG signature and zeros, one byte over the configured maxInputBytes',
    },
    {
      name: 'polyglot/gif-svg.gif',
      data: text(`GIF89a${svgReferencing('file:///etc/passwd')}`),
      about: 'GIF89a signature followed by an SVG',
    },
  ];
}

/** A TIFF of `pages` directories, each a 1x1 grey image sharing one pixel byte: a page-count bomb. */
function pagedTiff(pages: number): Buffer {
  const entryCount = 8;
  const directorySize = 2 + entryCount * 12 + 4;
  const pixelAt = 8 + pages * directorySize;
  const file = Buffer.alloc(pixelAt + 1);
  Buffer.from([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0]).copy(file);
  for (let page = 0; page < pages; page++) {
    const at = 8 + page * directorySize;
    file.writeUInt16LE(entryCount, at);
    [
      tiffEntry(256, LONG, 1, 1),
      tiffEntry(257, LONG, 1, 1),
      tiffEntry(258, SHORT, 1, 8),
      tiffEntry(259, SHORT, 1, 1),
      tiffEntry(262, SHORT, 1, 1),
      tiffEntry(273, LONG, 1, pixelAt),
      tiffEntry(278, LONG, 1, 1),
      tiffEntry(279, LONG, 1, 1),
    ].forEach((entry, i) => entry.copy(file, at + 2 + i * 12));
    file.writeUInt32LE(page + 1 < pages ? at + directorySize : 0, at + 2 + entryCount * 12);
  }
  return file;
}

/** Files too big or slow to build for every test run; `measure.ts --heavy` includes them. */
async function heavyFiles(): Promise<HostileFile[]> {
  const progressive = await sharp({ create: { width: 10000, height: 10000, channels: 3, background: '#1e3cc8' } })
    .composite([{ input: await fromRaw(scene(1000, 1000), 1000, 1000).png().toBuffer(), tile: true }])
    .jpeg({ quality: 80, progressive: true })
    .toBuffer();
  return [
    {
      name: 'heavy/gif-1000000-frames.gif',
      data: animatedGif(1_000_000),
      about: '1,000,000 one-pixel frames in 23 MB (frame counting must stay cheap)',
    },
    {
      name: 'heavy/tiff-400000-pages.tiff',
      data: pagedTiff(400_000),
      about: '400,000 directories in 41 MB (page counting must stay cheap)',
    },
    {
      name: 'heavy/line-10000000x10-rgba16.png',
      data: png(ihdr(10_000_000, 10, 6, 16), pngChunk('IDAT', zeroZlibStream(10 * (1 + 10_000_000 * 8)))),
      about:
        '10,000,000 x 10 16-bit RGBA: the pixel limit, 800 MB decoded, from 791 KB (15 GB peak before the edge limit: not in the test, so a regression cannot take the machine down)',
    },
    {
      name: 'heavy/float-rgba-65535x381.tiff',
      data: floatRgbaTiff(65535, 381),
      about: 'float RGBA at both the edge limit and the decoded-bytes limit: the worst accepted shape found',
    },
    {
      name: 'heavy/png-200000-text-chunks.png',
      data: Buffer.concat([
        PNG_SIGNATURE,
        ihdr(64, 64, 2),
        ...Array.from({ length: 200_000 }, () => pngChunk('tEXt', text('Comment\0hello'))),
        pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(64 * 193))),
        pngChunk('IEND', Buffer.alloc(0)),
      ]),
      about: '64x64 PNG with 200,000 tEXt chunks (5 MB)',
    },
    {
      name: 'heavy/avif-5000x5000.avif',
      data: await fromRaw(scene(5000, 5000), 5000, 5000).avif({ quality: 50, effort: 0 }).toBuffer(),
      about: '25 MP RGB AVIF: just inside the AVIF budget (25 MP x 3 bytes x 5)',
    },
    {
      name: 'heavy/progressive-100mp.jpg',
      data: progressive,
      about: '10000x10000 progressive JPEG: the pixel limit, coefficients buffered whole',
    },
  ];
}

/** Every hostile file, in a stable order; `heavy` adds the few that take seconds to build or tens of MB. */
export async function generateHostileFiles(options: { heavy?: boolean } = {}): Promise<HostileFile[]> {
  const files = [
    ...notRasterFiles(),
    ...(await jpegFiles()),
    ...(await pngFiles()),
    ...(await animatedAndPagedFiles()),
    ...(await modernFiles()),
  ];
  if (options.heavy) files.push(...(await heavyFiles()));
  const names = new Set(files.map((file) => file.name));
  if (names.size !== files.length) throw new Error('hostile file names repeat');
  return files;
}

/** Writes the files under `dir` (creating folders) and returns them with their paths. */
export async function writeHostileFiles(dir: string, options: { heavy?: boolean } = {}): Promise<(HostileFile & { path: string })[]> {
  const files = await generateHostileFiles(options);
  return files.map((file) => {
    const target = path.join(dir, file.name);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, file.data);
    return { ...file, path: target };
  });
}

/** Name of the index `writeHostileFiles` leaves beside the files: [{ name, bytes, about }]. */
export const MANIFEST = 'manifest.json';

if (require.main === module) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: npx tsx test/hostile/generate.ts <output dir> [--heavy]');
    process.exit(2);
  }
  writeHostileFiles(dir, { heavy: process.argv.includes('--heavy') }).then((files) => {
    writeFileSync(
      path.join(dir, MANIFEST),
      JSON.stringify(
        files.map(({ name, data, about }) => ({ name, bytes: data.length, about })),
        null,
        1,
      ),
    );
    for (const file of files) console.log(`${String(file.data.length).padStart(10)}  ${file.name}  ${file.about}`);
  });
}
