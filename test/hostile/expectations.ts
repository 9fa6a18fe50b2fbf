import type { PermanentReason } from '../../shared/errors';
import { GREY_ALPHA, P3_STORED, PAGE_COLOURS, QUADRANTS, SIXTEEN_BIT } from './generate';

/**
 * What must become of every hostile file, chosen one by one: either thumbnails (checked for size,
 * colour space, depth, metadata and sampled colours) or a permanent failure with a specific reason.
 * Keyed by the names in generate.ts; the integration test fails on a file without an entry.
 */

export interface ColourSample {
  /** Position in the largest thumbnail, as fractions of its width and height. */
  at: readonly [number, number];
  rgb?: readonly number[];
  alpha?: number;
  /** Largest allowed difference per channel. */
  tolerance?: number;
  /** Instead of exact values: this channel must exceed both others by at least 60. */
  dominant?: 'r' | 'g' | 'b';
}

export type Expected =
  | { outcome: 'thumbnails'; upright: readonly [number, number]; alpha?: boolean; samples?: ColourSample[]; why: string }
  | { outcome: 'failure'; reason: PermanentReason; why: string };

const fail = (reason: PermanentReason, why: string): Expected => ({ outcome: 'failure', reason, why });
const thumbs = (upright: readonly [number, number], why: string, samples: ColourSample[] = [], alpha = false): Expected => ({
  outcome: 'thumbnails',
  upright,
  alpha,
  samples,
  why,
});

/** The scene's four quadrants, sampled at their centres: also proves the picture is upright. */
const quadrants = (tolerance = 16): ColourSample[] => [
  { at: [0.25, 0.25], rgb: QUADRANTS.topLeft, tolerance },
  { at: [0.75, 0.25], rgb: QUADRANTS.topRight, tolerance },
  { at: [0.25, 0.75], rgb: QUADRANTS.bottomLeft, tolerance },
  { at: [0.75, 0.75], rgb: QUADRANTS.bottomRight, tolerance },
];
const flat = (rgb: readonly number[], tolerance = 8): ColourSample[] => [{ at: [0.5, 0.5], rgb, tolerance }];
const transparent: ColourSample[] = [{ at: [0.5, 0.5], alpha: 0, tolerance: 0 }];
const black: ColourSample[] = [{ at: [0.5, 0.5], rgb: [0, 0, 0], tolerance: 2 }];

/**
 * Display P3 to sRGB, computed here rather than by the library under test: both spaces share the
 * sRGB transfer curve and the D65 white, so the conversion is linearise, one 3x3 matrix, clip, encode.
 */
export function displayP3ToSrgb(p3: readonly number[]): number[] {
  const linear = p3.map((value) => {
    const c = value / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const matrix = [
    [1.2249401, -0.2249404, 0],
    [-0.0420569, 1.0420571, 0],
    [-0.0196376, -0.0786361, 1.0982735],
  ];
  return matrix.map((row) => {
    const v = Math.min(1, Math.max(0, row[0] * linear[0] + row[1] * linear[1] + row[2] * linear[2]));
    return Math.round(255 * (v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055));
  });
}

export const EXPECTED: Record<string, Expected> = {
  // Not images at all: refused by sniffing, before any decoder runs.
  'text/empty.jpg': fail('not-an-image', 'zero bytes'),
  'text/text.jpg': fail('not-an-image', 'the extension is not the format'),
  'text/html.jpg': fail('not-an-image', 'an HTML page is not an image'),
  'text/random-4k.jpg': fail('not-an-image', 'no signature'),

  // Vector and document formats can reference other files: refused by sniffing, whatever the name.
  'svg/local-file.svg': fail('unsupported-format', 'SVG is never decoded (file:///etc/passwd stays unread)'),
  'svg/external-url.svg': fail('unsupported-format', 'SVG is never decoded (no request leaves)'),
  'svg/local-file-named.jpg': fail('unsupported-format', 'sniffed as SVG despite .jpg'),
  'svg/xxe.svg': fail('unsupported-format', 'never parsed, so the entity is never expanded'),
  'svg/doctype-first.svg': fail('unsupported-format', 'an SVG that opens with its DOCTYPE is still SVG'),
  'pdf/document.pdf': fail('unsupported-format', 'PDF is a document format'),
  'pdf/document-named.jpg': fail('unsupported-format', 'sniffed as PDF despite .jpg'),
  'heic/image.heic': fail('unsupported-format', 'HEIC (HEVC) is not an allowed format; the prebuilt libvips cannot decode it either'),
  'bmp/tiny.bmp': fail('unsupported-format', 'BMP is not an allowed format'),
  'polyglot/ftyp-avif-svg.avif': fail(
    'corrupt',
    'sniffed as AVIF; libvips hands it to its SVG loader, whose XML parser rejects the ftyp bytes',
  ),
  'polyglot/gif-svg.gif': fail('corrupt', 'the GIF loader wins and finds no frame'),
  'oversize/over-max-input-bytes.jpg': fail('too-large', 'one byte over maxInputBytes: refused from the event size, before the download'),

  // JPEG damage: refused as corrupt (failOn: warning), never a half-grey thumbnail.
  'jpeg/truncated-10.jpg': fail('corrupt', 'header incomplete'),
  'jpeg/truncated-100.jpg': fail('corrupt', 'header incomplete'),
  'jpeg/truncated-1000.jpg': fail('corrupt', 'scan cut short'),
  'jpeg/truncated-50pct.jpg': fail('corrupt', 'scan cut short'),
  'jpeg/truncated-90pct.jpg': fail('corrupt', 'scan cut short'),
  'jpeg/truncated-no-eoi.jpg': fail('corrupt', 'libjpeg warns about the missing EOI; warnings are failures for untrusted input'),
  'jpeg/progressive-truncated-50pct.jpg': fail('corrupt', 'refinement scans missing'),
  'jpeg/magic-only.jpg': fail('corrupt', 'a signature and nothing else'),
  'jpeg/corrupt-sof.jpg': fail('corrupt', 'bogus SOF'),
  'jpeg/corrupt-dqt.jpg': fail('corrupt', 'bogus quantisation table'),
  'jpeg/sof-zero-width.jpg': fail('corrupt', 'a zero dimension (DNL) is not supported'),
  'jpeg/header-bomb-65500.jpg': fail('too-many-pixels', '4.3 gigapixels declared: refused from the header'),
  'jpeg/scrambled-scan.jpg': fail('corrupt', 'entropy-coded data damaged'),
  'jpeg/trailing-bytes.jpg': thumbs([1200, 900], 'bytes after EOI are ignored', quadrants()),
  'jpeg/junk-before-eoi.jpg': thumbs([1200, 900], 'stray bytes after the last scan do not fail the decode', quadrants()),
  'jpeg/huge-exif-orientation-6.jpg': thumbs([1200, 900], 'stored on its side: thumbnails come out upright, EXIF dropped', quadrants()),
  'jpeg/exif-orientation-99.jpg': thumbs([1200, 900], 'an out-of-range orientation is treated as upright', quadrants()),
  'jpeg/huge-icc-4mb.jpg': thumbs([1200, 900], 'a large but valid profile is used, then dropped', quadrants()),
  'jpeg/garbage-icc.jpg': thumbs([1200, 900], 'an unreadable profile is ignored (pixels taken as sRGB)', quadrants()),
  'jpeg/cmyk.jpg': thumbs([800, 600], 'converted to sRGB through its CMYK profile', [
    { at: [0.5, 1 / 6], dominant: 'r' },
    { at: [0.5, 3 / 6], dominant: 'g' },
    { at: [0.5, 5 / 6], dominant: 'b' },
  ]),
  'jpeg/cmyk-no-icc.jpg': thumbs([800, 600], 'converted to sRGB through the default CMYK profile', [
    { at: [0.5, 1 / 6], dominant: 'r' },
    { at: [0.5, 3 / 6], dominant: 'g' },
    { at: [0.5, 5 / 6], dominant: 'b' },
  ]),
  'jpeg/display-p3.jpg': thumbs([800, 600], 'P3 values converted to sRGB: the saturated green clipped, the mid green moved', [
    { at: [0.5, 0.25], rgb: displayP3ToSrgb(P3_STORED.saturated), tolerance: 8 },
    { at: [0.5, 0.75], rgb: displayP3ToSrgb(P3_STORED.inGamut), tolerance: 8 },
  ]),
  'jpeg/large-48mp.jpg': thumbs([8000, 6000], '48 MP, under the limit', quadrants()),

  // PNG: bombs refused from the header, or decoded in bounded memory.
  'png/bomb-60000x60000.png': fail('too-many-pixels', '3.6 gigapixels declared'),
  'png/zlib-bomb-5000x5000.png': thumbs([5000, 5000], '100 MB of zeros streamed through: a transparent thumbnail', transparent, true),
  'png/zlib-bomb-10000x10000.png': thumbs([10000, 10000], 'exactly the pixel limit (not over it), 300 MB streamed through', black),
  'png/1x1.png': thumbs([1, 1], 'never enlarged: 1x1 at every size', flat(PAGE_COLOURS[0])),
  'png/20000x1.png': thumbs([20000, 1], '1024x1, 512x1, 256x1', flat([30, 60, 200])),
  'png/1x20000.png': thumbs([1, 20000], '1x1024, 1x512, 1x256', flat([30, 60, 200])),
  'png/line-100000000x1.png': fail('too-many-pixels', 'within the pixel count, but an edge over 65535'),
  'png/line-1000000x100.png': fail('too-many-pixels', 'an edge over 65535: shrinking it took ~1 GB before the edge limit'),
  'png/edge-65535x1525-rgba8.png': thumbs([65535, 1525], 'at the edge, pixel and decoded-byte limits at once: 1024x24', transparent, true),
  'png/interlaced-10000x10000-rgba16.png': fail('too-many-pixels', '800 MB decoded whole: over pixel limit x 4 bytes'),
  'png/interlaced-10000x10000-rgba8.png': thumbs([10000, 10000], '400 MB decoded whole: exactly at the byte limit', transparent, true),
  'png/16-bit.png': thumbs([64, 64], '16-bit samples become 8-bit', [
    { at: [0.5, 0.25], rgb: SIXTEEN_BIT.expected[0], tolerance: 6 },
    { at: [0.5, 0.75], rgb: SIXTEEN_BIT.expected[1], tolerance: 6 },
  ]),
  'png/grey-alpha.png': thumbs(
    [64, 64],
    'grey becomes sRGB, alpha kept',
    GREY_ALPHA.map(([grey, alpha], i) => ({ at: [0.5, i === 0 ? 0.25 : 0.75] as const, rgb: [grey, grey, grey], alpha, tolerance: 6 })),
    true,
  ),
  'png/iccp-bomb.png': thumbs([64, 64], 'the 200 MB profile is not inflated', black),
  'png/ztxt-bomb.png': thumbs([64, 64], 'the 200 MB comment is not inflated', black),
  'png/zero-width.png': fail('corrupt', 'IHDR width 0'),
  'png/signature-only.png': fail('corrupt', 'no IHDR'),
  'png/truncated-50pct.png': fail('corrupt', 'IDAT cut short'),
  'png/named-as.jpg': thumbs([320, 240], 'a PNG named .jpg is a PNG', quadrants()),

  // Animation and pages: only the first frame/page, within the frame limit.
  'gif/animated-2000-frames.gif': fail('too-many-frames', '2000 frames, limit 100'),
  'gif/one-frame.gif': thumbs([300, 200], 'a static GIF', flat(PAGE_COLOURS[0])),
  'gif/canvas-65535.gif': thumbs([300, 200], 'the decoder ignores the oversized logical screen and uses the frame', flat(PAGE_COLOURS[0])),
  'tiff/multipage-3.tiff': thumbs([400, 300], 'first page only (red)', flat(PAGE_COLOURS[0])),
  'tiff/200-pages.tiff': fail('too-many-frames', '200 pages, limit 100'),
  'tiff/huge-strip.tiff': fail('corrupt', 'the strip is not there; read as it is, not allocated as declared'),
  'tiff/float-rgba-65535x1525.tiff': fail('too-many-pixels', '1.6 GB decoded: over pixel limit x 4 bytes'),
  'tiff/float-rgba-5000x5000.tiff': thumbs([5000, 5000], 'float samples become 8-bit sRGB; exactly at the byte limit', transparent, true),
  'tiff/ifd-loop.tiff': fail('corrupt', 'libtiff warns about the directory loop; warnings are failures'),
  'webp/animated-3-frames.webp': thumbs([400, 300], 'first frame only (red)', flat(PAGE_COLOURS[0])),
  'webp/valid.webp': thumbs([640, 480], 'a plain WebP', quadrants()),
  'avif/valid.avif': thumbs([640, 480], 'a plain AVIF', quadrants()),
  'avif/declares-48mp.avif': fail(
    'too-many-pixels',
    'AVIF decoding holds ~5x the decoded size: 48 MP is over the budget, refused from the header',
  ),
};

/**
 * PngSuite's deliberately broken files (`x*.png`). A damaged signature is not recognisable as PNG at
 * all (not-an-image); the rest are PNGs the decoder rejects (corrupt).
 */
export const PNGSUITE_FAILURES: Record<string, PermanentReason> = {
  'xc1n0g08.png': 'corrupt', // colour type 1
  'xc9n2c08.png': 'corrupt', // colour type 9
  'xcrn0g04.png': 'not-an-image', // signature with CR LF mangled
  'xcsn0g01.png': 'corrupt', // IDAT checksum
  'xd0n2c08.png': 'corrupt', // bit depth 0
  'xd3n2c08.png': 'corrupt', // bit depth 3
  'xd9n2c08.png': 'corrupt', // bit depth 99
  'xdtn0g01.png': 'corrupt', // no IDAT
  'xhdn0g08.png': 'corrupt', // IHDR checksum
  'xlfn0g04.png': 'not-an-image', // signature with LF mangled
  'xs1n0g01.png': 'not-an-image', // signature byte 1
  'xs2n0g01.png': 'not-an-image', // signature byte 2
  'xs4n0g01.png': 'not-an-image', // signature byte 4
  'xs7n0g01.png': 'not-an-image', // signature byte 7
};
