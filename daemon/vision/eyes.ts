import type { Logger } from '../ops/log.js';
import { LEFT_EYE_CORNERS, LEFT_EYE_LIDS, RIGHT_EYE_CORNERS, RIGHT_EYE_LIDS } from './align.js';
import { distance, meanPoint, rectToAffine, squareAround } from './geometry.js';
import { OrtModel, softmax2, type SessionSettings } from './ort.js';
import { packGray, sampleAffine } from './sampling.js';
import type { Box, EyeState, Landmarks68, RgbImage } from './types.js';

const SIZE = 24;

/** fr_eye: open/closed of one eye from a 24×24 grey crop (/ 255) centred on its eyelids. */
export class EyeModel {
  private readonly rgb = new Float32Array(SIZE * SIZE * 3);
  private readonly input = new Float32Array(SIZE * SIZE);

  private constructor(private readonly model: OrtModel) {}

  static async load(path: string, settings: SessionSettings, log: Logger): Promise<EyeModel> {
    return new EyeModel(await OrtModel.load('eyes', path, settings, log));
  }

  async eyes(img: RgbImage, lm: Landmarks68): Promise<{ left: EyeState; right: EyeState }> {
    const right = await this.eye(img, eyeCrop(lm, RIGHT_EYE_LIDS, RIGHT_EYE_CORNERS));
    const left = await this.eye(img, eyeCrop(lm, LEFT_EYE_LIDS, LEFT_EYE_CORNERS));
    return { left, right };
  }

  private async eye(img: RgbImage, crop: Box): Promise<EyeState> {
    sampleAffine(img, rectToAffine(crop, SIZE, SIZE), SIZE, SIZE, this.rgb);
    packGray(this.rgb, SIZE * SIZE, 255, this.input);
    const [out] = await this.model.run(this.input);
    return { pOpen: softmax2(out!)[1] };
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
