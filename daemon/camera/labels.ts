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
    const labelled = boxes.filter((b) => b.label);
    const bitmaps = await Promise.all(labelled.map((b) => this.bitmap(b.label!, b.color ?? [0, 255, 0], size)));
    const spots = placeLabels(labelled, bitmaps, image.width, image.height);
    spots.forEach((spot, i) => blend(image, bitmaps[i]!, spot.x, spot.y));
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

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

const GAP = 2;
const overlaps = (a: Rect, b: Rect) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/**
 * Where each label goes, in order: on a band above its box (below it when the box touches the
 * top), moved left where it would run off the picture's right edge, and moved further up or down
 * past the labels already placed, so that faces close together never have their labels drawn over
 * each other. Where no free spot is left, the first choice is kept.
 */
export function placeLabels(boxes: readonly { x: number; y: number; w: number; h: number }[], sizes: readonly { width: number; height: number }[], width: number, height: number): { x: number; y: number }[] {
  const placed: Rect[] = [];
  return boxes.map((b, i) => {
    const { width: w, height: h } = sizes[i]!;
    const x = Math.max(0, Math.min(Math.round(b.x), width - w));
    const above = Math.round(b.y) - h - GAP;
    const below = Math.round(b.y + b.h) + GAP;
    const steps = Math.ceil(height / (h + GAP));
    const candidates = [above, below, ...Array.from({ length: steps }, (_, k) => [above - (k + 1) * (h + GAP), below + (k + 1) * (h + GAP)]).flat()].filter((y) => y >= 0 && y + h <= height);
    const first = above >= 0 ? above : Math.max(0, Math.min(height - h, below));
    const y = candidates.find((c) => !placed.some((p) => overlaps(p, { x, y: c, width: w, height: h }))) ?? first;
    placed.push({ x, y, width: w, height: h });
    return { x, y };
  });
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
