/**
 * S3 event notifications carry object keys form-encoded: spaces arrive as `+`, a literal `+` as
 * `%2B`, non-ASCII as UTF-8 percent escapes. The `+` must become a space BEFORE percent-decoding,
 * or a literal plus (`%2B` -> `+`) would then be turned into a space.
 */
export function decodeS3EventKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

/**
 * Writes an object key the way S3 puts it into an event notification: form-encoded
 * (application/x-www-form-urlencoded) with `/` left literal. A space becomes `+`, a literal `+`
 * becomes `%2B`, `%` becomes `%25`, and every other byte outside `A-Z a-z 0-9 - _ . *` is the
 * UTF-8 percent escape (e.g. `(` -> `%28`, `=` -> `%3D`, `ü` -> `%C3%BC`).
 *
 * s3rver hands out raw keys, so the local fan-out needs this to produce what AWS delivers, and a
 * repair writes the events it re-sends with it. The inverse is decodeS3EventKey above.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function encodeS3EventKey(key: string): string {
  // S3 keys are UTF-8: a lone surrogate cannot name an object, so it is written as U+FFFD rather than throwing.
  return encodeURIComponent(key.replace(LONE_SURROGATE, '\uFFFD'))
    .replace(/[!'()~]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+')
    .replace(/%2F/g, '/');
}
