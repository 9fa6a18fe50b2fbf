/**
 * Writes an object key the way S3 puts it into an event notification: form-encoded
 * (application/x-www-form-urlencoded) with `/` left literal. A space becomes `+`, a literal `+`
 * becomes `%2B`, `%` becomes `%25`, and every other byte outside `A-Z a-z 0-9 - _ . *` is the
 * UTF-8 percent escape (e.g. `(` -> `%28`, `=` -> `%3D`, `ü` -> `%C3%BC`).
 *
 * s3rver hands out raw keys, so the local fan-out needs this to produce what AWS delivers. The
 * inverse is `decodeURIComponent(key.replace(/\+/g, ' '))` (shared/s3Key.ts).
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function encodeS3EventKey(key: string): string {
  // S3 keys are UTF-8: a lone surrogate cannot name an object, so it is written as U+FFFD rather than throwing.
  return encodeURIComponent(key.replace(LONE_SURROGATE, '\uFFFD'))
    .replace(/[!'()~]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+')
    .replace(/%2F/g, '/');
}
