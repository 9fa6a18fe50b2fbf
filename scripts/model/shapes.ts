/**
 * Synthetic labelled images for the demo model: one filled shape (circle, square, triangle, star,
 * cross) per picture, in a random colour, size, position and rotation, on a random gradient
 * background with pixel noise, encoded as PNG or JPEG like a real upload.
 *
 * Colour never tells the class: shape and background colours are drawn independently of the
 * label, so only the outline does. The shape always contrasts with its background, because a
 * shape a person could not see would be a mislabelled example.
 */
import sharp from 'sharp';
import { createRandom, type Random } from './random';

export const SHAPE_LABELS = ['circle', 'square', 'triangle', 'star', 'cross'] as const;
export type ShapeLabel = (typeof SHAPE_LABELS)[number];

type Rgb = [number, number, number];

export interface ShapeSpec {
  label: ShapeLabel;
  /** Side of the square picture in pixels (larger than the model input: the serving path resizes). */
  size: number;
  centreX: number;
  centreY: number;
  /** Circumradius in pixels: every shape fits a circle of this radius around the centre. */
  radius: number;
  rotationDeg: number;
  fill: Rgb;
  backgroundFrom: Rgb;
  backgroundTo: Rgb;
  backgroundAngleDeg: number;
  /** Standard deviation of the added Gaussian pixel noise, in 0..255 units. */
  noiseSigma: number;
  format: 'png' | 'jpeg';
  jpegQuality: number;
  /** Seeds the per-pixel noise, so a spec renders to the same bytes however samples are scheduled. */
  noiseSeed: number;
}

// Module-scope binding: inside Jest's vm context a global lookup per pixel is slow (see random.ts).
const { max, min, round } = Math;

const MIN_SIZE = 64;
const MAX_SIZE = 160;
const MIN_CONTRAST = 0.3;

/** Relative luminance of an sRGB colour, roughly (Rec. 709 weights on gamma-encoded values). */
const luminance = ([r, g, b]: Rgb) => (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
const clampByte = (v: number) => max(0, min(255, round(v)));
const randomColour = (rng: Random): Rgb => [rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)];

/** A fill that stands out from both ends of the background gradient; black or white if none is found. */
function contrastingFill(rng: Random, from: Rgb, to: Rgb): Rgb {
  const contrast = (c: Rgb) => Math.min(Math.abs(luminance(c) - luminance(from)), Math.abs(luminance(c) - luminance(to)));
  for (let attempt = 0; attempt < 50; attempt++) {
    const candidate = randomColour(rng);
    if (contrast(candidate) >= MIN_CONTRAST) return candidate;
  }
  const black: Rgb = [0, 0, 0];
  const white: Rgb = [255, 255, 255];
  return contrast(black) >= contrast(white) ? black : white;
}

/** Draws the parameters of one picture of `label` (pure apart from the random source). */
export function randomShapeSpec(rng: Random, label: ShapeLabel): ShapeSpec {
  const size = rng.int(MIN_SIZE, MAX_SIZE);
  const radius = rng.uniform(0.26, 0.42) * size;
  // The whole shape stays inside the picture: a cut-off star can look like a triangle.
  const centreX = rng.uniform(radius + 1, size - radius - 1);
  const centreY = rng.uniform(radius + 1, size - radius - 1);
  const backgroundFrom = randomColour(rng);
  // A gentle gradient: a second colour near the first, so the background varies without
  // offering edges that look like shapes.
  const backgroundTo = backgroundFrom.map((c) => clampByte(c + rng.uniform(-70, 70))) as Rgb;
  const format = rng.next() < 0.5 ? 'png' : 'jpeg';
  return {
    label,
    size,
    centreX,
    centreY,
    radius,
    rotationDeg: rng.uniform(0, 360),
    fill: contrastingFill(rng, backgroundFrom, backgroundTo),
    backgroundFrom,
    backgroundTo,
    backgroundAngleDeg: rng.uniform(0, 360),
    noiseSigma: rng.uniform(0, 14),
    format,
    jpegQuality: rng.int(60, 95),
    noiseSeed: rng.int(0, 0xffffffff),
  };
}

/** Outline vertices relative to the centre, unrotated, for a circumradius of 1. */
function unitOutline(label: Exclude<ShapeLabel, 'circle'>): Array<[number, number]> {
  const regular = (corners: number, radiusAt: (i: number) => number) =>
    Array.from({ length: corners }, (_, i): [number, number] => {
      const angle = -Math.PI / 2 + (2 * Math.PI * i) / corners;
      return [radiusAt(i) * Math.cos(angle), radiusAt(i) * Math.sin(angle)];
    });
  switch (label) {
    case 'square':
      return regular(4, () => 1);
    case 'triangle':
      return regular(3, () => 1);
    case 'star':
      // Five points; an inner radius of 0.4 keeps the points sharp enough to survive 32x32.
      return regular(10, (i) => (i % 2 === 0 ? 1 : 0.4));
    case 'cross': {
      // A plus sign whose arms reach the circumcircle: half-width w, arm end at sqrt(1 - w^2).
      const w = 0.3;
      const l = Math.sqrt(1 - w * w);
      return [
        [-w, -l],
        [w, -l],
        [w, -w],
        [l, -w],
        [l, w],
        [w, w],
        [w, l],
        [-w, l],
        [-w, w],
        [-l, w],
        [-l, -w],
        [-w, -w],
      ];
    }
  }
}

const rgb = ([r, g, b]: Rgb) => `rgb(${r},${g},${b})`;

/** The picture as SVG (pure). */
export function shapeSvg(spec: ShapeSpec): string {
  const { size, centreX, centreY, radius } = spec;
  const angle = (spec.backgroundAngleDeg * Math.PI) / 180;
  const [dx, dy] = [Math.cos(angle) / 2, Math.sin(angle) / 2];
  const gradient =
    `<linearGradient id="bg" x1="${0.5 - dx}" y1="${0.5 - dy}" x2="${0.5 + dx}" y2="${0.5 + dy}">` +
    `<stop offset="0" stop-color="${rgb(spec.backgroundFrom)}"/><stop offset="1" stop-color="${rgb(spec.backgroundTo)}"/></linearGradient>`;
  let shape: string;
  if (spec.label === 'circle') {
    // A circle as large as its circumcircle would look bigger than the other shapes; 0.85 evens out the areas.
    shape = `<circle cx="${centreX}" cy="${centreY}" r="${radius * 0.85}" fill="${rgb(spec.fill)}"/>`;
  } else {
    const theta = (spec.rotationDeg * Math.PI) / 180;
    const [cos, sin] = [Math.cos(theta), Math.sin(theta)];
    const points = unitOutline(spec.label)
      .map(([x, y]) => `${(centreX + radius * (x * cos - y * sin)).toFixed(2)},${(centreY + radius * (x * sin + y * cos)).toFixed(2)}`)
      .join(' ');
    shape = `<polygon points="${points}" fill="${rgb(spec.fill)}"/>`;
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}">` +
    `<defs>${gradient}</defs><rect width="${size}" height="${size}" fill="url(#bg)"/>${shape}</svg>`
  );
}

/** Renders a spec to encoded image bytes (PNG or JPEG), as a user would upload them. */
export async function renderShape(spec: ShapeSpec): Promise<Buffer> {
  const pixels = await sharp(Buffer.from(shapeSvg(spec)))
    .removeAlpha()
    .raw()
    .toBuffer();
  const noise = createRandom(spec.noiseSeed);
  for (let i = 0; i < pixels.length; i++) pixels[i] = clampByte(pixels[i] + spec.noiseSigma * noise.normal());
  const image = sharp(pixels, { raw: { width: spec.size, height: spec.size, channels: 3 } });
  return spec.format === 'png' ? image.png().toBuffer() : image.jpeg({ quality: spec.jpegQuality }).toBuffer();
}
