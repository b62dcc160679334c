import type { Logger } from '../base/log.js';
import { rectToAffine } from './geometry.js';
import { ModelBatcher, ONE_AT_A_TIME, type BatchPolicy, type ModelRunner } from './batcher.js';
import type { SessionSettings } from './ort.js';
import { sampleAffine } from './sampling.js';
import type { Box, Picture } from './types.js';

const SIZE = 128;
const CONTEXT_SCALE = 2.7;

/**
 * fr_liveness (MiniFASNet style): passive anti-spoof on the face with its surroundings, where a
 * print's or a screen's edges, moiré and reflections show. BGR, raw 0..255; class 0 = live.
 */
export class AntiSpoofModel {
  private readonly input = new Float32Array(SIZE * SIZE * 3);

  private constructor(private readonly model: ModelBatcher) {}

  static async load(path: string, settings: SessionSettings, log: Logger, batch: BatchPolicy = ONE_AT_A_TIME, runner?: ModelRunner): Promise<AntiSpoofModel> {
    return new AntiSpoofModel(await ModelBatcher.load('antispoof', path, settings, log, batch, runner));
  }

  /** Probability that the face is a live person. */
  async pLive(img: Picture, box: Box): Promise<number> {
    const crop = contextCrop(box, img.width, img.height);
    // Bilinear, as the model was trained (OpenCV resize): its cues are fine print and screen
    // texture, which area averaging would soften.
    sampleAffine(img, rectToAffine(crop, SIZE, SIZE), SIZE, SIZE, this.input, {
      maxTaps: 1,
      layout: { planes: 'bgr', mean: 0, div: 1 },
    });
    const [out] = await this.model.run(this.input);
    return softmax3(out!)[0];
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}

/**
 * The box scaled 2.7× about its centre, the scale reduced where the image is too small and the
 * crop shifted to stay inside the image (as the model was trained: no black borders).
 */
export function contextCrop(box: Box, width: number, height: number): Box {
  const scale = Math.min(CONTEXT_SCALE, (height - 1) / box.h, (width - 1) / box.w);
  const w = box.w * scale;
  const h = box.h * scale;
  const cx = box.x + box.w / 2;
  const cy = box.y + box.h / 2;
  const x = Math.min(Math.max(0, cx - w / 2), width - w);
  const y = Math.min(Math.max(0, cy - h / 2), height - h);
  return { x, y, w, h };
}

function softmax3(l: Float32Array): [number, number, number] {
  const m = Math.max(l[0]!, l[1]!, l[2]!);
  const e = [Math.exp(l[0]! - m), Math.exp(l[1]! - m), Math.exp(l[2]! - m)] as const;
  const s = e[0] + e[1] + e[2];
  return [e[0] / s, e[1] / s, e[2] / s];
}
