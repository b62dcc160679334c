/**
 * YUV 4:2:0 frames: their layout, and their conversion to RGB and grey (limited range, in the
 * stream's matrix: ITU-R BT.601 or BT.709).
 */
import type { Box, Picture, RgbImage, Yuv420Image, YuvMatrix } from './image.js';

/** Where the planes of a width×height I420 frame lie in its bytes. */
export interface Yuv420Layout {
  /** Chroma plane size: half the luma's each way, rounded up. */
  readonly chromaWidth: number;
  readonly chromaHeight: number;
  readonly uOffset: number;
  readonly vOffset: number;
  readonly bytes: number;
}

export function yuv420Layout(width: number, height: number): Yuv420Layout {
  const chromaWidth = (width + 1) >> 1;
  const chromaHeight = (height + 1) >> 1;
  const uOffset = width * height;
  const vOffset = uOffset + chromaWidth * chromaHeight;
  return { chromaWidth, chromaHeight, uOffset, vOffset, bytes: vOffset + chromaWidth * chromaHeight };
}

/**
 * Limited-range YUV to RGB as FFmpeg's own converter computes it (swscale's x86 fixed-point path,
 * which made every RGB frame the models were measured on): its integer coefficients (16.16, from
 * its table of matrices) to 1/8192, each term floored on its own, the sum clamped to 0..255. This
 * is FFmpeg's `-pix_fmt rgb24` byte for byte; the exact formula, rounded, makes nearly every pixel
 * one or two levels brighter, and the eye model's readings of small eyes move with a level. Kept
 * as tables of each term, indexed by the byte.
 */
export interface YuvTables {
  readonly y: Int16Array;
  readonly rV: Int16Array;
  readonly gU: Int16Array;
  readonly gV: Int16Array;
  readonly bU: Int16Array;
}

function term(coefficient16: number, zero: number): Int16Array {
  const k = Math.round(coefficient16 / 8);
  // swscale scales the byte by 8 and keeps the high 16 bits of its product with the coefficient.
  return Int16Array.from({ length: 256 }, (_, v) => ((v - zero) * 8 * k) >> 16);
}

/** swscale's coefficients (×65536): V to red, U to blue, U and V to green (subtracted). */
function tables(vr: number, ub: number, ug: number, vg: number): YuvTables {
  return { y: term(Math.floor((65536 * 255) / 219), 16), rV: term(vr, 128), bU: term(ub, 128), gU: term(-ug, 128), gV: term(-vg, 128) };
}

const MATRICES: Record<YuvMatrix, YuvTables> = {
  bt601: tables(104597, 132201, 25675, 53279),
  bt709: tables(117489, 138438, 13975, 34925),
};

/**
 * The matrix FFmpeg converts a stream with, from the colour space its headers name ("bt709",
 * "smpte170m", "unknown"...): BT.709 where they say so, BT.601 for everything else.
 */
export function matrixNamed(colorSpace: string | undefined): YuvMatrix {
  return colorSpace === 'bt709' ? 'bt709' : 'bt601';
}

export function yuvTables(matrix: YuvMatrix): YuvTables {
  return MATRICES[matrix];
}

/**
 * The same conversion folded for a loop that runs it on every pixel it reads (a crop's RGB,
 * `toRgb`): the luma term already offset into CLAMP, and green's two chroma terms summed into one
 * table by (u << 8 | v). Fewer reads and adds per pixel for the same bytes (a 1080p frame's
 * detector pass read so took 1.12 ms against 1.30 with the separate terms, one thread, this
 * project's 2-core box). 2 × 128 KiB, made once.
 */
interface FoldedYuvTables {
  /** CLAMP_AT + the luma term, by Y. */
  readonly y: Int16Array;
  readonly rV: Int16Array;
  /** gU[u] + gV[v] at (u << 8) | v. */
  readonly gUV: Int16Array;
  readonly bU: Int16Array;
}

function folded(t: YuvTables): FoldedYuvTables {
  const gUV = new Int16Array(65536);
  for (let u = 0; u < 256; u++) for (let v = 0; v < 256; v++) gUV[(u << 8) | v] = t.gU[u]! + t.gV[v]!;
  return { y: Int16Array.from(t.y, (y) => y + CLAMP_AT), rV: t.rV, gUV, bU: t.bU };
}

function foldedYuvTables(matrix: YuvMatrix): FoldedYuvTables {
  return FOLDED[matrix];
}

/** x clamped to 0..255 at CLAMP[CLAMP_AT + x], for x from −CLAMP_AT to 639 (a converted channel stays within −300..560). */
const CLAMP_AT = 384;
const CLAMP = Uint8Array.from({ length: 1024 }, (_, i) => Math.min(255, Math.max(0, i - CLAMP_AT)));

// Below CLAMP_AT, which the folded luma table is offset by.
const FOLDED: Record<YuvMatrix, FoldedYuvTables> = { bt601: folded(MATRICES.bt601), bt709: folded(MATRICES.bt709) };

/**
 * The conversion's terms of four pixels' bytes at once, by the sum of the four (0..1020): four
 * times the term of their mean, FFmpeg's own table where the four are equal and a straight line
 * between its neighbours where they are not. What the detector's 2×2 taps read (sample-yuv.ts):
 * one conversion of the taps' mean rather than four conversions summed.
 */
export interface QuadYuvTables {
  readonly y: Int32Array;
  readonly rV: Int32Array;
  readonly gU: Int32Array;
  readonly gV: Int32Array;
  readonly bU: Int32Array;
}

function quad(term: Int16Array): Int32Array {
  return Int32Array.from({ length: 4 * 255 + 1 }, (_, sum) => {
    const low = sum >> 2;
    const part = sum & 3;
    return term[low]! * (4 - part) + (part === 0 ? 0 : term[low + 1]! * part);
  });
}

function quadTables(t: YuvTables): QuadYuvTables {
  return { y: quad(t.y), rV: quad(t.rV), gU: quad(t.gU), gV: quad(t.gV), bU: quad(t.bU) };
}

const QUAD: Record<YuvMatrix, QuadYuvTables> = { bt601: quadTables(MATRICES.bt601), bt709: quadTables(MATRICES.bt709) };

export function quadYuvTables(matrix: YuvMatrix): QuadYuvTables {
  return QUAD[matrix];
}

/**
 * One pixel converted, its channels packed ten bits apart (r + g·2¹⁰ + b·2²⁰), so that the sum of
 * up to four pixels keeps them apart (4 × 255 < 1024): the detector's 2×2 taps add up without an
 * array.
 */
export function packedRgb(t: YuvTables, y: number, u: number, v: number): number {
  const l = CLAMP_AT + t.y[y]!;
  return CLAMP[l + t.rV[v]!]! + (CLAMP[l + t.gU[u]! + t.gV[v]!]! << 10) + (CLAMP[l + t.bU[u]!]! << 20);
}

export function isYuv420(img: Picture): img is Yuv420Image {
  return img.format === 'yuv420p';
}

/**
 * Grey 0..255 at pixel (x, y), which must lie inside the picture. From a YUV frame it is the luma
 * term of FFmpeg's conversion (yuvTables), not clamped: the grey of the pixel without its colour,
 * which is all the motion mask and the frozen check compare, one frame with another. A table
 * lookup: the motion mask reads tens of thousands of pixels a frame.
 */
export function lumaAt(img: Picture, x: number, y: number): number {
  if (isYuv420(img)) return MATRICES[img.matrix].y[img.data[y * img.width + x]!]!;
  const i = (y * img.width + x) * 3;
  return 0.299 * img.data[i]! + 0.587 * img.data[i + 1]! + 0.114 * img.data[i + 2]!;
}

/** The bytes a picture of its size and format must have, to check a buffer before reading it. */
export function pictureBytes(img: Picture): number {
  return isYuv420(img) ? yuv420Layout(img.width, img.height).bytes : img.width * img.height * 3;
}

/**
 * An RGB copy of the picture, or of the part of it inside `box` (whole pixels, clipped to the
 * picture; at least 1×1). Converting only what is kept is what makes YUV frames pay.
 */
export function toRgb(img: Picture, box: Box = { x: 0, y: 0, w: img.width, h: img.height }): RgbImage {
  const x1 = Math.min(Math.max(0, Math.round(box.x)), img.width - 1);
  const y1 = Math.min(Math.max(0, Math.round(box.y)), img.height - 1);
  const width = Math.max(1, Math.min(img.width, Math.round(box.x + box.w)) - x1);
  const height = Math.max(1, Math.min(img.height, Math.round(box.y + box.h)) - y1);
  const data = new Uint8Array(width * height * 3);
  if (!isYuv420(img)) {
    for (let y = 0; y < height; y++) {
      const src = ((y1 + y) * img.width + x1) * 3;
      data.set(img.data.subarray(src, src + width * 3), y * width * 3);
    }
    return { width, height, data };
  }
  const { chromaWidth, uOffset, vOffset } = yuv420Layout(img.width, img.height);
  const src = img.data;
  const { y: tY, rV, gUV, bU } = foldedYuvTables(img.matrix);
  const C = CLAMP;
  for (let y = 0, o = 0; y < height; y++) {
    const row = (y1 + y) * img.width + x1;
    const chromaRow = ((y1 + y) >> 1) * chromaWidth;
    // Two pixels side by side share their chroma sample: its terms are read once for both.
    let at = -1, tr = 0, tg = 0, tb = 0;
    for (let x = 0; x < width; x++, o += 3) {
      const c = chromaRow + ((x1 + x) >> 1);
      if (c !== at) {
        at = c;
        const u = src[uOffset + c]!, v = src[vOffset + c]!;
        tr = rV[v]!;
        tg = gUV[(u << 8) | v]!;
        tb = bU[u]!;
      }
      const l = tY[src[row + x]!]!;
      data[o] = C[l + tr]!;
      data[o + 1] = C[l + tg]!;
      data[o + 2] = C[l + tb]!;
    }
  }
  return { width, height, data };
}
