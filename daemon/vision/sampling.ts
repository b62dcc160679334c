import type { Affine } from './geometry.js';
import type { RgbImage } from './types.js';

/**
 * Samples an outW×outH crop of `img` through `map` (crop coordinates → image coordinates) into
 * interleaved RGB floats 0..255. Outside the image reads black, which is also how the detector's
 * pad-to-4:3 is done. Upscaling and mild downscaling interpolate bilinearly; strong downscaling
 * averages a grid of taps over each output pixel's footprint, since plain bilinear would alias
 * small faces away.
 */
export function sampleAffine(
  img: RgbImage,
  map: Affine,
  outW: number,
  outH: number,
  out?: Float32Array,
  options: { maxTaps?: number } = {},
): Float32Array {
  const dst = out ?? new Float32Array(outW * outH * 3);
  const footprint = Math.sqrt(Math.abs(map.a * map.d - map.b * map.c));
  // Small crops (faces for the models, ≤ 128×128) get a tap per source pixel, up to 8×8, so that
  // a large face shrunk to 112 px keeps its detail without aliasing; the detector's 320×240 input
  // gets 2×2, which finds the same faces at a quarter of the cost of 3×3.
  const maxTaps = options.maxTaps ?? (outW * outH <= 128 * 128 ? 8 : 2);
  const taps = footprint > 1.75 ? Math.min(maxTaps, Math.round(footprint)) : 1;
  const axisAligned = map.b === 0 && map.c === 0;
  if (taps === 1) bilinear(img, map, outW, outH, dst);
  else if (axisAligned) boxAverageAxisAligned(img, map, outW, outH, taps, dst);
  else boxAverage(img, map, outW, outH, taps, dst);
  return dst;
}

/**
 * The crop-and-resize case (every crop but the rotated alignment): tap positions are separable,
 * so they are computed once per column and per row and the inner loop only reads pixels.
 */
function boxAverageAxisAligned(img: RgbImage, m: Affine, outW: number, outH: number, taps: number, dst: Float32Array): void {
  const { width: W, height: H, data } = img;
  const cols = new Int32Array(outW * taps);
  for (let u = 0, k = 0; u < outW; u++) {
    for (let i = 0; i < taps; i++, k++) {
      const x = Math.floor(m.a * (u + (i + 0.5) / taps) + m.tx);
      cols[k] = x >= 0 && x < W ? x * 3 : -1;
    }
  }
  const rows = new Int32Array(outH * taps);
  for (let v = 0, k = 0; v < outH; v++) {
    for (let j = 0; j < taps; j++, k++) {
      const y = Math.floor(m.d * (v + (j + 0.5) / taps) + m.ty);
      rows[k] = y >= 0 && y < H ? y * W * 3 : -1;
    }
  }
  if (taps === 2) {
    average2x2(data, cols, rows, outW, outH, dst);
    return;
  }
  const inv = 1 / (taps * taps);
  let o = 0;
  for (let v = 0; v < outH; v++) {
    for (let u = 0; u < outW; u++) {
      let r = 0, g = 0, b = 0;
      for (let j = 0; j < taps; j++) {
        const row = rows[v * taps + j]!;
        if (row < 0) continue;
        for (let i = 0; i < taps; i++) {
          const col = cols[u * taps + i]!;
          if (col < 0) continue;
          const p = row + col;
          r += data[p]!;
          g += data[p + 1]!;
          b += data[p + 2]!;
        }
      }
      dst[o++] = r * inv;
      dst[o++] = g * inv;
      dst[o++] = b * inv;
    }
  }
}

function bilinear(img: RgbImage, m: Affine, outW: number, outH: number, dst: Float32Array): void {
  const { width: W, height: H, data } = img;
  let o = 0;
  for (let v = 0; v < outH; v++) {
    const cy = v + 0.5;
    for (let u = 0; u < outW; u++) {
      const cx = u + 0.5;
      // Continuous source point, then to pixel-index space (centres at integers).
      const fx = m.a * cx + m.b * cy + m.tx - 0.5;
      const fy = m.c * cx + m.d * cy + m.ty - 0.5;
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      const wx = fx - x0;
      const wy = fy - y0;
      let r = 0, g = 0, b = 0;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < W && y0 + 1 < H) {
        const i00 = (y0 * W + x0) * 3;
        const i01 = i00 + 3;
        const i10 = i00 + W * 3;
        const i11 = i10 + 3;
        const w00 = (1 - wx) * (1 - wy), w01 = wx * (1 - wy), w10 = (1 - wx) * wy, w11 = wx * wy;
        r = data[i00]! * w00 + data[i01]! * w01 + data[i10]! * w10 + data[i11]! * w11;
        g = data[i00 + 1]! * w00 + data[i01 + 1]! * w01 + data[i10 + 1]! * w10 + data[i11 + 1]! * w11;
        b = data[i00 + 2]! * w00 + data[i01 + 2]! * w01 + data[i10 + 2]! * w10 + data[i11 + 2]! * w11;
      } else if (x0 >= -1 && y0 >= -1 && x0 < W && y0 < H) {
        // Border: each of the four taps that falls inside contributes, the rest are black.
        for (let k = 0; k < 4; k++) {
          const x = x0 + (k & 1);
          const y = y0 + (k >> 1);
          if (x < 0 || y < 0 || x >= W || y >= H) continue;
          const w = (k & 1 ? wx : 1 - wx) * (k >> 1 ? wy : 1 - wy);
          const i = (y * W + x) * 3;
          r += data[i]! * w;
          g += data[i + 1]! * w;
          b += data[i + 2]! * w;
        }
      }
      dst[o++] = r;
      dst[o++] = g;
      dst[o++] = b;
    }
  }
}

function boxAverage(img: RgbImage, m: Affine, outW: number, outH: number, taps: number, dst: Float32Array): void {
  const { width: W, height: H, data } = img;
  const inv = 1 / (taps * taps);
  let o = 0;
  for (let v = 0; v < outH; v++) {
    for (let u = 0; u < outW; u++) {
      let r = 0, g = 0, b = 0;
      for (let j = 0; j < taps; j++) {
        const cy = v + (j + 0.5) / taps;
        for (let i = 0; i < taps; i++) {
          const cx = u + (i + 0.5) / taps;
          const x = Math.floor(m.a * cx + m.b * cy + m.tx);
          const y = Math.floor(m.c * cx + m.d * cy + m.ty);
          if (x < 0 || y < 0 || x >= W || y >= H) continue;
          const p = (y * W + x) * 3;
          r += data[p]!;
          g += data[p + 1]!;
          b += data[p + 2]!;
        }
      }
      dst[o++] = r * inv;
      dst[o++] = g * inv;
      dst[o++] = b * inv;
    }
  }
}

/** 2×2 taps, the detector's case (every frame, every tile): unrolled, since it is the hot loop. */
function average2x2(data: Uint8Array, cols: Int32Array, rows: Int32Array, outW: number, outH: number, dst: Float32Array): void {
  let o = 0;
  for (let v = 0; v < outH; v++) {
    const r0 = rows[2 * v]!;
    const r1 = rows[2 * v + 1]!;
    for (let u = 0; u < outW; u++, o += 3) {
      const c0 = cols[2 * u]!;
      const c1 = cols[2 * u + 1]!;
      if ((r0 | r1 | c0 | c1) >= 0) {
        const p = r0 + c0, q = r0 + c1, s = r1 + c0, t = r1 + c1;
        dst[o] = (data[p]! + data[q]! + data[s]! + data[t]!) * 0.25;
        dst[o + 1] = (data[p + 1]! + data[q + 1]! + data[s + 1]! + data[t + 1]!) * 0.25;
        dst[o + 2] = (data[p + 2]! + data[q + 2]! + data[s + 2]! + data[t + 2]!) * 0.25;
        continue;
      }
      // Partly outside the image: the missing taps are black padding.
      let r = 0, g = 0, b = 0;
      for (const row of [r0, r1]) {
        if (row < 0) continue;
        for (const col of [c0, c1]) {
          if (col < 0) continue;
          r += data[row + col]!;
          g += data[row + col + 1]!;
          b += data[row + col + 2]!;
        }
      }
      dst[o] = r * 0.25;
      dst[o + 1] = g * 0.25;
      dst[o + 2] = b * 0.25;
    }
  }
}

/** Interleaved RGB floats → planar CHW tensor data, channel order and (px − mean) / div as a model wants. */
export function packChw(
  rgb: Float32Array,
  pixels: number,
  order: 'rgb' | 'bgr',
  mean: number,
  div: number,
  out = new Float32Array(pixels * 3),
): Float32Array {
  const [c0, c2] = order === 'rgb' ? [0, 2] : [2, 0];
  const inv = 1 / div;
  for (let p = 0, i = 0; p < pixels; p++, i += 3) {
    out[p] = (rgb[i + c0]! - mean) * inv;
    out[pixels + p] = (rgb[i + 1]! - mean) * inv;
    out[2 * pixels + p] = (rgb[i + c2]! - mean) * inv;
  }
  return out;
}

/** Interleaved RGB floats → grey (ITU-R BT.601 luma) / div. */
export function packGray(rgb: Float32Array, pixels: number, div: number, out = new Float32Array(pixels)): Float32Array {
  const inv = 1 / div;
  for (let p = 0, i = 0; p < pixels; p++, i += 3) {
    out[p] = (0.299 * rgb[i]! + 0.587 * rgb[i + 1]! + 0.114 * rgb[i + 2]!) * inv;
  }
  return out;
}
