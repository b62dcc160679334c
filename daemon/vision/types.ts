/** Vision data types shared by every stage after the camera. Coordinates are pixels of the frame. */
import type { Box } from '../base/image.js';

// The camera makes pictures before vision exists, so the picture and its boxes are base types.
export type { Box, Picture, RgbImage, Yuv420Image } from '../base/image.js';

export interface Point {
  x: number;
  y: number;
}

export interface Detection {
  box: Box;
  /** Detector confidence, 0..1. */
  score: number;
}

/** 68 points in iBUG order (0-based: jaw 0–16, right brow 17–21, ..., right eye 36–41, left eye 42–47, mouth 48–67). */
export type Landmarks68 = readonly Point[];

/**
 * Five points for alignment, in this order: the subject's right eye (image left), left eye, nose tip,
 * right mouth corner, left mouth corner.
 */
export type Landmarks5 = readonly [Point, Point, Point, Point, Point];

export interface EyeState {
  /** Probability that the eye is open, 0..1 (fr_eye). */
  pOpen: number;
}

export interface FaceQuality {
  /** Detector box height, pixels. */
  faceHeight: number;
  /** Inter-ocular distance, pixels. */
  eyeDistance: number;
  /** Variance of the Laplacian of the aligned 112×112 grey face: higher is sharper (~< 40 is blurred). */
  sharpness: number;
  /** Head pose estimate from landmarks, degrees: yaw + turns to the image right, pitch + looks down, roll + clockwise. */
  yaw: number;
  pitch: number;
  roll: number;
  /**
   * Norm of the embedding network's raw output: ~3.5–5 for clear faces, ~2 for tiny or blurred
   * ones, lower still for things that are not faces. Absent when no embedding was computed.
   */
  embeddingNorm?: number;
}

/**
 * Grey patches (0–255) of one aligned face, each with a margin on every side (eye-regions.ts cuts
 * them): the eyes, and two patches that a blink leaves alone but that change with the picture
 * (resampling, codec, lighting, a tilt, landmarks placed off the face): the nose, and the brows with
 * the bridge between them, whose strong edges show a misplaced alignment as clearly as the eyes would.
 */
export interface EyeRegions {
  right: Float32Array;
  left: Float32Array;
  nose: Float32Array;
  brows: Float32Array;
}

/** Everything the vision core says about one face. */
export interface FaceAnalysis {
  detection: Detection;
  landmarks68: Landmarks68;
  landmarks5: Landmarks5;
  quality: FaceQuality;
  /**
   * Subject's left and right eye, and the eye and reference patches of the aligned face (to tell
   * lids that move from a picture that moves).
   */
  eyes?: { left: EyeState; right: EyeState; regions: EyeRegions };
  /** Passive anti-spoof: probability that the face is a live person, not a print or a screen. */
  antispoof?: { pLive: number };
  /** 512-d identity embedding, L2-normalised. */
  embedding?: Float32Array;
}
