import { toRgb } from '../base/yuv.js';
import type { Box, Picture, RgbImage } from '../vision/types.js';

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

  offer(f: { t: number; weight: number; embedding: Float32Array; img: Picture; box: Box }): void {
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

/** An RGB copy of the square of side scale × max(w, h) around the box, clipped to the picture. */
export function cropAround(img: Picture, box: Box, scale: number): RgbImage {
  const side = Math.max(box.w, box.h) * scale;
  return toRgb(img, { x: box.x + box.w / 2 - side / 2, y: box.y + box.h / 2 - side / 2, w: side, h: side });
}
