import type { AnalyzeOptions } from './analyzer.js';
import type { DetectMode } from './detector.js';
import type { ExecutionProvider } from './ort.js';
import type { Detection, FaceAnalysis, RgbImage } from './types.js';

/**
 * The vision core as its callers see it, whether it runs on the calling thread (`FaceAnalyzer`,
 * for short CLI commands and tests) or on worker threads (`VisionPool`, for the daemon): callers
 * choose one where they are built and are otherwise the same.
 */
export interface VisionEngine {
  readonly provider: ExecutionProvider;
  /** Faces in the image, largest first. */
  detect(img: RgbImage, mode?: DetectMode): Promise<Detection[]>;
  /** Every face in the image, largest first, with what `options` asks for. */
  analyze(img: RgbImage, options?: AnalyzeOptions): Promise<FaceAnalysis[]>;
  /** Everything about one detected (or tracked) face. */
  analyzeFace(img: RgbImage, detection: Detection, options?: AnalyzeOptions): Promise<FaceAnalysis>;
  /** Once the calls under way have finished. */
  close(): Promise<void>;
}
