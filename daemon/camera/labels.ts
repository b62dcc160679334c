import sharp from 'sharp';
import type { RgbImage } from '../base/image.js';
import type { OverlayBox } from './draw.js';

/** A label is a name, a score and a state: longer text is cut rather than drawn across the frame. */
const MAX_LABEL_CHARS = 60;
/** Bitmaps kept; past this the cache starts again (labels change as scores and states do). */
const MAX_CACHED = 256;

interface Bitmap {
  width: number;
  height: number;
  /** RGBA, straight alpha. */
  data: Uint8Array;
}

/**
 * Box labels drawn into a picture: each label rasterised once from a small SVG (sharp, so any name
 * renders with the system's fonts) and blended into the picture's pixels here. Compositing an SVG
 * over the whole picture in sharp cost ~45 ms a picture, three times its JPEG encoding.
 */
export class LabelPainter {
  private readonly bitmaps = new Map<string, Promise<Bitmap>>();

  /** Draws the labels of `boxes` into `image` (a copy the caller owns), `size` px tall text. */
  async paint(image: RgbImage, boxes: readonly OverlayBox[], size: number): Promise<void> {
    for (const b of boxes) {
      if (!b.label) continue;
      const bitmap = await this.bitmap(b.label, b.color ?? [0, 255, 0], size);
      const x = Math.max(0, Math.round(b.x));
      // On a dark band above its box, or below it when the box touches the top.
      const above = Math.round(b.y) - bitmap.height - 2;
      const y = above >= 0 ? above : Math.min(image.height - bitmap.height, Math.round(b.y + b.h) + 2);
      blend(image, bitmap, x, y);
    }
  }

  private bitmap(label: string, color: readonly [number, number, number], size: number): Promise<Bitmap> {
    const key = `${size}|${color.join(',')}|${label}`;
    let cached = this.bitmaps.get(key);
    if (!cached) {
      if (this.bitmaps.size >= MAX_CACHED) this.bitmaps.clear();
      this.bitmaps.set(key, (cached = rasterise(label, color, size)));
    }
    return cached;
  }
}

async function rasterise(label: string, [r, g, b]: readonly [number, number, number], size: number): Promise<Bitmap> {
  // Control characters are not text an SVG parser takes.
  const text = escapeMarkup(withoutControls(label.slice(0, MAX_LABEL_CHARS)));
  const width = Math.round(0.62 * size * text.length) + 8;
  const height = size + 6;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="${width}" height="${height}" fill="black" fill-opacity="0.6"/><text x="4" y="${size + 1}" font-family="sans-serif" font-size="${size}" fill="rgb(${r},${g},${b})">${text}</text></svg>`;
  const { data, info } = await sharp(Buffer.from(svg)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** `bitmap` over `image` at (x, y), clipped to the picture. */
function blend(image: RgbImage, bitmap: Bitmap, x0: number, y0: number): void {
  const { width: W, height: H, data } = image;
  for (let y = Math.max(0, -y0); y < bitmap.height && y0 + y < H; y++) {
    for (let x = Math.max(0, -x0); x < bitmap.width && x0 + x < W; x++) {
      const s = (y * bitmap.width + x) * 4;
      const a = bitmap.data[s + 3]! / 255;
      if (a === 0) continue;
      const d = ((y0 + y) * W + x0 + x) * 3;
      for (let c = 0; c < 3; c++) data[d + c] = Math.round(bitmap.data[s + c]! * a + data[d + c]! * (1 - a));
    }
  }
}

function withoutControls(text: string): string {
  return Array.from(text, (c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? ' ' : c)).join('');
}

/** Text safe inside HTML or SVG markup. */
export function escapeMarkup(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}
