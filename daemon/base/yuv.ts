/**
 * YUV 4:2:0 frames: their layout, and their conversion to RGB and grey (ITU-R BT.601, limited
 * range, which is what FFmpeg assumes for a stream that does not say otherwise).
 */
import type { Box, Picture, RgbImage, Yuv420Image } from './image.js';

/** Where the planes of a width×height I420 frame lie in its bytes. */
export interface Yuv420Layout {
  /** Chroma plane size: half the luma's each way, rounded up. */
  readonly chromaWidth: number;
  readonly chromaHeight: number;
  readonly uOffset: number;
  readonly vOffset: number;
  readonly bytes: number;
}

export function yuv420Layout(width: number, height: number): Yuv420Layout {
  const chromaWidth = (width + 1) >> 1;
  const chromaHeight = (height + 1) >> 1;
  const uOffset = width * height;
  const vOffset = uOffset + chromaWidth * chromaHeight;
  return { chromaWidth, chromaHeight, uOffset, vOffset, bytes: vOffset + chromaWidth * chromaHeight };
}

/**
 * RGB = M · (Y, U, V) + c, per unit of weight. Affine, so a weighted sum of YUV taps converts as
 * M · Σ + (Σ weights) · c: kernels average in YUV and convert once per output pixel.
 */
export const BT601 = {
  y: 255 / 219,
  rV: (255 / 224) * 1.402,
  gU: -(255 / 224) * 1.772 * (0.114 / 0.587),
  gV: -(255 / 224) * 1.402 * (0.299 / 0.587),
  bU: (255 / 224) * 1.772,
} as const;
const Y0 = 16, C0 = 128;
export const BT601_OFFSET = {
  r: -BT601.y * Y0 - BT601.rV * C0,
  g: -BT601.y * Y0 - (BT601.gU + BT601.gV) * C0,
  b: -BT601.y * Y0 - BT601.bU * C0,
} as const;

export function isYuv420(img: Picture): img is Yuv420Image {
  return img.format === 'yuv420p';
}

/** Grey 0..255 (BT.601 luma, full range) at pixel (x, y), which must lie inside the picture. */
export function lumaAt(img: Picture, x: number, y: number): number {
  if (isYuv420(img)) return (img.data[y * img.width + x]! - Y0) * BT601.y;
  const i = (y * img.width + x) * 3;
  return 0.299 * img.data[i]! + 0.587 * img.data[i + 1]! + 0.114 * img.data[i + 2]!;
}

/** The bytes a picture of its size and format must have, to check a buffer before reading it. */
export function pictureBytes(img: Picture): number {
  return isYuv420(img) ? yuv420Layout(img.width, img.height).bytes : img.width * img.height * 3;
}

/**
 * An RGB copy of the picture, or of the part of it inside `box` (whole pixels, clipped to the
 * picture; at least 1×1). Converting only what is kept is what makes YUV frames pay.
 */
export function toRgb(img: Picture, box: Box = { x: 0, y: 0, w: img.width, h: img.height }): RgbImage {
  const x1 = Math.min(Math.max(0, Math.round(box.x)), img.width - 1);
  const y1 = Math.min(Math.max(0, Math.round(box.y)), img.height - 1);
  const width = Math.max(1, Math.min(img.width, Math.round(box.x + box.w)) - x1);
  const height = Math.max(1, Math.min(img.height, Math.round(box.y + box.h)) - y1);
  const data = new Uint8Array(width * height * 3);
  if (!isYuv420(img)) {
    for (let y = 0; y < height; y++) {
      const src = ((y1 + y) * img.width + x1) * 3;
      data.set(img.data.subarray(src, src + width * 3), y * width * 3);
    }
    return { width, height, data };
  }
  const { chromaWidth, uOffset, vOffset } = yuv420Layout(img.width, img.height);
  const src = img.data;
  // Written through a clamped view: it rounds and clamps each byte as a decoder does.
  const out = new Uint8ClampedArray(data.buffer);
  const { y: yGain, rV, gU, gV, bU } = BT601;
  const { r: r0, g: g0, b: b0 } = BT601_OFFSET;
  for (let y = 0, o = 0; y < height; y++) {
    const row = (y1 + y) * img.width + x1;
    const chromaRow = ((y1 + y) >> 1) * chromaWidth;
    for (let x = 0; x < width; x++, o += 3) {
      const c = chromaRow + ((x1 + x) >> 1);
      const l = src[row + x]! * yGain;
      const u = src[uOffset + c]!;
      const v = src[vOffset + c]!;
      out[o] = l + rV * v + r0;
      out[o + 1] = l + gU * u + gV * v + g0;
      out[o + 2] = l + bU * u + b0;
    }
  }
  return { width, height, data };
}
