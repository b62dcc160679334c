// Synthetic eye regions for tests that feed the tracker or the blink detector without models: an
// open eye (a dark iris and lashes on skin), a shut one (skin with the lid's crease), and a nose,
// shaped like the patches the analyzer cuts from an aligned face.
import { BROWS_PATCH, EYE_PATCH, NOSE_PATCH, MARGIN, type PatchSpec } from '../../daemon/vision/eye-regions.js';
import type { EyeRegions } from '../../daemon/vision/types.js';

function patch(spec: PatchSpec, value: (x: number, y: number) => number): Float32Array {
  const w = spec.w + 2 * MARGIN;
  const h = spec.h + 2 * MARGIN;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = value(x - w / 2, y - h / 2);
  return out;
}

/** A little texture, the same for every look: skin is not flat, and codecs keep some of it. */
const grain = (x: number, y: number) => 6 * Math.sin(1.7 * x + 0.3 * y) * Math.cos(1.3 * y - 0.5 * x);

/** An open eye looking `gaze` pixels to the side. */
export function openEye(gaze = 0): Float32Array {
  return patch(EYE_PATCH, (x, y) => {
    if ((x - gaze) ** 2 + y * y < 16) return 35; // iris and pupil
    if (Math.abs(y + 3) < 1 && Math.abs(x) < 8) return 60; // upper lashes
    if ((x * x) / 81 + (y * y) / 16 < 1) return 215; // sclera
    return 160 + grain(x, y);
  });
}

export const OPEN_EYE = openEye();

export const SHUT_EYE = patch(EYE_PATCH, (x, y) => {
  if (Math.abs(y - 1) < 1 && Math.abs(x) < 9) return 70; // lashes along the closed lid
  return 155 + grain(x, y);
});

export const NOSE = patch(NOSE_PATCH, (x, y) => {
  if ((x - 4) ** 2 + (y - 5) ** 2 < 4 || (x + 4) ** 2 + (y - 5) ** 2 < 4) return 60; // nostrils
  return 150 + 3 * x + grain(x, y);
});

export const BROWS = patch(BROWS_PATCH, (x, y) => {
  if (Math.abs(y + 1) < 2 && Math.abs(x) > 6 && Math.abs(x) < 26) return 70; // the brows
  return 165 + grain(x, y);
});

/**
 * The nose patch with the lip below it `drop` pixels lower (the mouth opened to speak): what speech
 * does to the nose region, less than a turn or misplaced landmarks do.
 */
export function speakingNose(drop: number): Float32Array {
  return patch(NOSE_PATCH, (x, y) => {
    if (y > drop && ((x - 4) ** 2 + (y - drop - 5) ** 2 < 4 || (x + 4) ** 2 + (y - drop - 5) ** 2 < 4)) return 60;
    if ((x - 4) ** 2 + (y - 5) ** 2 < 4 || (x + 4) ** 2 + (y - 5) ** 2 < 4) return y > drop ? 150 + 3 * x : 60;
    return 150 + 3 * x + grain(x, y);
  });
}

/** The brows turned by `deg` degrees in the image: a picture tilted in front of the camera. */
export function tiltedBrows(deg: number): Float32Array {
  const [c, s] = [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)];
  return patch(BROWS_PATCH, (x0, y0) => {
    const [x, y] = [c * x0 + s * y0, -s * x0 + c * y0];
    if (Math.abs(y + 1) < 2 && Math.abs(x) > 6 && Math.abs(x) < 26) return 70;
    return 165 + grain(x, y);
  });
}

/** An eye whose lid is `shut` (0–1) of the way down, as a small, soft face shows it mid-blink. */
export function partlyShutEye(shut: number): Float32Array {
  return OPEN_EYE.map((v, i) => (1 - shut) * v + shut * SHUT_EYE[i]!);
}

/** The regions of a face whose eyes the model reads at these p(open): shut below 0.5. */
export function regionsFor(left: number, right: number): EyeRegions {
  return { left: left < 0.5 ? SHUT_EYE : OPEN_EYE, right: right < 0.5 ? SHUT_EYE : OPEN_EYE, nose: NOSE, brows: BROWS };
}

/** Every region of the picture replaced by something else: what misplaced landmarks give. */
export function scrambled(seed: number): EyeRegions {
  const noise = (x: number, y: number) => 128 + 100 * Math.sin(seed * 12.9898 + x * 78.233 + y * 37.719);
  return { left: patch(EYE_PATCH, noise), right: patch(EYE_PATCH, (x, y) => noise(y, x)), nose: patch(NOSE_PATCH, noise), brows: patch(BROWS_PATCH, noise) };
}
