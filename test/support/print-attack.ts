// A photo held up to a camera the way a hand holds a print: the photo (cropped around its face) is a
// plane in front of a pinhole camera that drifts, wobbles, comes closer, tilts back, bends, is turned
// in the hand or carried toward the camera by someone walking (held-plane.ts), before a wall, encoded
// as a camera would send it. The print-attack set of the liveness tests and `npm run bench -- liveness`.
import type { Box, RgbImage } from '../../daemon/vision/types.js';
import { cameraFor, H264Writer, pose, renderPlane, tremorSource, type Motion, type PlaneSurface } from './held-plane.js';

export { MOTIONS, type Motion } from './held-plane.js';

export interface PrintAttack {
  photo: RgbImage;
  /** The face in the photo (the print is cut around it). */
  face: Box;
  motion: Motion;
  /** Face height in the camera frame when the print is square to the camera at the base distance, px. */
  facePx: number;
  seconds: number;
  frame: { width: number; height: number };
  fps: number;
  crf: number;
  /** Seeds the hand's tremor: the same seed gives the same clip. */
  seed: number;
}

/**
 * The print: the photo around the face, 1.25 face heights each side (1.6 down and up), as a
 * portrait print is cut, scaled so that the face is `facePx` high at the base distance.
 */
export function printSurface(photo: RgbImage, face: Box, facePx: number): PlaneSurface {
  const scale = facePx / face.h;
  const half = 1.25 * face.h;
  const pcx = face.x + face.w / 2;
  const pcy = face.y + face.h / 2;
  const src = photo.data;
  const sw = photo.width;
  const sh = photo.height;
  const halfW = Math.min(half, pcx, sw - pcx) * scale;
  const halfH = Math.min(1.3 * half, pcy, sh - pcy) * scale;
  return {
    left: -halfW,
    right: halfW,
    top: -halfH,
    bottom: halfH,
    sample(x, y, shade, out, o) {
      const u = pcx + x / scale;
      const v = pcy + y / scale;
      const x0 = Math.min(sw - 2, Math.max(0, Math.floor(u)));
      const y0 = Math.min(sh - 2, Math.max(0, Math.floor(v)));
      const fx = Math.min(1, Math.max(0, u - x0));
      const fy = Math.min(1, Math.max(0, v - y0));
      for (let c = 0; c < 3; c++) {
        const i = (y0 * sw + x0) * 3 + c;
        const top = src[i]! * (1 - fx) + src[i + 3]! * fx;
        const bottom = src[i + sw * 3]! * (1 - fx) + src[i + sw * 3 + 3]! * fx;
        out[o + c] = (top * (1 - fy) + bottom * fy) * shade;
      }
      return true;
    },
  };
}

/** The wall behind the print, lit from above. */
export function wall(width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  const row = new Uint8Array(width * 3);
  for (let y = 0; y < height; y++) {
    const shade = 150 - (60 * y) / height;
    for (let x = 0; x < row.length; x += 3) {
      row[x] = shade;
      row[x + 1] = shade + 4;
      row[x + 2] = shade + 10;
    }
    out.set(row, y * row.length);
  }
  return out;
}

/** Renders the attack and encodes it to `output` (H.264 in MP4). */
export async function writePrintAttack(a: PrintAttack, output: string): Promise<void> {
  const cam = cameraFor(a.frame);
  const surface = printSurface(a.photo, a.face, a.facePx);
  const background = wall(cam.width, cam.height);
  const writer = new H264Writer(output, { ...a.frame, fps: a.fps, crf: a.crf });
  const tremor = tremorSource(a.seed);
  const frames = Math.round(a.seconds * a.fps);
  for (let i = 0; i < frames; i++) {
    const t = i / a.fps;
    // Bent around a vertical axis up to a radius of 0.7 print widths, and flat again.
    const bend = a.motion === 'bend' ? (0.5 - 0.5 * Math.cos((2 * Math.PI * t) / a.seconds)) / (1.4 * surface.right) : 0;
    const frame = new Uint8Array(cam.width * cam.height * 3);
    renderPlane(cam, pose(a.motion, t, a.seconds, cam.width, tremor), bend, surface, background, frame);
    await writer.write(frame);
  }
  await writer.close();
}
