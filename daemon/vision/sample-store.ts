/**
 * How sampled pixels are written: interleaved RGB floats 0..255 (what quality and thumbnails
 * read), or straight into a model's planar input as (px − mean) / div, which saves a packing pass
 * over every detector tile and every face crop.
 */
export type SampleLayout = 'rgb' | PlanarLayout;

export interface PlanarLayout {
  planes: 'rgb' | 'bgr';
  mean: number;
  div: number;
}

/**
 * Where channel values of output pixel p go: dst[r + p·step] = value·scale + offset, and so on.
 * The kernels fold their own 1/taps² into `scale`.
 */
export interface Store {
  r: number;
  g: number;
  b: number;
  step: number;
  scale: number;
  offset: number;
}

export function storeFor(layout: SampleLayout, pixels: number): Store {
  if (layout === 'rgb') return { r: 0, g: 1, b: 2, step: 3, scale: 1, offset: 0 };
  const [r, b] = layout.planes === 'rgb' ? [0, 2 * pixels] : [2 * pixels, 0];
  return { r, g: pixels, b, step: 1, scale: 1 / layout.div, offset: -layout.mean / layout.div };
}

/** One output pixel's channel sums, scaled by `gain`, into the store's layout. */
export function put(dst: Float32Array, st: Store, at: number, r: number, g: number, b: number, gain: number): void {
  dst[st.r + at] = r * gain + st.offset;
  dst[st.g + at] = g * gain + st.offset;
  dst[st.b + at] = b * gain + st.offset;
}
