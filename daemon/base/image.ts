/** The picture every stage passes on, from the camera's frames to the gallery's photos. Coordinates are pixels. */

/** A decoded frame or photo: tightly packed RGB, 3 bytes a pixel, row-major. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Axis-aligned box: top-left corner and size. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}
