import { Type, type Static } from '@sinclair/typebox';
import { OneOf, Section } from '../base/config-types.js';
import type { BatchPolicy } from './batcher.js';
import type { ExecutionProvider } from './ort.js';

/** More workers than this only adds memory: each holds every model, and a box this size has a GPU. */
export const MAX_VISION_WORKERS = 16;

export const VisionConfigSchema = Section(
  {
    execution_provider: OneOf(['cpu', 'webgpu', 'cuda'] as const, {
      default: 'cpu',
      description:
        "ONNX Runtime execution provider. 'webgpu' uses the GPU through Vulkan with what onnxruntime-node ships; 'cuda' needs ONNX Runtime's CUDA provider library installed beside it. Either falls back to 'cpu' with one log line when it cannot load.",
    }),
    models_dir: Type.Optional(
      Type.String({
        minLength: 1,
        description: "Folder of the verified .onnx files; default: the package's models/onnx, filled by `npm ci` / `npm run models`.",
      }),
    ),
    threads: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 1,
      description: 'ONNX Runtime intra-op threads per model session. One thread per session and one worker per core is fastest on small boxes.',
    }),
    workers: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_VISION_WORKERS,
        description:
          "Vision worker threads of the daemon, each with its own copy of the models (~60 MiB); each new frame of a camera, enrolment and identify go to the least busy. Default: one per core (os.availableParallelism(), at most the maximum).",
      }),
    ),
    batch: Section(
      {
        max: Type.Optional(
          Type.Integer({
            minimum: 1,
            maximum: 64,
            description:
              "Most inputs (faces, or detection tiles) of the cameras of one vision worker that one model run takes. Default: 32 on 'webgpu', where a run of 16–32 costs a face about a tenth of a run of one; 1 on the CPU, where batching buys nothing.",
          }),
        ),
        window_ms: Type.Integer({
          minimum: 0,
          maximum: 30,
          default: 0,
          description:
            'How long (ms) the first input of a run waits for others. 0 takes what is already waiting: the inputs due at the same moment and those that came during the last run, which under load is most of them. Keep it well under a frame interval.',
        }),
      },
      'Model runs shared by the cameras of one vision worker.',
    ),
    detect: Section(
      {
        mode: OneOf(['auto', 'full', 'tiled'] as const, {
          default: 'auto',
          description: "'full' runs the detector once on the whole frame (faces ≥ ~120 px in 1080p); 'tiled' adds overlapping tiles so that faces of min_face_px are found; 'auto' tiles when a full pass would miss min_face_px faces.",
        }),
        min_score: Type.Number({ minimum: 0, maximum: 1, default: 0.65, description: 'Detector score threshold.' }),
        nms_iou: Type.Number({ minimum: 0, maximum: 1, default: 0.4, description: 'IoU above which overlapping boxes are merged.' }),
        min_face_px: Type.Integer({ minimum: 16, maximum: 2000, default: 40, description: 'Smallest face height (pixels) that detection must find.' }),
      },
      'Face detection.',
    ),
  },
  'Face models: where they run and how detection is done.',
);
export type VisionConfig = Static<typeof VisionConfigSchema>;

/**
 * How a worker's models gather their inputs: on a GPU, up to `vision.batch.max` (32 unless set) in
 * one run, padded to a power of two so that its kernels are built for a handful of shapes; on the
 * CPU, one input a run unless the config asks for more.
 */
export function batchPolicy(vision: Pick<VisionConfig, 'batch'>, provider: ExecutionProvider): BatchPolicy {
  const gpu = provider === 'webgpu';
  return { max: vision.batch.max ?? (gpu ? 32 : 1), windowMs: vision.batch.window_ms, padToPowerOfTwo: gpu };
}

export const RecognitionConfigSchema = Section(
  {
    threshold: Type.Number({
      minimum: -1,
      maximum: 1,
      default: 0.45,
      description:
        'Cosine similarity at or above which two faces are the same person. On the reference photos same-person pairs score ≥ 0.51 and the closest different people 0.48; CCTV-sized faces score lower: tune on site footage.',
    }),
    margin: Type.Number({
      minimum: 0,
      maximum: 2,
      default: 0.05,
      description: 'A match must beat the best other person by this much cosine similarity.',
    }),
  },
  'Identity decisions.',
);
export type RecognitionConfig = Static<typeof RecognitionConfigSchema>;
