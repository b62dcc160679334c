/** The picture every stage passes on, from the camera's frames to the gallery's photos. Coordinates are pixels. */

/** A decoded photo or crop: tightly packed RGB, 3 bytes a pixel, row-major. */
export interface RgbImage {
  readonly format?: undefined;
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * The matrix a YUV stream was encoded with, as its headers say: ITU-R BT.709 (HD cameras that say
 * so) or BT.601 (what FFmpeg assumes for a stream that says nothing, or says BT.601).
 */
export type YuvMatrix = 'bt601' | 'bt709';

/**
 * A camera frame as the decoder makes it: planar YUV 4:2:0 (I420), limited range, in `matrix`.
 * The Y plane (width×height), then U and V at half size each way, rounded up. Half the bytes of
 * RGB, and FFmpeg hands it over without a colour conversion; vision converts only the pixels it
 * samples.
 */
export interface Yuv420Image {
  readonly format: 'yuv420p';
  readonly matrix: YuvMatrix;
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** What vision reads: a camera frame, or a photo. */
export type Picture = RgbImage | Yuv420Image;

/** Axis-aligned box: top-left corner and size. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}
