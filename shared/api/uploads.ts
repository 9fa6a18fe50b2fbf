import { ApiError } from './errors';

/** What a client declares before it uploads: checked here, then pinned into the presigned request. */
export interface UploadRequest {
  filename: string;
  contentType: string;
  size: number;
}

/**
 * Content types of the raster formats the pipeline decodes (shared/image/sniff.ts). The pipeline
 * still judges the bytes; this refuses what it would refuse anyway (SVG, PDF) before any upload.
 */
export const UPLOAD_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/tiff', 'image/avif'] as const;

const MAX_FILENAME_CHARS = 255;
/** Characters kept as they are in the key's last segment; anything else becomes `-`. */
const KEY_SAFE = /[^A-Za-z0-9._-]+/g;
const MAX_KEY_NAME_CHARS = 100;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A filename is a name, never a path: one that tries to climb out of its folder, is absolute, or
 * carries control characters is refused rather than repaired, so a client bug shows at once.
 */
export function checkFilename(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw new ApiError(400, 'invalid-filename', 'filename must be a non-empty string');
  if (raw.length > MAX_FILENAME_CHARS) {
    throw new ApiError(400, 'invalid-filename', `filename must be at most ${MAX_FILENAME_CHARS} characters, got ${raw.length}`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(raw)) throw new ApiError(400, 'invalid-filename', 'filename must not contain control characters');
  if (/[/\\]/.test(raw) || /^[A-Za-z]:/.test(raw)) {
    throw new ApiError(400, 'invalid-filename', `filename must be a name, not a path: ${JSON.stringify(raw)}`);
  }
  if (raw === '.' || raw === '..') throw new ApiError(400, 'invalid-filename', `filename ${JSON.stringify(raw)} is not a file name`);
  return raw;
}

/** `My Photo (1).JPG` -> `My-Photo-1-.JPG`; never empty, never a dot file, at most 100 characters with the extension kept. */
export function keySafeName(filename: string): string {
  // Accents come off (NFKD splits them into combining marks) rather than turning into dashes.
  const replaced = filename
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(KEY_SAFE, '-')
    .replace(/^[.-]+/, '');
  const safe = replaced === '' ? 'upload' : replaced;
  if (safe.length <= MAX_KEY_NAME_CHARS) return safe;
  const dot = safe.lastIndexOf('.');
  const extension = dot > 0 && safe.length - dot <= 10 ? safe.slice(dot) : '';
  return safe.slice(0, MAX_KEY_NAME_CHARS - extension.length) + extension;
}

export function checkUploadRequest(body: unknown, maxBytes: number): UploadRequest {
  if (!isObject(body)) throw new ApiError(400, 'invalid-request', 'the body must be a JSON object: { "filename", "contentType", "size" }');
  const filename = checkFilename(body.filename);
  const contentType = typeof body.contentType === 'string' ? body.contentType.trim().toLowerCase() : undefined;
  if (!contentType)
    throw new ApiError(400, 'unsupported-content-type', `contentType is required, one of ${UPLOAD_CONTENT_TYPES.join(', ')}`);
  if (!(UPLOAD_CONTENT_TYPES as readonly string[]).includes(contentType)) {
    throw new ApiError(
      400,
      'unsupported-content-type',
      `contentType ${JSON.stringify(body.contentType)} is not accepted; one of ${UPLOAD_CONTENT_TYPES.join(', ')}`,
    );
  }
  const { size } = body;
  if (size === undefined) throw new ApiError(400, 'invalid-size', 'size (the file size in bytes) is required');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) {
    throw new ApiError(400, 'invalid-size', `size must be a whole number of bytes, at least 1, got ${JSON.stringify(size)}`);
  }
  if (size > maxBytes) throw new ApiError(400, 'too-large', `size ${size} exceeds the limit of ${maxBytes} bytes`);
  return { filename, contentType, size };
}

/** `u/2026-12-02/<uuid>/<name>`: a fresh folder per upload, so uploads never overwrite each other. */
export function uploadKey(prefix: string, filename: string, now: Date, id: string): string {
  return `${prefix}${now.toISOString().slice(0, 10)}/${id}/${keySafeName(filename)}`;
}
