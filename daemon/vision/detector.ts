import type { Logger } from '../base/log.js';
import type { VisionConfig } from './config.js';
import { boxArea, clipBox, nms, rectToAffine } from './geometry.js';
import { ModelBatcher, ONE_AT_A_TIME, type BatchPolicy, type ModelRunner } from './batcher.js';
import type { SessionSettings } from './ort.js';
import { sampleAffine } from './sampling.js';
import { CUT_EDGE_PX, DETECT_H, DETECT_W, detectionPlan, type Region, type SearchArea } from './tiles.js';
import type { Box, Detection, Picture } from './types.js';

export type DetectMode = VisionConfig['detect']['mode'];

export interface DetectOptions {
  mode: DetectMode;
  minScore: number;
  nmsIou: number;
  minFacePx: number;
  /** Where a face can be (see `detectionRegions`); everywhere when absent. */
  focus?: readonly SearchArea[];
}

/** Share of a box's area inside a larger box above which it is taken for a part of that face. */
const NESTED_FRACTION = 0.6;

/**
 * fr_detect (RFB-320): one pass over the whole frame padded to 4:3, plus, for large frames,
 * overlapping tiles so that small faces are seen at a size the model can find; all merged by NMS.
 */
export class FaceDetector {
  private readonly input = new Float32Array(DETECT_W * DETECT_H * 3);

  private constructor(private readonly model: ModelBatcher) {}

  static async load(path: string, settings: SessionSettings, log: Logger, batch: BatchPolicy = ONE_AT_A_TIME, runner?: ModelRunner): Promise<FaceDetector> {
    return new FaceDetector(await ModelBatcher.load('detector', path, settings, log, batch, runner));
  }

  get provider() {
    return this.model.provider;
  }

  async detect(img: Picture, options: DetectOptions): Promise<Detection[]> {
    const regions = detectionPlan(img.width, img.height, options);
    // Every region is given at once: where the model takes batches, the tiles share one run.
    const found = (await Promise.all(regions.map((region) => this.detectRegion(img, region, options.minScore)))).flat();
    const merged = nms(found, options.nmsIou)
      .map((d) => ({ ...d, box: clipBox(d.box, img.width, img.height) }))
      .filter((d) => d.box.w >= 4 && d.box.h >= 4);
    return dropNested(merged);
  }

  private async detectRegion(img: Picture, region: Region, minScore: number): Promise<Detection[]> {
    sampleAffine(img, rectToAffine(region, DETECT_W, DETECT_H), DETECT_W, DETECT_H, this.input, {
      layout: { planes: 'rgb', mean: 127, div: 128 },
    });
    // The queue copies the input before this returns, so the next region reuses the buffer.
    const [scores, boxes] = await this.model.run(this.input);
    return decodeDetections(scores!, boxes!, region, minScore).filter(
      (d) => d.box.h <= region.maxFaceHeight && !(region.tiled && touchesInnerEdge(d, region, img.width, img.height)),
    );
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}

/** Model outputs → detections in frame pixels. Scores are softmaxed already (column 1 = face). */
export function decodeDetections(scores: Float32Array, boxes: Float32Array, region: Region, minScore: number): Detection[] {
  const out: Detection[] = [];
  const n = scores.length / 2;
  for (let i = 0; i < n; i++) {
    const score = scores[2 * i + 1]!;
    if (score < minScore) continue;
    const x1 = region.x + boxes[4 * i]! * region.w;
    const y1 = region.y + boxes[4 * i + 1]! * region.h;
    const x2 = region.x + boxes[4 * i + 2]! * region.w;
    const y2 = region.y + boxes[4 * i + 3]! * region.h;
    if (x2 <= x1 || y2 <= y1) continue;
    out.push({ box: { x: x1, y: y1, w: x2 - x1, h: y2 - y1 }, score });
  }
  return out;
}

/**
 * A face cannot sit inside another face: a box mostly inside a larger one is a part of that face
 * (a chin, an eye region) found at another scale, and goes.
 */
export function dropNested(detections: readonly Detection[]): Detection[] {
  const bySize = [...detections].sort((p, q) => boxArea(q.box) - boxArea(p.box));
  const kept: Detection[] = [];
  for (const d of bySize) {
    if (!kept.some((k) => intersectionOver(d.box, k.box) > NESTED_FRACTION)) kept.push(d);
  }
  return kept;
}

/** Share of `inner`'s area that lies inside `outer`. */
function intersectionOver(inner: Box, outer: Box): number {
  const w = Math.min(inner.x + inner.w, outer.x + outer.w) - Math.max(inner.x, outer.x);
  const h = Math.min(inner.y + inner.h, outer.y + outer.h) - Math.max(inner.y, outer.y);
  return w > 0 && h > 0 ? (w * h) / boxArea(inner) : 0;
}

function touchesInnerEdge(d: Detection, tile: Region, width: number, height: number): boolean {
  const { x, y, w, h } = d.box;
  return (
    (tile.x > 0 && x <= tile.x + CUT_EDGE_PX) ||
    (tile.y > 0 && y <= tile.y + CUT_EDGE_PX) ||
    (tile.x + tile.w < width && x + w >= tile.x + tile.w - CUT_EDGE_PX) ||
    (tile.y + tile.h < height && y + h >= tile.y + tile.h - CUT_EDGE_PX)
  );
}
