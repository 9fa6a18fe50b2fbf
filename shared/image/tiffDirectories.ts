/**
 * Counts the directories (pages) of a classic TIFF by following its next-directory offsets, and
 * stops as soon as the count passes `max`, at a loop, or at an offset outside the file. libvips
 * counts pages by walking every directory: a 41 MB TIFF of 400,000 one-pixel pages took 2.6-5.5 s
 * to be refused, where this takes microseconds.
 */
export function countTiffDirectories(bytes: Buffer, max: number): number {
  if (bytes.length < 8) return 0;
  const littleEndian = bytes[0] === 0x49;
  const u16 = (at: number) => (littleEndian ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at: number) => (littleEndian ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const seen = new Set<number>();
  let count = 0;
  let offset = u32(4);
  while (offset !== 0 && count <= max && !seen.has(offset) && offset + 2 <= bytes.length) {
    seen.add(offset);
    const nextPointer = offset + 2 + u16(offset) * 12;
    if (nextPointer + 4 > bytes.length) break;
    count++;
    offset = u32(nextPointer);
  }
  return count;
}
