import type { Affine } from './geometry.js';
import { isYuv420, toRgb } from '../base/yuv.js';
import { average2x2Yuv } from './sample-yuv.js';
import { put, storeFor, type PlanarLayout, type SampleLayout, type Store } from './sample-store.js';
import type { Picture, RgbImage } from './types.js';

/**
 * Samples an outW×outH crop of `img` through `map` (crop coordinates → image coordinates).
 * Outside the image reads black, which is also how the detector's pad-to-4:3 is done. Upscaling
 * and mild downscaling interpolate bilinearly; strong downscaling averages a grid of taps over
 * each output pixel's footprint, since plain bilinear would alias small faces away.
 *
 * A YUV frame is never converted whole: the detector's case (2×2 taps, axis-aligned, larger than a
 * face crop) reads the planes directly; any other crop converts only the part of the frame its taps
 * can reach.
 */
export function sampleAffine(
  img: Picture,
  map: Affine,
  outW: number,
  outH: number,
  out?: Float32Array,
  options: { maxTaps?: number; layout?: SampleLayout } = {},
): Float32Array {
  const dst = out ?? new Float32Array(outW * outH * 3);
  const store = storeFor(options.layout ?? 'rgb', outW * outH);
  const footprint = Math.sqrt(Math.abs(map.a * map.d - map.b * map.c));
  // Small crops (faces for the models, ≤ 128×128) get a tap per source pixel, up to 8×8, so that
  // a large face shrunk to 112 px keeps its detail without aliasing; the detector's 320×240 input
  // gets 2×2, which finds the same faces at a quarter of the cost of 3×3.
  const faceCrop = outW * outH <= 128 * 128;
  const maxTaps = options.maxTaps ?? (faceCrop ? 8 : 2);
  const taps = footprint > 1.75 ? Math.min(maxTaps, Math.round(footprint)) : 1;
  const axisAligned = map.b === 0 && map.c === 0;
  if (isYuv420(img)) {
    // The detector's input reads each 2×2 of taps as one conversion; a face crop reads every tap
    // as FFmpeg converts it, to which the landmarks and the eyes are sensitive by a tenth of a pixel.
    if (taps === 2 && axisAligned && !faceCrop) {
      average2x2Yuv(img, map, outW, outH, dst, store);
      return dst;
    }
    const part = reachable(img, map, outW, outH);
    return sampleAffine(toRgb(img, part), { ...map, tx: map.tx - part.x, ty: map.ty - part.y }, outW, outH, dst, options);
  }
  if (taps === 1) {
    if (axisAligned) bilinearAxisAligned(img, map, outW, outH, dst, store);
    else bilinear(img, map, outW, outH, dst, store);
  } else if (axisAligned) boxAverageAxisAligned(img, map, outW, outH, taps, dst, store);
  else boxAverage(img, map, outW, outH, taps, dst, store);
  return dst;
}

/**
 * The crop-and-resize case (every crop but the rotated alignment): tap positions are separable,
 * so they are computed once per column and per row and the inner loop only reads pixels.
 */
function boxAverageAxisAligned(img: RgbImage, m: Affine, outW: number, outH: number, taps: number, dst: Float32Array, st: Store): void {
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
    average2x2(data, cols, rows, outW, outH, dst, st);
    return;
  }
  const { step } = st;
  const gain = st.scale / (taps * taps);
  for (let v = 0, at = 0; v < outH; v++) {
    for (let u = 0; u < outW; u++, at += step) {
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
      put(dst, st, at, r, g, b, gain);
    }
  }
}

function bilinear(img: RgbImage, m: Affine, outW: number, outH: number, dst: Float32Array, st: Store): void {
  const { width: W, height: H, data } = img;
  const { step, scale: gain } = st;
  for (let v = 0, at = 0; v < outH; v++) {
    const cy = v + 0.5;
    for (let u = 0; u < outW; u++, at += step) {
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
      put(dst, st, at, r, g, b, gain);
    }
  }
}

/**
 * The rotated case (the alignment warp). Each output pixel's taps sit at fixed offsets from its
 * corner, and the corner moves by a constant step along a row, so the inner loop only adds.
 */
function boxAverage(img: RgbImage, m: Affine, outW: number, outH: number, taps: number, dst: Float32Array, st: Store): void {
  const { width: W, height: H, data } = img;
  const n = taps * taps;
  const { step } = st;
  const gain = st.scale / n;
  const offX = new Float64Array(n);
  const offY = new Float64Array(n);
  for (let j = 0, k = 0; j < taps; j++) {
    for (let i = 0; i < taps; i++, k++) {
      const cx = (i + 0.5) / taps;
      const cy = (j + 0.5) / taps;
      offX[k] = m.a * cx + m.b * cy;
      offY[k] = m.c * cx + m.d * cy;
    }
  }
  for (let v = 0, at = 0; v < outH; v++) {
    let x0 = m.b * v + m.tx;
    let y0 = m.d * v + m.ty;
    for (let u = 0; u < outW; u++, x0 += m.a, y0 += m.c, at += step) {
      let r = 0, g = 0, b = 0;
      for (let t = 0; t < n; t++) {
        const fx = x0 + offX[t]!;
        const fy = y0 + offY[t]!;
        // Truncation is floor here: negatives were skipped first.
        if (fx < 0 || fy < 0 || fx >= W || fy >= H) continue;
        const p = ((fy | 0) * W + (fx | 0)) * 3;
        r += data[p]!;
        g += data[p + 1]!;
        b += data[p + 2]!;
      }
      put(dst, st, at, r, g, b, gain);
    }
  }
}

/**
 * Bilinear for crop-and-resize (the anti-spoof crop): the source columns and rows and their
 * weights are separable, so they are computed once and the inner loop only blends. A tap outside
 * the image reads pixel 0 with weight 0, which is black without a branch.
 */
function bilinearAxisAligned(img: RgbImage, m: Affine, outW: number, outH: number, dst: Float32Array, st: Store): void {
  const { width: W, height: H, data } = img;
  const stride = W * 3;
  const left = new Int32Array(outW), right = new Int32Array(outW);
  const wLeft = new Float64Array(outW), wRight = new Float64Array(outW);
  for (let u = 0; u < outW; u++) {
    const fx = m.a * (u + 0.5) + m.tx - 0.5;
    const x = Math.floor(fx);
    const w = fx - x;
    const inL = x >= 0 && x < W, inR = x + 1 >= 0 && x + 1 < W;
    left[u] = inL ? x * 3 : 0;
    right[u] = inR ? (x + 1) * 3 : 0;
    wLeft[u] = inL ? 1 - w : 0;
    wRight[u] = inR ? w : 0;
  }
  const { r: rAt, g: gAt, b: bAt, step, scale: gain, offset } = st;
  for (let v = 0, at = 0; v < outH; v++) {
    const fy = m.d * (v + 0.5) + m.ty - 0.5;
    const y = Math.floor(fy);
    const w = fy - y;
    const inT = y >= 0 && y < H, inB = y + 1 >= 0 && y + 1 < H;
    const top = inT ? y * stride : 0, bottom = inB ? (y + 1) * stride : 0;
    // The store's gain is folded into the row weights.
    const wTop = inT ? (1 - w) * gain : 0, wBottom = inB ? w * gain : 0;
    for (let u = 0; u < outW; u++, at += step) {
      const p = top + left[u]!, q = top + right[u]!, s = bottom + left[u]!, t = bottom + right[u]!;
      const wp = wTop * wLeft[u]!, wq = wTop * wRight[u]!, ws = wBottom * wLeft[u]!, wt = wBottom * wRight[u]!;
      dst[rAt + at] = data[p]! * wp + data[q]! * wq + data[s]! * ws + data[t]! * wt + offset;
      dst[gAt + at] = data[p + 1]! * wp + data[q + 1]! * wq + data[s + 1]! * ws + data[t + 1]! * wt + offset;
      dst[bAt + at] = data[p + 2]! * wp + data[q + 2]! * wq + data[s + 2]! * ws + data[t + 2]! * wt + offset;
    }
  }
}

/** 2×2 taps, the detector's case (every frame, every tile): unrolled, since it is the hot loop. */
function average2x2(data: Uint8Array, cols: Int32Array, rows: Int32Array, outW: number, outH: number, dst: Float32Array, st: Store): void {
  const { r: rAt, g: gAt, b: bAt, step, offset } = st;
  const gain = st.scale * 0.25;
  for (let v = 0, at = 0; v < outH; v++) {
    const r0 = rows[2 * v]!;
    const r1 = rows[2 * v + 1]!;
    for (let u = 0; u < outW; u++, at += step) {
      const c0 = cols[2 * u]!;
      const c1 = cols[2 * u + 1]!;
      if ((r0 | r1 | c0 | c1) >= 0) {
        const p = r0 + c0, q = r0 + c1, s = r1 + c0, t = r1 + c1;
        dst[rAt + at] = (data[p]! + data[q]! + data[s]! + data[t]!) * gain + offset;
        dst[gAt + at] = (data[p + 1]! + data[q + 1]! + data[s + 1]! + data[t + 1]!) * gain + offset;
        dst[bAt + at] = (data[p + 2]! + data[q + 2]! + data[s + 2]! + data[t + 2]!) * gain + offset;
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
      put(dst, st, at, r, g, b, gain);
    }
  }
}

/**
 * The whole pixels the taps of an outW×outH crop through `map` can read (bilinear reads one pixel
 * past its point), clipped to the picture: everything outside it is outside the picture too.
 */
function reachable(img: Picture, m: Affine, outW: number, outH: number): { x: number; y: number; w: number; h: number } {
  const xs = [m.tx, m.a * outW + m.tx, m.b * outH + m.tx, m.a * outW + m.b * outH + m.tx];
  const ys = [m.ty, m.c * outW + m.ty, m.d * outH + m.ty, m.c * outW + m.d * outH + m.ty];
  const x = Math.max(0, Math.floor(Math.min(...xs)) - 1);
  const y = Math.max(0, Math.floor(Math.min(...ys)) - 1);
  const w = Math.min(img.width, Math.ceil(Math.max(...xs)) + 2) - x;
  const h = Math.min(img.height, Math.ceil(Math.max(...ys)) + 2) - y;
  return { x: Math.min(x, img.width - 1), y: Math.min(y, img.height - 1), w: Math.max(1, w), h: Math.max(1, h) };
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

/** A planar model input back to grey 0..255 (ITU-R BT.601 luma), for measures taken on the same pixels. */
export function planarToGray(planar: Float32Array, pixels: number, layout: PlanarLayout, out = new Float32Array(pixels)): Float32Array {
  const [r0, b0] = layout.planes === 'rgb' ? [0, 2 * pixels] : [2 * pixels, 0];
  const { mean, div } = layout;
  for (let p = 0; p < pixels; p++) {
    out[p] = (0.299 * planar[r0 + p]! + 0.587 * planar[pixels + p]! + 0.114 * planar[b0 + p]!) * div + mean;
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
