import type { Logger } from '../base/log.js';
import { ALIGNED_SIZE, alignment, fivePoints, toAlignedFrame } from './align.js';
import { AntiSpoofModel } from './antispoof.js';
import { batchPolicy, type VisionConfig } from './config.js';
import { FaceDetector } from './detector.js';
import { Embedder, EMBEDDER_INPUT, EMBEDDER_INPUT_SIZE } from './embedder.js';
import type { AnalyzeOptions, CameraEngine, VisionEngine } from './engine.js';
import { eyeRegions } from './eye-regions.js';
import { EyeModel } from './eyes.js';
import { boxArea } from './geometry.js';
import { LandmarkModel } from './landmarks.js';
import { verifyModels, type ModelPaths } from './model-files.js';
import type { ServerLink } from './model-server-protocol.js';
import { ServerClient } from './model-server.js';
import { usableSettings, type ExecutionProvider, type SessionSettings } from './ort.js';
import { faceQuality } from './quality.js';
import { planarToGray, sampleAffine } from './sampling.js';
import type { SearchArea } from './tiles.js';
import type { Detection, FaceAnalysis, Picture } from './types.js';

/**
 * The vision core of one worker: detection → landmarks → alignment → embedding, eye state,
 * anti-spoof and quality, each model in its own ONNX Runtime session. The daemon runs one in each
 * thread of its `VisionPool`; short CLI commands and tests use one on their own thread.
 */
export class FaceAnalyzer implements VisionEngine {
  /** The GPU's model thread, where this analyzer's models run, if they do not run here. */
  private server: ServerClient | undefined;
  /** The calls under way, which `close` waits for. */
  private readonly calls = new Set<Promise<unknown>>();
  /** The last call given, which the next one waits for when calls run one at a time. */
  private last: Promise<unknown> = Promise.resolve();
  /** The aligned face, sampled once as the embedder's input; quality reads it back as grey. */
  private readonly aligned = new Float32Array(EMBEDDER_INPUT_SIZE);
  private readonly alignedGray = new Float32Array(ALIGNED_SIZE * ALIGNED_SIZE);

  private constructor(
    private readonly config: VisionConfig,
    /** Whether calls run side by side, for their inputs to share model runs (see `track`). */
    private readonly sideBySide: boolean,
    readonly provider: ExecutionProvider,
    private readonly detector: FaceDetector,
    private readonly landmarker: LandmarkModel,
    private readonly embedder: Embedder,
    private readonly eyeModel: EyeModel,
    private readonly antispoofModel: AntiSpoofModel,
  ) {}

  /**
   * Verifies the model files against the manifest, then loads every session; with a `server`,
   * loads none: the models run on the GPU's model thread, and this analyzer prepares their inputs.
   */
  static async create(options: { vision: VisionConfig; logger: Logger; models?: ModelPaths; server?: ServerLink }): Promise<FaceAnalyzer> {
    const { vision, logger } = options;
    const models = options.models ?? verifyModels(vision.models_dir);
    if (options.server) return FaceAnalyzer.onServer(vision, models, options.server, logger);
    const requested = await usableSettings({ provider: vision.execution_provider, threads: vision.threads }, models.detector, logger);
    let detector = await FaceDetector.load(models.detector, requested, logger, batchPolicy(vision, requested.provider));
    if (detector.provider !== requested.provider) {
      // Fallen back to the CPU: loaded again for the CPU's runs, one input each.
      await detector.close();
      detector = await FaceDetector.load(models.detector, { ...requested, provider: detector.provider }, logger, batchPolicy(vision, detector.provider));
    }
    // If the GPU could not load for the first model it will not for the others: one log line, not five.
    const settings: SessionSettings = { ...requested, provider: detector.provider };
    const batch = batchPolicy(vision, settings.provider);
    const [landmarker, embedder, eyes, antispoof] = await Promise.all([
      LandmarkModel.load(models.landmarks, settings, logger, batch),
      Embedder.load(models.embedder, settings, logger, batch),
      EyeModel.load(models.eyes, settings, logger, batch),
      AntiSpoofModel.load(models.antispoof, settings, logger, batch),
    ]);
    logger.debug({ stage: 'vision', provider: settings.provider, threads: settings.threads }, 'face models loaded');
    return new FaceAnalyzer(vision, batch.max > 1, settings.provider, detector, landmarker, embedder, eyes, antispoof);
  }

  private static async onServer(vision: VisionConfig, models: ModelPaths, server: ServerLink, logger: Logger): Promise<FaceAnalyzer> {
    const client = new ServerClient(server);
    const settings: SessionSettings = { provider: server.provider, threads: vision.threads };
    // This thread's queues send what waits in one request; the server pads the runs it makes.
    const batch = { ...batchPolicy(vision, server.provider), padToPowerOfTwo: false };
    const analyzer = new FaceAnalyzer(
      vision,
      batch.max > 1,
      server.provider,
      await FaceDetector.load(models.detector, settings, logger, batch, client.model('detector')),
      await LandmarkModel.load(models.landmarks, settings, logger, batch, client.model('landmarks')),
      await Embedder.load(models.embedder, settings, logger, batch, client.model('embedder')),
      await EyeModel.load(models.eyes, settings, logger, batch, client.model('eyes')),
      await AntiSpoofModel.load(models.antispoof, settings, logger, batch, client.model('antispoof')),
    );
    analyzer.server = client;
    return analyzer;
  }

  /** Faces in the image, largest first; with a `focus`, only those where it says a face can be. */
  detect(img: Picture, mode = this.config.detect.mode, focus?: readonly SearchArea[]): Promise<Detection[]> {
    return this.track(() => this.detectNow(img, mode, focus));
  }

  /** A camera's engine on this analyzer (see `CameraEngine`). */
  forCamera(): CameraEngine {
    return { detect: (img, focus) => this.detect(img, undefined, focus), analyzeFace: (img, detection, options) => this.analyzeFace(img, detection, options) };
  }

  /**
   * Every face in the image, largest first, with what `options` asks for. Detections that the
   * embedding network does not see as a face (see `looksLikeFace`) are left out.
   */
  analyze(img: Picture, options: AnalyzeOptions = {}): Promise<FaceAnalysis[]> {
    return this.track(
      async () => {
        const detections = await this.detectNow(img, options.detectMode);
        const faces = await Promise.all(detections.map((detection) => this.analyzeFaceNow(img, detection, { ...options, embed: true })));
        return faces.filter(looksLikeFace).map((face) => {
          if (!options.embed) delete face.embedding;
          return face;
        });
      },
    );
  }

  /** Everything about one detected (or tracked) face. */
  analyzeFace(img: Picture, detection: Detection, options: AnalyzeOptions = {}): Promise<FaceAnalysis> {
    return this.track(() => this.analyzeFaceNow(img, detection, options));
  }

  /**
   * Where the models take batches (vision.batch.max > 1), calls run side by side: every camera of
   * this worker (and enrolment) gives its inputs to the models' queues, which run what is waiting
   * together (batcher.ts). Each model's input is copied into its queue when given, and this
   * analyzer's own buffers are read between two awaits, so no call reads another's pixels.
   * Otherwise calls run one at a time, in the order they came: under overload each then finishes as
   * soon as it can, where calls sharing the thread would all finish late and more frames go stale
   * (8 busy cameras on 2 cores: 80 % of frames finished one at a time, 62 % side by side).
   */
  private track<T>(fn: () => Promise<T>): Promise<T> {
    const call = this.sideBySide ? fn() : this.last.then(fn);
    if (!this.sideBySide) this.last = call.catch(() => undefined);
    this.calls.add(call);
    const forget = () => this.calls.delete(call);
    call.then(forget, forget);
    return call;
  }

  private async detectNow(img: Picture, mode = this.config.detect.mode, focus?: readonly SearchArea[]): Promise<Detection[]> {
    const found = await this.detector.detect(img, {
      mode,
      ...(focus ? { focus } : {}),
      minScore: this.config.detect.min_score,
      nmsIou: this.config.detect.nms_iou,
      minFacePx: this.config.detect.min_face_px,
    });
    return found.sort((p, q) => boxArea(q.box) - boxArea(p.box));
  }

  private async analyzeFaceNow(img: Picture, detection: Detection, options: AnalyzeOptions): Promise<FaceAnalysis> {
    const landmarks68 = await this.landmarker.landmarks(img, detection.box);
    // From here to the models' calls below nothing awaits: the aligned buffers are this call's.
    const landmarks5 = fivePoints(landmarks68);
    const align = alignment(landmarks5);
    sampleAffine(img, align.fromAligned, ALIGNED_SIZE, ALIGNED_SIZE, this.aligned, { layout: EMBEDDER_INPUT });
    planarToGray(this.aligned, ALIGNED_SIZE * ALIGNED_SIZE, EMBEDDER_INPUT, this.alignedGray);
    const face: FaceAnalysis = {
      detection,
      landmarks68,
      landmarks5,
      quality: faceQuality(detection, landmarks68, toAlignedFrame(align, landmarks68), this.alignedGray),
    };
    const regions = options.eyes ? eyeRegions(this.alignedGray) : undefined;
    // The three models are given their inputs at once, so that they wait in their queues together.
    const [embedded, eyes, pLive] = await Promise.all([
      options.embed ? this.embedder.embed(this.aligned) : undefined,
      options.eyes ? this.eyeModel.eyes(img, landmarks68) : undefined,
      options.antispoof ? this.antispoofModel.pLive(img, detection.box) : undefined,
    ]);
    if (embedded) {
      face.embedding = embedded.embedding;
      face.quality.embeddingNorm = embedded.norm;
    }
    if (eyes && regions) face.eyes = { ...eyes, regions };
    if (pLive !== undefined) face.antispoof = { pLive };
    return face;
  }

  /** Once the calls under way have finished. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.calls]);
    await Promise.all([
      this.detector.close(),
      this.landmarker.close(),
      this.embedder.close(),
      this.eyeModel.close(),
      this.antispoofModel.close(),
    ]);
    this.server?.close();
  }
}

/** From this height (px) up, a detection must convince on more than the detector's score. */
const LARGE_FACE_PX = 64;
/**
 * Measured on the test media: real faces of ≥ 64 px score ≥ 0.97 with embedding norms ≥ 3.2;
 * the false positives of that size (a dark sleeve, dogs' faces, parts of large faces seen through tiles) score
 * 0.67–0.96 or have norms ≤ 2.5.
 */
const LARGE_FACE_MIN_SCORE = 0.9;
const LARGE_FACE_MIN_NORM = 2.6;

/**
 * A second opinion on a detection. Small faces are kept on the detector's word (they are what
 * tiling is for, and their norms are low anyway); a large, sharp region must also score high and
 * be something the identity network can represent as a face.
 */
export function looksLikeFace(face: Pick<FaceAnalysis, 'detection' | 'quality'>): boolean {
  if (face.detection.box.h < LARGE_FACE_PX) return true;
  if (face.detection.score < LARGE_FACE_MIN_SCORE) return false;
  return face.quality.embeddingNorm === undefined || face.quality.embeddingNorm >= LARGE_FACE_MIN_NORM;
}
