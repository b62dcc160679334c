import { toRgb } from '../base/yuv.js';
import type { Box, Picture, RgbImage } from '../vision/types.js';

export interface BestFrame {
  t: number;
  weight: number;
  /** The eye model read the eyes shut, as the enrolment gate reads them (a blink): such a frame ranks after every other. */
  eyesShut: boolean;
  embedding: Float32Array;
  /** The face with some context (1.6× its box), copied out of the frame. */
  crop: RgbImage;
}

/** Context around the face in a thumbnail. */
const CROP_SCALE = 1.6;

/** Best first: eyes open before eyes shut (however they are weighed), then the heavier. */
const rank = (a: Pick<BestFrame, 'weight' | 'eyesShut'>, b: Pick<BestFrame, 'weight' | 'eyesShut'>) => Number(a.eyesShut) - Number(b.eyesShut) || b.weight - a.weight;

/**
 * The K best frames of a track: thumbnails for its events, the face a person teaches someone from,
 * templates for promotion. By weight, except that a frame with the eyes shut ranks after every
 * frame without: a track is often live, and its frames weighed, at the moment of a blink, and the
 * enrolment gate refuses a face with its eyes closed.
 */
export class BestFrames {
  private list: BestFrame[] = [];

  constructor(private readonly k: number) {}

  offer(f: { t: number; weight: number; eyesShut: boolean; embedding: Float32Array; img: Picture; box: Box }): void {
    if (this.list.length >= this.k && rank(f, this.list[this.list.length - 1]!) >= 0) return;
    this.list.push({ t: f.t, weight: f.weight, eyesShut: f.eyesShut, embedding: f.embedding, crop: cropAround(f.img, f.box, CROP_SCALE) });
    this.list.sort(rank);
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
