/** The picture every stage passes on, from the camera's frames to the gallery's photos. Coordinates are pixels. */

/** A decoded photo or crop: tightly packed RGB, 3 bytes a pixel, row-major. */
export interface RgbImage {
  readonly format?: undefined;
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * A camera frame as the decoder makes it: planar YUV 4:2:0 (I420), ITU-R BT.601 limited range.
 * The Y plane (width×height), then U and V at half size each way, rounded up. Half the bytes of
 * RGB, and FFmpeg hands it over without a colour conversion; vision converts only the pixels it
 * samples.
 */
export interface Yuv420Image {
  readonly format: 'yuv420p';
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
