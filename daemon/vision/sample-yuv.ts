import type { Affine } from './geometry.js';
import { CLAMP, foldedYuvTables, packedRgb, yuv420Layout, yuvTables } from '../base/yuv.js';
import type { Store } from './sample-store.js';
import type { Yuv420Image } from './types.js';

/**
 * The detector's 2×2 case on a YUV frame, straight from the planes: each tap reads its Y and the
 * U and V of its 2×2 block and is converted as FFmpeg converts it (see `packedRgb`), and the four
 * are summed as average2x2 sums FFmpeg's RGB, so the detector gets the input it got from RGB
 * frames. A tap outside the frame is black padding.
 *
 * This runs on every detector pass (76 800 outputs, 307 200 taps), so the four taps' conversion is
 * written out here with the folded tables in locals (foldedYuvTables): through `packedRgb` the
 * same sums took 1.4 ms of CPU a pass against 1.1 ms (the built module, one thread), and the folded
 * tables take a further eighth off. Only the taps at the frame's edge take `packedRgb`.
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
  const { r: rAt, g: gAt, b: bAt, step, offset } = st;
  const gain = st.scale * 0.25;
  const t = yuvTables(img.matrix);
  const { y: tY, rV, gUV, bU } = foldedYuvTables(img.matrix);
  const C = CLAMP;
  for (let v = 0, at = 0; v < outH; v++) {
    const r0 = lumaRows[2 * v]!, r1 = lumaRows[2 * v + 1]!;
    const s0 = chromaRows[2 * v]!, s1 = chromaRows[2 * v + 1]!;
    const u0 = uOffset + s0, u1 = uOffset + s1, v0 = vOffset + s0, v1 = vOffset + s1;
    for (let u = 0; u < outW; u++, at += step) {
      const c0 = lumaCols[2 * u]!, c1 = lumaCols[2 * u + 1]!;
      const d0 = chromaCols[2 * u]!, d1 = chromaCols[2 * u + 1]!;
      if ((r0 | r1 | c0 | c1) < 0) {
        // Partly outside the frame: the taps outside add nothing.
        let sum = 0;
        if (r0 >= 0 && c0 >= 0) sum += packedRgb(t, data[r0 + c0]!, data[u0 + d0]!, data[v0 + d0]!);
        if (r0 >= 0 && c1 >= 0) sum += packedRgb(t, data[r0 + c1]!, data[u0 + d1]!, data[v0 + d1]!);
        if (r1 >= 0 && c0 >= 0) sum += packedRgb(t, data[r1 + c0]!, data[u1 + d0]!, data[v1 + d0]!);
        if (r1 >= 0 && c1 >= 0) sum += packedRgb(t, data[r1 + c1]!, data[u1 + d1]!, data[v1 + d1]!);
        dst[rAt + at] = (sum & 1023) * gain + offset;
        dst[gAt + at] = ((sum >> 10) & 1023) * gain + offset;
        dst[bAt + at] = (sum >> 20) * gain + offset;
        continue;
      }
      let l = tY[data[r0 + c0]!]!;
      let cu = data[u0 + d0]!;
      let cv = data[v0 + d0]!;
      let r = C[l + rV[cv]!]!;
      let g = C[l + gUV[(cu << 8) | cv]!]!;
      let b = C[l + bU[cu]!]!;
      l = tY[data[r0 + c1]!]!;
      cu = data[u0 + d1]!;
      cv = data[v0 + d1]!;
      r += C[l + rV[cv]!]!;
      g += C[l + gUV[(cu << 8) | cv]!]!;
      b += C[l + bU[cu]!]!;
      l = tY[data[r1 + c0]!]!;
      cu = data[u1 + d0]!;
      cv = data[v1 + d0]!;
      r += C[l + rV[cv]!]!;
      g += C[l + gUV[(cu << 8) | cv]!]!;
      b += C[l + bU[cu]!]!;
      l = tY[data[r1 + c1]!]!;
      cu = data[u1 + d1]!;
      cv = data[v1 + d1]!;
      r += C[l + rV[cv]!]!;
      g += C[l + gUV[(cu << 8) | cv]!]!;
      b += C[l + bU[cu]!]!;
      dst[rAt + at] = r * gain + offset;
      dst[gAt + at] = g * gain + offset;
      dst[bAt + at] = b * gain + offset;
    }
  }
}
