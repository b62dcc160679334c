import type { DetectMode } from './detector.js';
import type { ExecutionProvider } from './ort.js';
import type { SearchArea } from './tiles.js';
import type { Detection, FaceAnalysis, Picture } from './types.js';

/** What one call of the analysis computes besides detection, landmarks and quality. */
export interface AnalyzeOptions {
  embed?: boolean;
  eyes?: boolean;
  antispoof?: boolean;
  /** Overrides the configured detection mode for this call. */
  detectMode?: DetectMode;
}

/**
 * What a camera's tracker calls: detection where a face can be, and the analysis of one face. The
 * daemon's is pinned to one worker of its `VisionPool`; `FaceAnalyzer.forCamera()` gives one on
 * the calling thread (`facegate scan`, tests).
 */
export interface CameraEngine {
  /** Faces in the frame, largest first; with a `focus`, only where it says a face can be. */
  detect(img: Picture, focus?: readonly SearchArea[]): Promise<Detection[]>;
  analyzeFace(img: Picture, detection: Detection, options?: AnalyzeOptions): Promise<FaceAnalysis>;
}

/** A camera's engine that counts the detector's runs it asked for (the full frame and each tile), since it was made. */
export interface CountedEngine extends CameraEngine {
  readonly detectorRuns: number;
}

/**
 * The vision core as its callers see it, whether it runs on the calling thread (`FaceAnalyzer`,
 * for short CLI commands and tests) or on worker threads (`VisionPool`, for the daemon): callers
 * choose one where they are built and are otherwise the same.
 */
export interface VisionEngine {
  readonly provider: ExecutionProvider;
  /** Faces in the image, largest first; with a `focus`, only where it says a face can be. */
  detect(img: Picture, mode?: DetectMode, focus?: readonly SearchArea[]): Promise<Detection[]>;
  /** Every face in the image, largest first, with what `options` asks for. */
  analyze(img: Picture, options?: AnalyzeOptions): Promise<FaceAnalysis[]>;
  /** Everything about one detected (or tracked) face. */
  analyzeFace(img: Picture, detection: Detection, options?: AnalyzeOptions): Promise<FaceAnalysis>;
  /** Once the calls under way have finished. */
  close(): Promise<void>;
}
