import type { CameraEngine } from '../../daemon/vision/engine.js';
import type { AnalyzeOptions } from '../../daemon/vision/engine.js';
import type { SearchArea } from '../../daemon/vision/tiles.js';
import type { Box, Detection, FaceAnalysis, Point, RgbImage } from '../../daemon/vision/types.js';
import { unitVector } from '../gallery/helpers.js';
import { regionsFor } from '../support/eye-regions.js';

/** A scripted face: where it is and what it looks like at time t (undefined: not in the frame). */
export interface FakeFace {
  box(t: number): Box | undefined;
  /** p(open) of both eyes at t. */
  eyes(t: number): [number, number];
  person: number;
  /** Passive p(live), or p(live) at t. */
  pLive?: number | ((t: number) => number);
  /** Sharpness of the face at t (variance of the Laplacian of the aligned face); 150 when absent. */
  sharpness?: (t: number) => number;
}

/**
 * A frame for time t: noise that changes with t (a live scene), or the same noise every time (a
 * frozen picture), lighter where each face is, so that the motion gate sees faces come and
 * go. The fake engine answers from its script; only the motion gate and the frozen check read pixels.
 */
export function frameAt(t: number, frozen = false, faces: readonly Box[] = []): RgbImage {
  const width = 1280;
  const height = 720;
  const data = new Uint8Array(width * height * 3);
  // The world behind the faces stays put, as it does before a door camera.
  let x = 12345;
  for (let i = 0; i < data.length; i += 7) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    data[i] = x >> 23;
  }
  let noise = frozen ? 12345 : Math.round(t * 1000) + 1;
  for (const f of faces) {
    const x0 = Math.max(0, Math.round(f.x));
    const x1 = Math.min(width, Math.round(f.x + f.w));
    // Lighter, with noise of its own: a live face changes from frame to frame, a frozen one does not.
    for (let y = Math.max(0, Math.round(f.y)); y < Math.min(height, Math.round(f.y + f.h)); y++) {
      for (let i = (y * width + x0) * 3; i < (y * width + x1) * 3; i++) {
        noise = (noise * 1103515245 + 12345) & 0x7fffffff;
        data[i] = Math.min(255, 120 + (noise >> 24));
      }
    }
  }
  return { width, height, data };
}

/**
 * A vision core that answers from a script, so that the tracker's logic can be tested over minutes
 * of "video" in milliseconds. Landmarks are a grid inside the face's real box wherever the crop is
 * asked for, as a landmark model on a crop would answer.
 */
export class FakeEngine implements CameraEngine {
  t = 0;
  calls = { detect: 0, analyze: 0, embed: 0, antispoof: 0 };
  /** The box each analysis was run on, with the time of its frame. */
  readonly analysed: Array<{ t: number; box: Box }> = [];

  constructor(private readonly faces: FakeFace[]) {}

  /** Each detection's frame time and where it was asked to look (undefined: the whole frame). */
  readonly looks: Array<{ t: number; focus: readonly SearchArea[] | undefined }> = [];

  async detect(_img: RgbImage, focus?: readonly SearchArea[]): Promise<Detection[]> {
    this.calls.detect++;
    this.looks.push({ t: this.t, focus });
    return this.faces.flatMap((f) => {
      const box = f.box(this.t);
      return box ? [{ box, score: 0.99 }] : [];
    });
  }

  async analyzeFace(_img: RgbImage, detection: Detection, options: AnalyzeOptions = {}): Promise<FaceAnalysis> {
    this.calls.analyze++;
    this.analysed.push({ t: this.t, box: detection.box });
    if (options.embed) this.calls.embed++;
    if (options.antispoof) this.calls.antispoof++;
    const face = this.nearest(detection.box);
    const box = face?.box(this.t) ?? detection.box;
    const jitter = 0.3 * Math.sin(this.t * 37);
    const landmarks68: Point[] = Array.from({ length: 68 }, (_, i) => ({
      x: box.x + box.w * (0.1 + (0.8 * (i % 9)) / 8) + jitter,
      y: box.y + box.h * (0.15 + (0.7 * Math.floor(i / 9)) / 7),
    }));
    const [left, right] = face ? face.eyes(this.t) : [0.5, 0.5];
    const p = landmarks68[0]!;
    return {
      detection,
      landmarks68,
      landmarks5: [p, p, p, p, p],
      quality: { faceHeight: detection.box.h, eyeDistance: box.w / 3, sharpness: face?.sharpness?.(this.t) ?? 150, yaw: 0, pitch: 0, roll: 0, embeddingNorm: 4 },
      eyes: { left: { pOpen: left }, right: { pOpen: right }, regions: regionsFor(left, right) },
      ...(options.antispoof ? { antispoof: { pLive: typeof face?.pLive === 'function' ? face.pLive(this.t) : (face?.pLive ?? 0.95) } } : {}),
      ...(options.embed ? { embedding: face ? unitVector(face.person) : unitVector(999) } : {}),
    };
  }

  private nearest(box: Box): FakeFace | undefined {
    const cx = box.x + box.w / 2;
    const cy = box.y + box.h / 2;
    let best: FakeFace | undefined;
    let bestD = Infinity;
    for (const f of this.faces) {
      const b = f.box(this.t);
      if (!b) continue;
      const d = Math.hypot(b.x + b.w / 2 - cx, b.y + b.h / 2 - cy);
      if (d < bestD && d < b.h) {
        bestD = d;
        best = f;
      }
    }
    return best;
  }
}

/** Eyes open except closed during [from, to). */
export const blinkAt = (from: number, to: number) => (t: number): [number, number] => (t >= from && t < to ? [0.002, 0.004] : [0.97, 0.95]);
export const openEyes = (): [number, number] => [0.97, 0.95];
