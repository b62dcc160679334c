// A photo held up to a camera the way a hand holds a print: the photo (cropped around its face) is a
// plane in front of a pinhole camera that drifts, wobbles, comes closer, tilts back or bends, with a
// hand's tremor on top; rendered frame by frame, then encoded by FFmpeg as H.264 with sensor noise,
// as a camera would send it. The attack set of the liveness tests and `npm run bench -- liveness`.
import { spawn } from 'node:child_process';
import type { Box, RgbImage } from '../../daemon/vision/types.js';

export const MOTIONS = ['drift', 'wobble', 'zoom', 'tilt', 'bend'] as const;
export type Motion = (typeof MOTIONS)[number];

export interface PrintAttack {
  photo: RgbImage;
  /** The face in the photo (the print is cut around it). */
  face: Box;
  motion: Motion;
  /** Face height in the camera frame when the print is square to the camera, px. */
  facePx: number;
  seconds: number;
  frame: { width: number; height: number };
  fps: number;
  crf: number;
  /** Seeds the hand's tremor: the same seed gives the same clip. */
  seed: number;
}

type Mat3 = [number, number, number, number, number, number, number, number, number];

/** Pose of the print at time t: rotations (radians), translation (px at the base distance), depth change (fraction) and bend (1/px). */
interface Pose {
  pitch: number;
  yaw: number;
  roll: number;
  tx: number;
  ty: number;
  depth: number;
  bend: number;
}

function pose(motion: Motion, t: number, seconds: number, frameW: number, tremor: () => number): Pose {
  const phase = (2 * Math.PI * t) / seconds;
  const deg = Math.PI / 180;
  const p: Pose = { pitch: 0, yaw: 0, roll: 0, tx: 0, ty: 0, depth: 0, bend: 0 };
  switch (motion) {
    case 'drift':
      p.tx = 0.15 * frameW * Math.sin(phase);
      p.ty = 0.05 * frameW * Math.sin(2 * phase);
      break;
    case 'wobble':
      p.roll = 6 * deg * Math.sin(2 * Math.PI * 1.3 * t);
      p.yaw = 4 * deg * Math.sin(2 * Math.PI * 0.9 * t);
      break;
    case 'zoom':
      // Brought closer (the face grows by half) and taken away again.
      p.depth = -0.33 * Math.sin(phase) + 0.1 * Math.sin(2 * phase);
      break;
    case 'tilt':
      // Tilted back up to 40° (the face foreshortens to three quarters of its height) and forward again.
      p.pitch = 40 * deg * (0.5 - 0.5 * Math.cos(phase));
      p.yaw = 10 * deg * Math.sin(phase);
      break;
    case 'bend':
      break;
  }
  // The hand: a few pixels and a fraction of a degree, frame to frame.
  p.tx += 2 * tremor();
  p.ty += 2 * tremor();
  p.roll += 0.5 * deg * tremor();
  return p;
}

/** The homography from the print's plane (centred, px at the base distance) to the camera frame. */
function planeToImage(p: Pose, f: number, cx: number, cy: number): Mat3 {
  const [sa, ca] = [Math.sin(p.pitch), Math.cos(p.pitch)];
  const [sb, cb] = [Math.sin(p.yaw), Math.cos(p.yaw)];
  const [sc, cc] = [Math.sin(p.roll), Math.cos(p.roll)];
  // R = Rz(roll) · Ry(yaw) · Rx(pitch); only its first two columns act on the plane (z = 0).
  const r11 = cc * cb;
  const r21 = sc * cb;
  const r31 = -sb;
  const r12 = cc * sb * sa - sc * ca;
  const r22 = sc * sb * sa + cc * ca;
  const r32 = cb * sa;
  const tz = f * (1 + p.depth);
  const t1 = p.tx;
  const t2 = p.ty;
  // K · [r1 r2 t] with K = [f 0 cx; 0 f cy; 0 0 1].
  return [f * r11 + cx * r31, f * r12 + cx * r32, f * t1 + cx * tz, f * r21 + cy * r31, f * r22 + cy * r32, f * t2 + cy * tz, r31, r32, tz];
}

function invert3(m: Mat3): Mat3 {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [A / det, -(b * i - c * h) / det, (b * f - c * e) / det, B / det, (a * i - c * g) / det, -(a * f - c * d) / det, C / det, -(a * h - b * g) / det, (a * e - b * d) / det];
}

/** Seeded uniform noise in [-1, 1] (mulberry32), smoothed so that the hand moves rather than jumps. */
function tremorSource(seed: number): () => number {
  let s = seed >>> 0;
  let last = 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let r = Math.imul(s ^ (s >>> 15), 1 | s);
    r ^= r + Math.imul(r ^ (r >>> 7), 61 | r);
    const u = (((r ^ (r >>> 14)) >>> 0) / 4294967296) * 2 - 1;
    last = 0.7 * last + 0.3 * u;
    return last;
  };
}

/** One frame: each camera pixel traced back through the print's pose to the photo, bilinear. */
function renderFrame(a: PrintAttack, t: number, tremor: () => number, out: Uint8Array): void {
  const { width, height } = a.frame;
  const scale = a.facePx / a.face.h;
  // The print: the photo around the face, 1.25 face heights each side, as a portrait print is cut.
  const half = 1.25 * a.face.h;
  const pcx = a.face.x + a.face.w / 2;
  const pcy = a.face.y + a.face.h / 2;
  const printHalfW = Math.min(half, pcx, a.photo.width - pcx) * scale;
  const printHalfH = Math.min(1.3 * half, pcy, a.photo.height - pcy) * scale;
  const p = pose(a.motion, t, a.seconds, width, tremor);
  // Bent around a vertical axis up to a radius of 0.7 print widths, and flat again.
  const bend = a.motion === 'bend' ? (0.5 - 0.5 * Math.cos((2 * Math.PI * t) / a.seconds)) / (1.4 * printHalfW) : 0;
  const f = 1.1 * width;
  const inv = invert3(planeToImage(p, f, width * 0.55, height * 0.45));
  const src = a.photo.data;
  const sw = a.photo.width;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const w = inv[6] * x + inv[7] * y + inv[8];
      let X = (inv[0] * x + inv[1] * y + inv[2]) / w;
      const Y = (inv[3] * x + inv[4] * y + inv[5]) / w;
      let shade = 1;
      if (bend > 0) {
        const s = bend * X;
        if (Math.abs(s) >= 1) X = Infinity;
        else {
          X = Math.asin(s) / bend;
          shade = 0.75 + 0.25 * Math.sqrt(1 - s * s);
        }
      }
      if (!(Math.abs(X) < printHalfW && Math.abs(Y) < printHalfH)) {
        // The wall behind, lit from above.
        const wall = 150 - (60 * y) / height;
        out[o] = wall;
        out[o + 1] = wall + 4;
        out[o + 2] = wall + 10;
        continue;
      }
      const u = pcx + X / scale;
      const v = pcy + Y / scale;
      const x0 = Math.min(sw - 2, Math.max(0, Math.floor(u)));
      const y0 = Math.min(a.photo.height - 2, Math.max(0, Math.floor(v)));
      const fx = Math.min(1, Math.max(0, u - x0));
      const fy = Math.min(1, Math.max(0, v - y0));
      for (let c = 0; c < 3; c++) {
        const i = (y0 * sw + x0) * 3 + c;
        const top = src[i]! * (1 - fx) + src[i + 3]! * fx;
        const bottom = src[i + sw * 3]! * (1 - fx) + src[i + sw * 3 + 3]! * fx;
        out[o + c] = (top * (1 - fy) + bottom * fy) * shade;
      }
    }
  }
}

/** Renders the attack and encodes it to `output` (H.264 in MP4). */
export async function writePrintAttack(a: PrintAttack, output: string): Promise<void> {
  const { width, height } = a.frame;
  const ffmpeg = spawn(
    'ffmpeg',
    ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(a.fps), '-i', 'pipe:0', '-vf', 'noise=alls=5:allf=t', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', String(a.crf), '-g', String(2 * a.fps), '-pix_fmt', 'yuv420p', output],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let stderr = '';
  ffmpeg.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<void>((resolve, reject) => {
    ffmpeg.on('error', reject);
    ffmpeg.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}: ${stderr}`))));
  });
  const tremor = tremorSource(a.seed);
  const frames = Math.round(a.seconds * a.fps);
  for (let i = 0; i < frames; i++) {
    const buf = Buffer.alloc(width * height * 3);
    renderFrame(a, i / a.fps, tremor, buf);
    if (!ffmpeg.stdin.write(buf)) await new Promise((r) => ffmpeg.stdin.once('drain', r));
  }
  ffmpeg.stdin.end();
  await done;
}
