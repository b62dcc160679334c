// A flat thing held up to a camera by a hand (a print, a phone, a tablet): a plane before a pinhole
// camera, posed frame by frame by a motion with a hand's tremor on top, rendered into a frame over a
// fixed background, and the frames encoded by FFmpeg as H.264 with sensor noise, as a camera sends
// them. What the plane shows is the caller's (print-attack.ts, screen-attack.ts).
import { spawn } from 'node:child_process';

/**
 * drift, wobble, zoom, tilt, bend: today's hand-held print; turn: turned in the hand (yaw ±20°);
 * carried: carried toward the camera by a walking person (the face grows threefold over the clip).
 * `stand` is not in the list a print is held in: set down on a stand, not held, nothing moves (a
 * print so is a frozen picture; a screen so still plays its video). `held` is not either: held
 * still in the hand, only the hand's tremor moves it (what a second camera's view is compared with
 * at one moment, where the motion over time does not matter).
 */
export const MOTIONS = ['drift', 'wobble', 'zoom', 'tilt', 'bend', 'turn', 'carried'] as const;
export type Motion = (typeof MOTIONS)[number] | 'stand' | 'held';

export type Mat3 = [number, number, number, number, number, number, number, number, number];

/** Pose of the plane at time t: rotations (radians), translation (px at the base distance), depth change (fraction). */
export interface Pose {
  pitch: number;
  yaw: number;
  roll: number;
  tx: number;
  ty: number;
  depth: number;
}

/**
 * The plane's pose at time t of a `seconds` clip. The base distance is where the plane's scale is
 * the one asked for (the face `facePx` high); `carried` starts three times as far and ends there.
 */
export function pose(motion: Motion, t: number, seconds: number, frameW: number, tremor: () => number): Pose {
  const phase = (2 * Math.PI * t) / seconds;
  const deg = Math.PI / 180;
  const p: Pose = { pitch: 0, yaw: 0, roll: 0, tx: 0, ty: 0, depth: 0 };
  if (motion === 'stand') return p;
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
    case 'held':
      break;
    case 'turn':
      // Turned about its vertical axis to one side by 20° and to the other, a swing every 2 s, the
      // wrist tipping it a little as it turns.
      p.yaw = 20 * deg * Math.sin(2 * Math.PI * 0.5 * t);
      p.pitch = 4 * deg * Math.sin(2 * Math.PI * 0.5 * t + 1);
      p.roll = 3 * deg * Math.sin(2 * Math.PI * 0.25 * t);
      break;
    case 'carried': {
      // Walked from three times the base distance to it at an even speed (the face grows from a
      // third of its size to its size), coming in from the side; the gait bobs it twice a stride
      // (two steps a second) and sways and rocks it once.
      const walked = t / seconds;
      p.depth = 2 * (1 - walked);
      p.tx = 0.25 * frameW * (1 - walked) + 0.02 * frameW * Math.sin(2 * Math.PI * t);
      p.ty = 0.02 * frameW * Math.cos(2 * Math.PI * 2 * t);
      p.roll = 2 * deg * Math.sin(2 * Math.PI * t);
      p.yaw = 4 * deg * Math.sin(2 * Math.PI * t + 0.5);
      break;
    }
  }
  // The hand: a few pixels and a fraction of a degree, frame to frame.
  p.tx += 2 * tremor();
  p.ty += 2 * tremor();
  p.roll += 0.5 * deg * tremor();
  return p;
}

/** The camera: frame size, focal length and principal point (px). */
export interface Camera {
  width: number;
  height: number;
  f: number;
  cx: number;
  cy: number;
}

/** A camera of the frame's size with a normal lens, looking slightly off the plane's base position. */
export function cameraFor(frame: { width: number; height: number }): Camera {
  return { width: frame.width, height: frame.height, f: 1.1 * frame.width, cx: frame.width * 0.55, cy: frame.height * 0.45 };
}

/** The plane's rotation for a pose, row-major: R = Rz(roll) · Ry(yaw) · Rx(pitch). */
export function poseRotation(p: Pose): Mat3 {
  const [sa, ca] = [Math.sin(p.pitch), Math.cos(p.pitch)];
  const [sb, cb] = [Math.sin(p.yaw), Math.cos(p.yaw)];
  const [sc, cc] = [Math.sin(p.roll), Math.cos(p.roll)];
  return [cc * cb, cc * sb * sa - sc * ca, cc * sb * ca + sc * sa, sc * cb, sc * sb * sa + cc * ca, sc * sb * ca - cc * sa, -sb, cb * sa, cb * ca];
}

/**
 * The homography from a plane (its own coordinates: px at the base distance, z = 0) to the camera
 * frame, for the plane rotated by `r` and its centre at `t` in the camera's coordinates (px at the
 * base distance; the base distance is f): K · [r1 r2 t]. Only the rotation's first two columns act
 * on the plane.
 */
export function projectPlane(cam: Camera, r: Mat3, t: readonly [number, number, number]): Mat3 {
  const { f, cx, cy } = cam;
  const [r11, r12, , r21, r22, , r31, r32] = r;
  const [t1, t2, tz] = t;
  // K · [r1 r2 t] with K = [f 0 cx; 0 f cy; 0 0 1].
  return [f * r11 + cx * r31, f * r12 + cx * r32, f * t1 + cx * tz, f * r21 + cy * r31, f * r22 + cy * r32, f * t2 + cy * tz, r31, r32, tz];
}

/** The homography from the plane (centred, px at the base distance) to the camera frame. */
export function planeToImage(p: Pose, cam: Camera): Mat3 {
  return projectPlane(cam, poseRotation(p), [p.tx, p.ty, cam.f * (1 + p.depth)]);
}

export function invert3(m: Mat3): Mat3 {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [A / det, -(b * i - c * h) / det, (b * f - c * e) / det, B / det, (a * i - c * g) / det, -(a * f - c * d) / det, C / det, -(a * h - b * g) / det, (a * e - b * d) / det];
}

/** Seeded uniform noise in [-1, 1] (mulberry32), smoothed so that the hand moves rather than jumps. */
export function tremorSource(seed: number): () => number {
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

/** What the plane shows, in its own coordinates (px at the base distance, centred). */
export interface PlaneSurface {
  /** The plane's extent (x right, y down): nothing outside it is drawn, and only the frame's part it covers is traced. */
  left: number;
  right: number;
  top: number;
  bottom: number;
  /**
   * Writes the colour at (x, y) into out[o..o+2] and says true, or says false where the plane is
   * not there (the background shows). `shade` is the light a bend leaves on that point (1 flat).
   */
  sample(x: number, y: number, shade: number, out: Uint8Array, o: number): boolean;
}

/**
 * One frame: the background, then each camera pixel inside the plane's projected outline traced
 * back through the pose to the plane. `bend` curves the plane around its vertical axis (1/px, 0 flat).
 */
export function renderPlane(cam: Camera, p: Pose, bend: number, surface: PlaneSurface, background: Uint8Array, out: Uint8Array): void {
  out.set(background);
  drawPlane(cam, planeToImage(p, cam), surface, out, { bend });
}

/**
 * Draws the plane that `h` maps into the frame over what `out` holds: each camera pixel inside the
 * plane's projected outline traced back through `h` to the plane. `bend` curves the plane around
 * its vertical axis (1/px, 0 flat); `from` and `to` keep only the part of the surface between those
 * plane x (a print folded into two planes draws each half by its own homography). Only the
 * outline's bounding box is traced: a face 100 px high in 1080p covers a tenth of the frame.
 */
export function drawPlane(cam: Camera, h: Mat3, surface: PlaneSurface, out: Uint8Array, o: { bend?: number; from?: number; to?: number } = {}): void {
  const bend = o.bend ?? 0;
  const xFrom = Math.max(surface.left, o.from ?? -Infinity);
  const xTo = Math.min(surface.right, o.to ?? Infinity);
  const inv = invert3(h);
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [px, py] of [
    [xFrom, surface.top],
    [xTo, surface.top],
    [xFrom, surface.bottom],
    [xTo, surface.bottom],
  ] as const) {
    const w = h[6] * px + h[7] * py + h[8];
    const x = (h[0] * px + h[1] * py + h[2]) / w;
    const y = (h[3] * px + h[4] * py + h[5]) / w;
    [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
  }
  const left = Math.max(0, Math.floor(x0) - 1);
  const right = Math.min(cam.width, Math.ceil(x1) + 2);
  const top = Math.max(0, Math.floor(y0) - 1);
  const bottom = Math.min(cam.height, Math.ceil(y1) + 2);
  for (let y = top; y < bottom; y++) {
    for (let x = left; x < right; x++) {
      const w = inv[6] * x + inv[7] * y + inv[8];
      let X = (inv[0] * x + inv[1] * y + inv[2]) / w;
      const Y = (inv[3] * x + inv[4] * y + inv[5]) / w;
      let shade = 1;
      if (bend > 0) {
        const s = bend * X;
        if (Math.abs(s) >= 1) continue;
        X = Math.asin(s) / bend;
        shade = 0.75 + 0.25 * Math.sqrt(1 - s * s);
      }
      if (X <= xFrom || X >= xTo || Y <= surface.top || Y >= surface.bottom) continue;
      surface.sample(X, Y, shade, out, (y * cam.width + x) * 3);
    }
  }
}

/**
 * The frames a camera would send, encoded as H.264 in MP4 by FFmpeg with its sensor's temporal
 * noise. `noiseSeed` gives a camera noise of its own: two cameras filming one scene at once do not
 * share their sensors' noise (FFmpeg seeds every noise filter alike by default).
 */
export class H264Writer {
  readonly #ffmpeg;
  readonly #done: Promise<void>;

  constructor(output: string, o: { width: number; height: number; fps: number; crf: number; noiseSeed?: number }) {
    const seed = o.noiseSeed === undefined ? '' : `:all_seed=${o.noiseSeed}`;
    this.#ffmpeg = spawn(
      'ffmpeg',
      ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${o.width}x${o.height}`, '-r', String(o.fps), '-i', 'pipe:0', '-vf', `noise=alls=5:allf=t${seed}`, '-c:v', 'libx264', '-preset', 'veryfast', '-crf', String(o.crf), '-g', String(2 * o.fps), '-pix_fmt', 'yuv420p', output],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    let stderr = '';
    this.#ffmpeg.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    this.#done = new Promise<void>((resolve, reject) => {
      this.#ffmpeg.on('error', reject);
      this.#ffmpeg.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}: ${stderr}`))));
    });
    // A failed encoder is reported by close(); until then a write into its closed pipe must not throw.
    this.#ffmpeg.stdin.on('error', () => {});
  }

  /** Queues one rgb24 frame (the buffer is the encoder's from now on). */
  async write(frame: Uint8Array): Promise<void> {
    if (!this.#ffmpeg.stdin.write(frame)) await Promise.race([new Promise((r) => this.#ffmpeg.stdin.once('drain', r)), this.#done]);
  }

  async close(): Promise<void> {
    this.#ffmpeg.stdin.end();
    await this.#done;
  }
}
