import type { Affine } from './geometry.js';
import { packedRgb, quadYuvTables, yuv420Layout, yuvTables, type YuvTables } from '../base/yuv.js';
import type { Store } from './sample-store.js';
import type { Yuv420Image } from './types.js';

/**
 * The detector's 2×2 case on a YUV frame, straight from the planes. Each output pixel is the
 * conversion of its four taps' mean Y, U and V (each tap's U and V those of its 2×2 block), as
 * FFmpeg would convert a pixel of those bytes (quadYuvTables). Where the four taps are alike, as on
 * most of a picture, that is the mean of their four conversions, which is what the detector read
 * from RGB frames; where they differ it is within a level of it but at a sharp edge of a colour
 * that clips (measured on the throughput bench's 1080p scene: 88 % of the values the same, the
 * mean 0.04 of a level apart, the most 9.5). A tap outside the frame is black padding; there the
 * taps inside are converted one by one and summed (`packedRgb`).
 *
 * This runs on every detector pass (76 800 outputs, 307 200 taps) and was a fifth of a vision
 * worker's time with eight busy 1080p cameras: one conversion of the taps' sums reads 17 bytes and
 * table entries an output against 40 for four conversions, and takes a little over half the time
 * (2.3 → 1.2–1.4 ms a pass, one thread, the same frame and regions, best of 15 rounds alternated).
 */
export function average2x2Yuv(img: Yuv420Image, m: Affine, outW: number, outH: number, dst: Float32Array, st: Store): void {
  const { width: W, height: H, data } = img;
  const { chromaWidth, uOffset, vOffset } = yuv420Layout(W, H);
  const lumaCols = new Int32Array(2 * outW), chromaCols = new Int32Array(2 * outW);
  for (let k = 0; k < 2 * outW; k++) {
    const x = Math.floor(m.a * ((k >> 1) + ((k & 1) + 0.5) / 2) + m.tx);
    lumaCols[k] = x >= 0 && x < W ? x : -1;
    chromaCols[k] = x >> 1;
  }
  const lumaRows = new Int32Array(2 * outH), chromaRows = new Int32Array(2 * outH);
  for (let k = 0; k < 2 * outH; k++) {
    const y = Math.floor(m.d * ((k >> 1) + ((k & 1) + 0.5) / 2) + m.ty);
    lumaRows[k] = y >= 0 && y < H ? y * W : -1;
    chromaRows[k] = (y >> 1) * chromaWidth;
  }
  const taps: Taps = { lumaCols, chromaCols, lumaRows, chromaRows, uOffset, vOffset };
  const { r: rAt, g: gAt, b: bAt, step, offset } = st;
  const gain = st.scale * 0.25;
  const t = yuvTables(img.matrix);
  const { y: qY, rV, gU, gV, bU } = quadYuvTables(img.matrix);
  // A channel of four taps summed lies in 0..4·255.
  const TOP = 4 * 255;
  for (let v = 0, at = 0; v < outH; v++) {
    const r0 = lumaRows[2 * v]!, r1 = lumaRows[2 * v + 1]!;
    const s0 = chromaRows[2 * v]!, s1 = chromaRows[2 * v + 1]!;
    const u0 = uOffset + s0, u1 = uOffset + s1, v0 = vOffset + s0, v1 = vOffset + s1;
    for (let u = 0; u < outW; u++, at += step) {
      const c0 = lumaCols[2 * u]!, c1 = lumaCols[2 * u + 1]!;
      if ((r0 | r1 | c0 | c1) < 0) {
        // Partly outside the frame: the taps inside converted one by one and summed.
        const sum = edgeSum(data, t, taps, u, v);
        dst[rAt + at] = (sum & 1023) * gain + offset;
        dst[gAt + at] = ((sum >> 10) & 1023) * gain + offset;
        dst[bAt + at] = (sum >> 20) * gain + offset;
        continue;
      }
      const d0 = chromaCols[2 * u]!, d1 = chromaCols[2 * u + 1]!;
      const l = qY[data[r0 + c0]! + data[r0 + c1]! + data[r1 + c0]! + data[r1 + c1]!]!;
      const us = data[u0 + d0]! + data[u0 + d1]! + data[u1 + d0]! + data[u1 + d1]!;
      const vs = data[v0 + d0]! + data[v0 + d1]! + data[v1 + d0]! + data[v1 + d1]!;
      const r = l + rV[vs]!, g = l + gU[us]! + gV[vs]!, b = l + bU[us]!;
      dst[rAt + at] = (r < 0 ? 0 : r > TOP ? TOP : r) * gain + offset;
      dst[gAt + at] = (g < 0 ? 0 : g > TOP ? TOP : g) * gain + offset;
      dst[bAt + at] = (b < 0 ? 0 : b > TOP ? TOP : b) * gain + offset;
    }
  }
}

/** Where each output's taps read: luma and chroma offsets by column and by row (−1 for a luma tap outside the frame). */
interface Taps {
  lumaCols: Int32Array;
  chromaCols: Int32Array;
  lumaRows: Int32Array;
  chromaRows: Int32Array;
  uOffset: number;
  vOffset: number;
}

/** An output partly outside the frame: its taps inside converted one by one, packed and summed; those outside add nothing. */
function edgeSum(data: Uint8Array, t: YuvTables, taps: Taps, u: number, v: number): number {
  let sum = 0;
  for (let j = 0; j < 2; j++) {
    const row = taps.lumaRows[2 * v + j]!;
    if (row < 0) continue;
    const chroma = taps.chromaRows[2 * v + j]!;
    for (let i = 0; i < 2; i++) {
      const col = taps.lumaCols[2 * u + i]!;
      if (col < 0) continue;
      const c = chroma + taps.chromaCols[2 * u + i]!;
      sum += packedRgb(t, data[row + col]!, data[taps.uOffset + c]!, data[taps.vOffset + c]!);
    }
  }
  return sum;
}
