import type { Box, RgbImage } from '../vision/types.js';

export interface BestFrame {
  t: number;
  weight: number;
  embedding: Float32Array;
  /** The face with some context (1.6× its box), copied out of the frame. */
  crop: RgbImage;
}

/** Context around the face in a thumbnail. */
const CROP_SCALE = 1.6;

/** The K best frames of a track by weight: thumbnails for its events, templates for promotion. */
export class BestFrames {
  private list: BestFrame[] = [];

  constructor(private readonly k: number) {}

  offer(f: { t: number; weight: number; embedding: Float32Array; img: RgbImage; box: Box }): void {
    if (this.list.length >= this.k && f.weight <= this.list[this.list.length - 1]!.weight) return;
    this.list.push({ t: f.t, weight: f.weight, embedding: f.embedding, crop: cropAround(f.img, f.box, CROP_SCALE) });
    this.list.sort((a, b) => b.weight - a.weight);
    if (this.list.length > this.k) this.list.length = this.k;
  }

  top(): BestFrame | undefined {
    return this.list[0];
  }

  frames(): readonly BestFrame[] {
    return this.list;
  }

  clear(): void {
    for (const f of this.list) f.embedding.fill(0);
    this.list = [];
  }
}

/** A copy of the square of side scale × max(w, h) around the box, clipped to the image. */
export function cropAround(img: RgbImage, box: Box, scale: number): RgbImage {
  const side = Math.max(box.w, box.h) * scale;
  const x1 = Math.max(0, Math.round(box.x + box.w / 2 - side / 2));
  const y1 = Math.max(0, Math.round(box.y + box.h / 2 - side / 2));
  const x2 = Math.min(img.width, Math.round(box.x + box.w / 2 + side / 2));
  const y2 = Math.min(img.height, Math.round(box.y + box.h / 2 + side / 2));
  const width = Math.max(1, x2 - x1);
  const height = Math.max(1, y2 - y1);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const src = ((y1 + y) * img.width + x1) * 3;
    data.set(img.data.subarray(src, src + width * 3), y * width * 3);
  }
  return { width, height, data };
}
