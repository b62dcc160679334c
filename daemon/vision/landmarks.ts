import { boxCentre, clipBox, rectToAffine, squareAround } from './geometry.js';
import { ModelBatcher, ONE_AT_A_TIME, type BatchPolicy, type ModelRunner } from './batcher.js';
import type { SessionSettings } from './ort.js';
import { packGray, sampleAffine } from './sampling.js';
import type { Box, Landmarks68, Point, Picture } from './types.js';
import type { Logger } from '../base/log.js';

const SIZE = 64;

/**
 * fr_landmark: 68 points from a square crop of side = box height around the box centre, clipped
 * to the image, as grey / 256. The same call follows a tracked face between detections.
 */
export class LandmarkModel {
  private readonly rgb = new Float32Array(SIZE * SIZE * 3);
  private readonly input = new Float32Array(SIZE * SIZE);

  private constructor(private readonly model: ModelBatcher) {}

  static async load(path: string, settings: SessionSettings, log: Logger, batch: BatchPolicy = ONE_AT_A_TIME, runner?: ModelRunner): Promise<LandmarkModel> {
    return new LandmarkModel(await ModelBatcher.load('landmarks', path, settings, log, batch, runner));
  }

  async landmarks(img: Picture, box: Box): Promise<Landmarks68> {
    const crop = landmarkCrop(box, img.width, img.height);
    sampleAffine(img, rectToAffine(crop, SIZE, SIZE), SIZE, SIZE, this.rgb);
    packGray(this.rgb, SIZE * SIZE, 256, this.input);
    const [out] = await this.model.run(this.input);
    return decodeLandmarks(out!, crop);
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}

export function landmarkCrop(box: Box, width: number, height: number): Box {
  return clipBox(squareAround(boxCentre(box), box.h), width, height);
}

/** Model output (x, y pairs normalised to the crop) → frame pixels. */
export function decodeLandmarks(out: Float32Array, crop: Box): Point[] {
  const points: Point[] = [];
  for (let i = 0; i < 68; i++) points.push({ x: out[2 * i]! * crop.w + crop.x, y: out[2 * i + 1]! * crop.h + crop.y });
  return points;
}
