import type { Box, RgbImage } from '../base/image.js';

export interface OverlayBox extends Box {
  /** RGB; green by default. */
  color?: readonly [number, number, number];
  /** A line of text shown above the box (the live view renders it). */
  label?: string;
}

/** A copy of `image` with each box outlined; boxes may lie partly outside the frame. */
export function drawBoxes(image: RgbImage, boxes: readonly OverlayBox[], thickness = 2): RgbImage {
  const data = new Uint8Array(image.data);
  const { width, height } = image;
  const fill = (x0: number, y0: number, x1: number, y1: number, [r, g, b]: readonly [number, number, number]) => {
    const xa = Math.max(0, Math.floor(x0));
    const xb = Math.min(width, Math.ceil(x1));
    const ya = Math.max(0, Math.floor(y0));
    const yb = Math.min(height, Math.ceil(y1));
    for (let y = ya; y < yb; y++) {
      for (let x = xa; x < xb; x++) {
        const i = (y * width + x) * 3;
        data[i] = r;
        data[i + 1] = g;
        data[i + 2] = b;
      }
    }
  };
  for (const box of boxes) {
    const color = box.color ?? [0, 255, 0];
    const t = thickness;
    fill(box.x, box.y, box.x + box.w, box.y + t, color);
    fill(box.x, box.y + box.h - t, box.x + box.w, box.y + box.h, color);
    fill(box.x, box.y, box.x + t, box.y + box.h, color);
    fill(box.x + box.w - t, box.y, box.x + box.w, box.y + box.h, color);
  }
  return { width, height, data };
}
