// A video or a photo played on a phone or a tablet held up to a camera: the device is a plane posed
// by a hand (held-plane.ts) showing its screen the way a camera sees one: the picture letterboxed in
// the screen, a dark bezel with rounded corners, the display's tone curve (bluish white, raised
// blacks), glare on the glass that moves as the device turns, and the display's RGB stripes, which
// the camera's pixels integrate into moiré. A hand holds it from below; an indoor background.
import { spawn } from 'node:child_process';
import sharp from 'sharp';
import type { Box, RgbImage } from '../../daemon/vision/types.js';
import { decodeImage } from '../../daemon/vision/image.js';
import { cameraFor, H264Writer, pose, renderPlane, tremorSource, type Motion, type PlaneSurface, type Pose } from './held-plane.js';

/** The devices a hand holds up to a camera. */
export const DEVICES = ['phone', 'tablet'] as const;
export type Device = (typeof DEVICES)[number];
/** What plays a replay: a hand-held device, or a monitor set on a desk or a stand (no hand on it). */
export type Screen = Device | 'monitor';

/** A device held upright, in mm, and its display. */
interface DeviceSpec {
  width: number;
  height: number;
  corner: number;
  /** Bezel widths at the sides and at the top and bottom. */
  bezelSide: number;
  bezelEnd: number;
  /** Display pixel pitch (three RGB stripes side by side in each pixel). */
  pitch: number;
  /** Exponent on top of the picture's own gamma: under 1 lifts the mid-tones, as phones are tuned. */
  gamma: number;
  /** Emitted black, as a fraction of white: an LCD's backlight shows through. */
  black: number;
  /** White point per channel: displays run cool (blue). */
  white: readonly [number, number, number];
  /** Brighter than the room the camera is exposed for. */
  brightness: number;
  /** The glass's reflection of the room's lamp. */
  glare: number;
  /** Held by a hand (palm below, thumb on its edge), or standing with nothing in front of it. */
  held: boolean;
}

export const DEVICE_SPECS: Record<Screen, DeviceSpec> = {
  // A 6" phone: ~400 ppi OLED, thin bezels with a chin and a forehead, glossy glass.
  phone: { width: 72, height: 150, corner: 9, bezelSide: 3, bezelEnd: 9, pitch: 0.0635, gamma: 0.92, black: 0.03, white: [0.9, 0.96, 1], brightness: 1.08, glare: 0.4, held: true },
  // A 10" tablet: 264 ppi LCD, wide bezels, blacks grey from the backlight.
  tablet: { width: 155, height: 205, corner: 11, bezelSide: 10, bezelEnd: 14, pitch: 0.0962, gamma: 0.96, black: 0.07, white: [0.92, 0.97, 1], brightness: 1.02, glare: 0.3, held: true },
  // A 24" office monitor (given upright, as the others; a landscape picture turns it): 92 ppi matte
  // LCD, thin bezels, on its foot.
  monitor: { width: 299, height: 531, corner: 2, bezelSide: 7, bezelEnd: 9, pitch: 0.276, gamma: 1, black: 0.08, white: [0.93, 0.97, 1], brightness: 1, glare: 0.12, held: false },
};

/** What the screen plays: a clip (decoded at the camera's rate, from `fromS` on, 0 by default) or a photo. */
export type ScreenSource = { video: string; seconds: number; fromS?: number } | { still: RgbImage };

export interface ScreenAttack {
  source: ScreenSource;
  /** Width and height of the source picture (a clip's frames as FFmpeg decodes them, rotated). */
  size: { width: number; height: number };
  /** The face in the source picture: the screen is scaled (and the picture zoomed, if small) around it. */
  face: Box;
  device: Screen;
  motion: Exclude<Motion, 'bend'>;
  /** Face height in the camera frame when the screen is square to the camera at the base distance, px. */
  facePx: number;
  /** Longest time played; a shorter clip ends sooner. */
  seconds: number;
  frame: { width: number; height: number };
  fps: number;
  crf: number;
  /** Seeds the hand's tremor and the glare: the same seed gives the same clip. */
  seed: number;
}

/** The screen's layout in mm (centred on the device) and how its picture maps onto it. */
interface Layout {
  halfW: number;
  halfH: number;
  corner: number;
  activeHalfW: number;
  activeHalfH: number;
  /** Source px per mm of screen, and the source point at the screen's centre. */
  srcPerMm: number;
  centreU: number;
  centreV: number;
}

/**
 * The device turned the way the picture is (a landscape clip is played on a device held sideways);
 * the picture letterboxed in the screen, zoomed around the face when the face would otherwise be
 * small on the screen (as anyone replaying a clip would), or too small for the device to fit the
 * camera's frame at `facePx`.
 */
function layout(a: ScreenAttack): Layout {
  const spec = DEVICE_SPECS[a.device];
  const landscape = a.size.width > a.size.height;
  const [w, h] = landscape ? [spec.height, spec.width] : [spec.width, spec.height];
  const [bx, by] = landscape ? [spec.bezelEnd, spec.bezelSide] : [spec.bezelSide, spec.bezelEnd];
  const activeW = w - 2 * bx;
  const activeH = h - 2 * by;
  const fitMmPerSrc = Math.min(activeW / a.size.width, activeH / a.size.height);
  const faceMmFit = a.face.h * fitMmPerSrc;
  const smallest = Math.max(0.3 * Math.min(activeW, activeH), (a.facePx * h) / (0.92 * a.frame.height));
  const faceMm = Math.min(Math.max(faceMmFit, smallest), 0.6 * Math.min(activeW, activeH));
  const mmPerSrc = faceMm / a.face.h;
  const centre = (extent: number, size: number, face: number) => (extent >= size ? size / 2 : Math.min(size - extent / 2, Math.max(extent / 2, face)));
  return {
    halfW: w / 2,
    halfH: h / 2,
    corner: spec.corner,
    activeHalfW: activeW / 2,
    activeHalfH: activeH / 2,
    srcPerMm: 1 / mmPerSrc,
    centreU: centre(activeW / mmPerSrc, a.size.width, a.face.x + a.face.w / 2),
    centreV: centre(activeH / mmPerSrc, a.size.height, a.face.y + a.face.h / 2),
  };
}

/** The display's tone curve per channel, source level to emitted level. */
function toneTables(spec: DeviceSpec): [Float32Array, Float32Array, Float32Array] {
  return spec.white.map((white) => {
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = 255 * spec.brightness * white * (spec.black + (1 - spec.black) * Math.pow(v / 255, spec.gamma));
    return table;
  }) as [Float32Array, Float32Array, Float32Array];
}

/** Fraction of [0, x) lit by a stripe covering [start, start + duty) of each unit period. */
function litUpTo(x: number, start: number, duty: number): number {
  const whole = Math.floor(x);
  return whole * duty + Math.min(duty, Math.max(0, x - whole - start));
}

/** Fraction of a camera pixel's footprint [x - w/2, x + w/2) that a stripe lights, relative to its duty (1 on average). */
function stripeCover(x: number, w: number, start: number, duty: number): number {
  return (litUpTo(x + w / 2, start, duty) - litUpTo(x - w / 2, start, duty)) / (w * duty);
}

const SKIN: readonly [number, number, number] = [198, 152, 128];
const SENSOR_FILL = 0.6;
const STRIPE_CONTRAST = 0.6;

interface Ellipse {
  x: number;
  y: number;
  rx: number;
  ry: number;
}

/**
 * The device and the hand holding it, as the plane's surface for one frame: `picture` the frame
 * shown, `pose` for the glare (a fixed lamp's reflection slides over the glass as the device turns)
 * and the camera pixel's footprint on the display (what makes the stripes beat into moiré).
 */
function deviceSurface(a: ScreenAttack, l: Layout, k: number, picture: RgbImage, pictureScale: number, tones: readonly [Float32Array, Float32Array, Float32Array], p: Pose, glareSeed: number): PlaneSurface {
  const spec = DEVICE_SPECS[a.device];
  // The palm below the device with its top across the chin of the device, the thumb on its right edge.
  const hands: Ellipse[] = spec.held
    ? [
        { x: 0.15 * l.halfW, y: l.halfH + 28, rx: 42, ry: 36 },
        { x: l.halfW + 3, y: l.halfH - 22, rx: 8, ry: 17 },
      ]
    : [];
  const footprint = (SENSOR_FILL * (1 + p.depth)) / (k * spec.pitch);
  const glareAt = 0.4 * l.halfW * Math.sin(glareSeed) + 500 * (p.yaw + 0.6 * p.pitch + 0.3 * p.roll) - (0.4 * p.tx) / k;
  const blobX = -0.3 * l.halfW + 400 * p.yaw - (0.4 * p.tx) / k;
  const blobY = -0.45 * l.halfH + 400 * p.pitch - (0.4 * p.ty) / k;
  const [gx, gy] = [Math.cos(-0.6), Math.sin(-0.6)];
  const bandWidth = 0.12 * l.halfW + 6;
  const { width: pw, height: ph, data: src } = picture;
  const r2 = l.corner * l.corner;
  const [toneR, toneG, toneB] = tones;
  // Below this, a point may be on the hand.
  const handsFrom = Math.min(Infinity, ...hands.map((hand) => hand.y - hand.ry));
  const glareBand = 3 * bandWidth;
  return {
    left: -l.halfW * k,
    right: Math.max(l.halfW, ...hands.map((hand) => hand.x + hand.rx)) * k,
    top: -l.halfH * k,
    bottom: Math.max(l.halfH, ...hands.map((hand) => hand.y + hand.ry)) * k,
    sample(x, y, _shade, out, o) {
      const xm = x / k;
      const ym = y / k;
      if (ym > handsFrom) {
        for (let h = 0; h < hands.length; h++) {
          const hand = hands[h]!;
          const dx = (xm - hand.x) / hand.rx;
          const dy = (ym - hand.y) / hand.ry;
          const d = dx * dx + dy * dy;
          if (d < 1) {
            // Rounded: darker toward the outline, lit from above.
            const light = (0.72 + 0.28 * Math.sqrt(1 - d)) * (1 - 0.12 * dy);
            out[o] = Math.min(255, SKIN[0] * light);
            out[o + 1] = Math.min(255, SKIN[1] * light);
            out[o + 2] = Math.min(255, SKIN[2] * light);
            return true;
          }
        }
      }
      const ax = Math.abs(xm);
      const ay = Math.abs(ym);
      if (ax >= l.halfW || ay >= l.halfH) return false;
      const cx = ax - (l.halfW - l.corner);
      const cy = ay - (l.halfH - l.corner);
      if (cx > 0 && cy > 0 && cx * cx + cy * cy > r2) return false;
      let red: number;
      let green: number;
      let blue: number;
      if (ax < l.activeHalfW && ay < l.activeHalfH) {
        const u = (l.centreU + xm * l.srcPerMm) * pictureScale;
        const v = (l.centreV + ym * l.srcPerMm) * pictureScale;
        // Past the picture's edges: the letterbox's black.
        let [r, g, b] = [0, 0, 0];
        if (u >= 0 && v >= 0 && u < pw - 1 && v < ph - 1) {
          const x0 = Math.floor(u);
          const y0 = Math.floor(v);
          const fx = u - x0;
          const fy = v - y0;
          const [w00, w01, w10, w11] = [(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy];
          const i = (y0 * pw + x0) * 3;
          const j = i + pw * 3;
          r = src[i]! * w00 + src[i + 3]! * w01 + src[j]! * w10 + src[j + 3]! * w11;
          g = src[i + 1]! * w00 + src[i + 4]! * w01 + src[j + 1]! * w10 + src[j + 4]! * w11;
          b = src[i + 2]! * w00 + src[i + 5]! * w01 + src[j + 2]! * w10 + src[j + 5]! * w11;
        }
        // The display: its tone curve, then the RGB stripes and the dark rows between pixels as the
        // camera pixel's footprint integrates them.
        const du = xm / spec.pitch;
        const dv = ym / spec.pitch;
        const rows = STRIPE_CONTRAST * stripeCover(dv, footprint, 0, 0.8);
        red = toneR[r | 0]! * (1 - STRIPE_CONTRAST + rows * stripeCover(du, footprint, 0, 1 / 3));
        green = toneG[g | 0]! * (1 - STRIPE_CONTRAST + rows * stripeCover(du, footprint, 1 / 3, 1 / 3));
        blue = toneB[b | 0]! * (1 - STRIPE_CONTRAST + rows * stripeCover(du, footprint, 2 / 3, 1 / 3));
      } else {
        // The bezel: black plastic, its rim catching the light.
        const rim = Math.min(l.halfW - ax, l.halfH - ay) < 1.2 ? 40 : 0;
        red = 20 + rim;
        green = 20 + rim;
        blue = 23 + rim;
      }
      // The glass over screen and bezel reflects a band of the room and a lamp.
      const along = xm * gx + ym * gy - glareAt;
      const bx = (xm - blobX) / 9;
      const by = (ym - blobY) / 7;
      const spot = bx * bx + by * by;
      const glare = spec.glare * ((along > -glareBand && along < glareBand ? 0.55 * Math.exp(-(along * along) / (bandWidth * bandWidth)) : 0) + (spot < 9 ? Math.exp(-spot) : 0));
      const keep = 1 - Math.min(0.95, glare);
      out[o] = Math.min(255, 255 - (255 - red) * keep);
      out[o + 1] = Math.min(255, 255 - (255 - green) * keep);
      out[o + 2] = Math.min(255, 255 - (255 - blue) * keep);
      return true;
    },
  };
}

/** Deterministic noise in [0, 1) per integer point (a hash), for the room's texture. */
function hash2(x: number, y: number, seed: number): number {
  let h = Math.imul(x, 0x27d4eb2d) ^ Math.imul(y, 0x165667b1) ^ Math.imul(seed, 0x9e3779b9);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h ^= h >>> 13;
  return ((h >>> 0) % 65536) / 65536;
}

/**
 * A room behind the device, out of focus: a warm wall lit from a ceiling lamp, a door frame and a
 * shelf darker, a floor strip, the wall's texture as smooth value noise, not a flat colour.
 */
export function indoorBackground(width: number, height: number, seed: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  const cell = Math.max(8, Math.round(width / 40));
  const smooth = (x: number, y: number) => {
    const [gx, gy] = [x / cell, y / cell];
    const [ix, iy] = [Math.floor(gx), Math.floor(gy)];
    const [fx, fy] = [gx - ix, gy - iy];
    const [sx, sy] = [fx * fx * (3 - 2 * fx), fy * fy * (3 - 2 * fy)];
    const top = hash2(ix, iy, seed) * (1 - sx) + hash2(ix + 1, iy, seed) * sx;
    const bottom = hash2(ix, iy + 1, seed) * (1 - sx) + hash2(ix + 1, iy + 1, seed) * sx;
    return top * (1 - sy) + bottom * sy;
  };
  const door = { left: 0.08 * width, right: 0.27 * width, top: 0.12 * height };
  const shelf = { left: 0.72 * width, right: 0.95 * width, top: 0.3 * height, bottom: 0.36 * height };
  const floor = 0.86 * height;
  const lamp = { x: 0.6 * width, y: -0.2 * height };
  // Soft edges: the background is out of focus.
  const edge = (d: number) => Math.min(1, Math.max(0, 0.5 + d / (0.012 * width)));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dl = Math.hypot(x - lamp.x, y - lamp.y) / width;
      let base = 168 - 70 * dl + 18 * (smooth(x, y) - 0.5);
      const inDoor = Math.min(edge(x - door.left), edge(door.right - x), edge(y - door.top));
      base = base * (1 - 0.35 * inDoor);
      const onShelf = Math.min(edge(x - shelf.left), edge(shelf.right - x), edge(y - shelf.top), edge(shelf.bottom - y));
      base = base * (1 - 0.45 * onShelf);
      const onFloor = edge(y - floor);
      const o = (y * width + x) * 3;
      out[o] = base * (1 - onFloor) + (base * 0.7 + 10) * onFloor;
      out[o + 1] = base * 0.94 * (1 - onFloor) + base * 0.55 * onFloor;
      out[o + 2] = base * 0.84 * (1 - onFloor) + base * 0.4 * onFloor;
    }
  }
  return out;
}

/** A clip's frames from `fromS` at `fps`, scaled to `width`×`height` by FFmpeg (area filter), for at most `seconds`. */
async function* clipFrames(file: string, o: { fps: number; width: number; height: number; seconds: number; fromS: number }): AsyncGenerator<RgbImage> {
  const ffmpeg = spawn('ffmpeg', ['-v', 'error', '-ss', String(o.fromS), '-i', file, '-an', '-t', String(o.seconds), '-vf', `fps=${o.fps},scale=${o.width}:${o.height}:flags=area`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  ffmpeg.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<number | null>((resolve) => ffmpeg.on('close', resolve));
  const size = o.width * o.height * 3;
  let frame = new Uint8Array(size);
  let filled = 0;
  try {
    for await (const chunk of ffmpeg.stdout as AsyncIterable<Buffer>) {
      let at = 0;
      while (at < chunk.length) {
        const n = Math.min(size - filled, chunk.length - at);
        frame.set(chunk.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled === size) {
          yield { width: o.width, height: o.height, data: frame };
          frame = new Uint8Array(size);
          filled = 0;
        }
      }
    }
    const code = await closed;
    if (code !== 0) throw new Error(`ffmpeg exited ${code} decoding ${file}: ${stderr}`);
  } finally {
    ffmpeg.kill();
  }
}

/** One frame of a clip at `atS` seconds, rotated as FFmpeg plays it. */
export async function clipStill(file: string, atS: number): Promise<RgbImage> {
  const png = await new Promise<Buffer>((resolve, reject) => {
    const ffmpeg = spawn('ffmpeg', ['-v', 'error', '-ss', String(atS), '-i', file, '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', 'pipe:1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    ffmpeg.stdout.on('data', (d: Buffer) => chunks.push(d));
    ffmpeg.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    ffmpeg.on('error', reject);
    ffmpeg.on('close', (code) => (code === 0 && chunks.length ? resolve(Buffer.concat(chunks)) : reject(new Error(`ffmpeg exited ${code} taking ${file} at ${atS} s: ${stderr}`))));
  });
  return decodeImage(png, `${file}@${atS}`);
}

const backgrounds = new Map<string, Uint8Array>();

/** Renders the attack and encodes it to `output` (H.264 in MP4): the frames written. */
export async function writeScreenAttack(a: ScreenAttack, output: string): Promise<number> {
  const cam = cameraFor(a.frame);
  const backgroundKey = `${cam.width}x${cam.height}`;
  if (!backgrounds.has(backgroundKey)) backgrounds.set(backgroundKey, indoorBackground(cam.width, cam.height, 7));
  const background = backgrounds.get(backgroundKey)!;
  const writer = new H264Writer(output, { ...a.frame, fps: a.fps, crf: a.crf });
  const tremor = tremorSource(a.seed);
  let written = 0;
  for await (const surfaceAt of screenSurfaces(a)) {
    const p = pose(a.motion, written / a.fps, a.seconds, cam.width, tremor);
    const frame = new Uint8Array(cam.width * cam.height * 3);
    renderPlane(cam, p, 0, surfaceAt(p), background, frame);
    await writer.write(frame);
    written++;
  }
  await writer.close();
  return written;
}

/**
 * The screen frame by frame, at `a.fps` for `a.seconds` (a shorter clip ends sooner): each frame's
 * picture on the device, as the plane's surface for the pose it is seen in (the glare and the
 * display's moiré follow the pose). Posed and drawn by the caller: one camera (writeScreenAttack),
 * or two cameras at once seeing one pose each by its own homography (stereo-media.ts).
 */
export async function* screenSurfaces(a: ScreenAttack): AsyncGenerator<(p: Pose) => PlaneSurface> {
  const l = layout(a);
  // Camera px per mm of the device at the base distance.
  const k = a.facePx / (a.face.h / l.srcPerMm);
  // The picture is decoded at about the size it has on the camera's frame when the device is
  // closest (a zoom brings it half again as close): finer only costs, coarser would blur it.
  const pictureScale = Math.min(1, (1.6 * k) / l.srcPerMm);
  const width = Math.max(2, 2 * Math.round((a.size.width * pictureScale) / 2));
  const height = Math.max(2, 2 * Math.round((a.size.height * pictureScale) / 2));
  const tones = toneTables(DEVICE_SPECS[a.device]);
  const total = Math.round(a.seconds * a.fps);
  const pictures: AsyncIterator<RgbImage> | undefined =
    'video' in a.source ? clipFrames(a.source.video, { fps: a.fps, width, height, seconds: Math.min(a.seconds, a.source.seconds), fromS: a.source.fromS ?? 0 }) : undefined;
  const still = 'still' in a.source ? await scaledStill(a.source.still, width, height) : undefined;
  try {
    for (let written = 0; written < total; written++) {
      let picture = still;
      if (pictures) {
        const next = await pictures.next();
        if (next.done) break;
        picture = next.value;
      }
      const shown = picture!;
      yield (p: Pose) => deviceSurface(a, l, k, shown, width / a.size.width, tones, p, a.seed);
    }
  } finally {
    await pictures?.return?.(undefined);
  }
}

/** A photo at the size it is shown at (sharp's area-averaging resize), so that sampling it does not alias. */
async function scaledStill(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (width === image.width && height === image.height) return image;
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).resize(width, height, { kernel: 'cubic' }).raw().toBuffer();
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
