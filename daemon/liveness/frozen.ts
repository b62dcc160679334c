import { lumaAt, pictureBytes } from '../base/yuv.js';
import type { Box, Picture } from '../vision/types.js';

/** Cells a side of the face signature: coarse enough that sensor and codec noise average out. */
const CELLS = 16;
/**
 * Mean change of the signature (grey levels, 0–255) under which two looks at a face are the same
 * picture. Measured at 5 fps: looped stills re-encoded by H.264 (a print, a screen, an identity
 * photo) ≤ 0.01; talking heads and the Hamilton clip ≥ 0.46 on every step, median 2–4 (also at 80 px).
 */
export const STILL_MAD = 0.25;

/**
 * Notices a frozen picture: a stalled camera repeating its last frame, a still photo, or a video
 * loop of one. Between two detections the same region of the frame is compared: a live person
 * moves (breathing, talking, the head's sway), a picture stays the same but for codec noise.
 * Frozen once at least `minSamples` consecutive comparisons were all still.
 */
export class FrozenCheck {
  private stillSteps = 0;
  private movedSteps = 0;

  constructor(private readonly minSamples = 10) {}

  /** Feeds the mean absolute difference of two signatures of the same region. */
  push(mad: number): void {
    if (mad < STILL_MAD) this.stillSteps++;
    else this.movedSteps++;
  }

  get frozen(): boolean {
    return this.stillSteps >= this.minSamples && this.movedSteps === 0;
  }
}

/** Mean grey level of each of CELLS×CELLS cells of the box (clipped to the image), sampled on a sparse grid. */
export function regionSignature(img: Picture, box: Box): Float32Array {
  const out = new Float32Array(CELLS * CELLS);
  const x0 = Math.max(0, Math.floor(box.x));
  const y0 = Math.max(0, Math.floor(box.y));
  const x1 = Math.min(img.width, Math.ceil(box.x + box.w));
  const y1 = Math.min(img.height, Math.ceil(box.y + box.h));
  if (x1 <= x0 || y1 <= y0 || img.data.length < pictureBytes(img)) return out;
  const cw = (x1 - x0) / CELLS;
  const ch = (y1 - y0) / CELLS;
  // Up to 4×4 taps a cell: enough to average noise, cheap on a 400 px face.
  const taps = 4;
  for (let cy = 0; cy < CELLS; cy++) {
    for (let cx = 0; cx < CELLS; cx++) {
      let sum = 0;
      for (let ty = 0; ty < taps; ty++) {
        const y = Math.min(y1 - 1, Math.floor(y0 + (cy + (ty + 0.5) / taps) * ch));
        for (let tx = 0; tx < taps; tx++) {
          const x = Math.min(x1 - 1, Math.floor(x0 + (cx + (tx + 0.5) / taps) * cw));
          sum += lumaAt(img, x, y);
        }
      }
      out[cy * CELLS + cx] = sum / (taps * taps);
    }
  }
  return out;
}

export function meanAbsDiff(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}
