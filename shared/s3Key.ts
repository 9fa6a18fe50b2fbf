/**
 * S3 event notifications carry object keys form-encoded: spaces arrive as `+`, a literal `+` as
 * `%2B`, non-ASCII as UTF-8 percent escapes. The `+` must become a space BEFORE percent-decoding,
 * or a literal plus (`%2B` -> `+`) would then be turned into a space.
 */
export function decodeS3EventKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}
