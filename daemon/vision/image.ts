import sharp from 'sharp';
import { FacegateError } from '../base/errors.js';
import { describeOpenError, readInputFile } from '../base/input-file.js';
import type { RgbImage } from './types.js';

/**
 * Decodes JPEG, PNG, WebP, TIFF, GIF (first frame) ... into packed RGB with the EXIF orientation
 * applied: phone photos are often stored sideways, and a face lying on its side is not found.
 * Alpha is composited onto black; grey images are expanded to RGB.
 */
export async function decodeImage(bytes: Buffer, name: string, options: { maxSide?: number } = {}): Promise<RgbImage> {
  try {
    let pipeline = sharp(bytes, { failOn: 'error', limitInputPixels: 100_000_000 }).rotate();
    // Shrunk while decoding (libvips reads a JPEG at 1/2, 1/4 or 1/8 scale directly), so that a
    // large photo never becomes a full-size RGB buffer.
    if (options.maxSide) pipeline = pipeline.resize({ width: options.maxSide, height: options.maxSide, fit: 'inside', withoutEnlargement: true });
    const { data, info } = await pipeline
      .flatten({ background: { r: 0, g: 0, b: 0 } })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e) {
    throw new FacegateError(
      'FG_ERR_IMAGE_INVALID',
      `${name}: not a readable image (${describeDecodeError(e)})`,
      'give a JPEG, PNG or WebP photo',
      { cause: e },
    );
  }
}

export async function decodeImageFile(path: string): Promise<RgbImage> {
  return decodeImage(readImageFile(path), path);
}

/** The bytes of an image file named by a user: a regular file, at most the image size cap, not empty. */
export function readImageFile(path: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readInputFile(path, 'image', 'image');
  } catch (e) {
    if (e instanceof FacegateError) throw e;
    throw new FacegateError('FG_ERR_IMAGE_UNREADABLE', `${path}: ${describeOpenError(e)}`, 'check the path and its permissions', { cause: e });
  }
  if (bytes.length === 0) throw new FacegateError('FG_ERR_IMAGE_INVALID', `${path}: empty file`, 'give a JPEG, PNG or WebP photo');
  return bytes;
}

/** Encodes an RGB image or crop as JPEG (proof thumbnails, saved frames). */
export async function encodeJpeg(img: RgbImage, quality = 85): Promise<Buffer> {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).jpeg({ quality }).toBuffer();
}

function describeDecodeError(e: unknown): string {
  const message = (e as Error).message ?? String(e);
  if (/unsupported image format/i.test(message)) return 'unknown format';
  if (/premature end|truncated|corrupt|VipsJpeg|bad|invalid/i.test(message)) return 'corrupt or truncated data';
  return message.split('\n')[0]!;
}
