import type { Logger } from '../base/log.js';
import { LEFT_EYE_CORNERS, LEFT_EYE_LIDS, RIGHT_EYE_CORNERS, RIGHT_EYE_LIDS } from './align.js';
import { distance, meanPoint, rectToAffine, squareAround } from './geometry.js';
import { ModelBatcher, ONE_AT_A_TIME, type BatchPolicy, type ModelRunner } from './batcher.js';
import { softmax2, type SessionSettings } from './ort.js';
import { packGray, sampleAffine } from './sampling.js';
import type { Box, EyeState, Landmarks68, Picture } from './types.js';

const SIZE = 24;
const PIXELS = SIZE * SIZE;

/**
 * fr_eye: open/closed of each eye from a 24×24 grey crop (/ 255) centred on its eyelids. The
 * model file is rewritten to take both eyes in one run (models/manifest.json: batch-2).
 */
export class EyeModel {
  private readonly rgb = new Float32Array(PIXELS * 3);
  /** [right eye, left eye] × 1 × 24 × 24. */
  private readonly input = new Float32Array(2 * PIXELS);

  private constructor(private readonly model: ModelBatcher) {}

  static async load(path: string, settings: SessionSettings, log: Logger, batch: BatchPolicy = ONE_AT_A_TIME, runner?: ModelRunner): Promise<EyeModel> {
    return new EyeModel(await ModelBatcher.load('eyes', path, settings, log, batch, runner));
  }

  async eyes(img: Picture, lm: Landmarks68): Promise<{ left: EyeState; right: EyeState }> {
    this.crop(img, eyeCrop(lm, RIGHT_EYE_LIDS, RIGHT_EYE_CORNERS), 0);
    this.crop(img, eyeCrop(lm, LEFT_EYE_LIDS, LEFT_EYE_CORNERS), 1);
    const [out] = await this.model.run(this.input);
    return { right: { pOpen: softmax2(out!, 0)[1] }, left: { pOpen: softmax2(out!, 2)[1] } };
  }

  private crop(img: Picture, crop: Box, slot: number): void {
    sampleAffine(img, rectToAffine(crop, SIZE, SIZE), SIZE, SIZE, this.rgb);
    packGray(this.rgb, PIXELS, 255, this.input.subarray(slot * PIXELS, (slot + 1) * PIXELS));
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}

/** Square of side 1.6 × the eye's corner-to-corner distance, centred on the mean of its four lid points. */
export function eyeCrop(lm: Landmarks68, lids: readonly number[], corners: readonly [number, number]): Box {
  const centre = meanPoint(lids.map((i) => lm[i]!));
  const side = Math.max(2, 1.6 * distance(lm[corners[0]]!, lm[corners[1]]!));
  return squareAround(centre, side);
}
