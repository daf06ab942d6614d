/**
 * What a file's first bytes say it is. Only these four image types are ever
 * served inline; the uploader's Content-Type and file name are not believed,
 * so an HTML page named cat.png stays a download.
 */
export type ImageType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp'

export interface ImageInfo { type: ImageType, width?: number, height?: number }

/** How many leading bytes are kept for sniffing: JPEG puts its size after EXIF data, often tens of KiB in. */
export const headBytes = 256 * 1024

const startsWith = (b: Buffer, bytes: number[], at = 0): boolean => b.length >= at + bytes.length && bytes.every((x, i) => b[at + i] === x)
const ascii = (b: Buffer, at: number, text: string): boolean => b.length >= at + text.length && b.toString('latin1', at, at + text.length) === text
const sized = (type: ImageType, width: number, height: number): ImageInfo =>
  width > 0 && height > 0 ? { type, width, height } : { type }

export function sniffImage (head: Buffer): ImageInfo | null {
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    // The first chunk is IHDR: width and height, big-endian, at bytes 16 and 20.
    return ascii(head, 12, 'IHDR') && head.length >= 24 ? sized('image/png', head.readUInt32BE(16), head.readUInt32BE(20)) : { type: 'image/png' }
  }
  if (ascii(head, 0, 'GIF87a') || ascii(head, 0, 'GIF89a')) {
    return head.length >= 10 ? sized('image/gif', head.readUInt16LE(6), head.readUInt16LE(8)) : { type: 'image/gif' }
  }
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WEBP')) return webp(head)
  if (startsWith(head, [0xff, 0xd8, 0xff])) return jpeg(head)
  return null
}

function webp (b: Buffer): ImageInfo {
  if (ascii(b, 12, 'VP8 ') && b.length >= 30) {
    // Lossy: a key frame's 14-bit dimensions follow the start code 9d 01 2a.
    if (startsWith(b, [0x9d, 0x01, 0x2a], 23)) return sized('image/webp', b.readUInt16LE(26) & 0x3fff, b.readUInt16LE(28) & 0x3fff)
  } else if (ascii(b, 12, 'VP8L') && b.length >= 25 && b[20] === 0x2f) {
    // Lossless: 14 bits of width-1, then 14 bits of height-1, after the signature byte.
    const bits = b.readUInt32LE(21)
    return sized('image/webp', (bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1)
  } else if (ascii(b, 12, 'VP8X') && b.length >= 30) {
    // Extended: 24-bit canvas width-1 and height-1.
    return sized('image/webp', b.readUIntLE(24, 3) + 1, b.readUIntLE(27, 3) + 1)
  }
  return { type: 'image/webp' }
}

function jpeg (b: Buffer): ImageInfo {
  // Walk the marker segments to the first start-of-frame, which holds the size.
  let at = 2
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) break
    const marker = b[at + 1] as number
    if (marker === 0xff) { at++; continue }
    // Markers without a length: TEM and RST0-7 (SOI and EOI cannot occur here in a valid file).
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { at += 2; continue }
    const length = b.readUInt16BE(at + 2)
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc
    if (isFrame) {
      return at + 9 <= b.length ? sized('image/jpeg', b.readUInt16BE(at + 7), b.readUInt16BE(at + 5)) : { type: 'image/jpeg' }
    }
    if (length < 2) break
    at += 2 + length
  }
  return { type: 'image/jpeg' }
}
