import type { Logger } from '../base/log.js';
import type { VisionConfig } from './config.js';
import { boxArea, clipBox, nms, rectToAffine } from './geometry.js';
import { OrtModel, type SessionSettings } from './ort.js';
import { sampleAffine } from './sampling.js';
import { CUT_EDGE_PX, DETECT_H, DETECT_W, detectionRegions, detectorPasses, needsTiles, type Pass, type Region, type SearchArea } from './tiles.js';
import type { Box, Detection, RgbImage } from './types.js';

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
  /** One cell of a shared run, sampled before it is copied into its quarter of the input. */
  private cell = new Float32Array(0);

  private constructor(private readonly model: OrtModel) {}

  static async load(path: string, settings: SessionSettings, log: Logger): Promise<FaceDetector> {
    return new FaceDetector(await OrtModel.load('detector', path, settings, log));
  }

  get provider() {
    return this.model.provider;
  }

  async detect(img: RgbImage, options: DetectOptions): Promise<Detection[]> {
    const tile =
      options.mode === 'tiled' || (options.mode === 'auto' && needsTiles(img.width, img.height, options.minFacePx));
    const passes = detectorPasses(detectionRegions(img.width, img.height, tile, options.minFacePx, options.focus));
    const found: Detection[] = [];
    for (const pass of passes) found.push(...(await this.detectPass(img, pass, options.minScore)));
    const merged = nms(found, options.nmsIou)
      .map((d) => ({ ...d, box: clipBox(d.box, img.width, img.height) }))
      .filter((d) => d.box.w >= 4 && d.box.h >= 4);
    return dropNested(merged);
  }

  private async detectPass(img: RgbImage, pass: Pass, minScore: number): Promise<Detection[]> {
    const layout = { planes: 'rgb', mean: 127, div: 128 } as const;
    if (pass.length === 1 && pass[0]!.cell.w === DETECT_W && pass[0]!.cell.h === DETECT_H) {
      sampleAffine(img, rectToAffine(pass[0]!.region, DETECT_W, DETECT_H), DETECT_W, DETECT_H, this.input, { layout });
    } else {
      this.input.fill(0);
      for (const { region, cell } of pass) {
        const pixels = cell.w * cell.h;
        if (this.cell.length !== pixels * 3) this.cell = new Float32Array(pixels * 3);
        sampleAffine(img, rectToAffine(region, cell.w, cell.h), cell.w, cell.h, this.cell, { layout });
        for (let plane = 0; plane < 3; plane++) {
          for (let row = 0; row < cell.h; row++) {
            const from = plane * pixels + row * cell.w;
            this.input.set(this.cell.subarray(from, from + cell.w), plane * DETECT_W * DETECT_H + (cell.y + row) * DETECT_W + cell.x);
          }
        }
      }
    }
    const [scores, boxes] = await this.model.run(this.input);
    return pass.flatMap(({ region, cell }) =>
      decodeDetections(scores!, boxes!, region, minScore, cell).filter(
        (d) => d.box.h <= region.maxFaceHeight && !(region.tiled && touchesInnerEdge(d, region, img.width, img.height)),
      ),
    );
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}

/**
 * Model outputs → detections in frame pixels, of those whose centre lies in `cell` (input pixels;
 * default the whole input), which shows `region`. Scores are softmaxed already (column 1 = face).
 */
export function decodeDetections(scores: Float32Array, boxes: Float32Array, region: Region, minScore: number, cell: Box = { x: 0, y: 0, w: DETECT_W, h: DETECT_H }): Detection[] {
  const out: Detection[] = [];
  const n = scores.length / 2;
  // Input fractions → frame pixels through the cell.
  const sx = (DETECT_W / cell.w) * region.w;
  const sy = (DETECT_H / cell.h) * region.h;
  const ox = region.x - (cell.x / cell.w) * region.w;
  const oy = region.y - (cell.y / cell.h) * region.h;
  for (let i = 0; i < n; i++) {
    const score = scores[2 * i + 1]!;
    if (score < minScore) continue;
    const cx = ((boxes[4 * i]! + boxes[4 * i + 2]!) / 2) * DETECT_W;
    const cy = ((boxes[4 * i + 1]! + boxes[4 * i + 3]!) / 2) * DETECT_H;
    if (cx < cell.x || cx >= cell.x + cell.w || cy < cell.y || cy >= cell.y + cell.h) continue;
    const x1 = ox + boxes[4 * i]! * sx;
    const y1 = oy + boxes[4 * i + 1]! * sy;
    const x2 = ox + boxes[4 * i + 2]! * sx;
    const y2 = oy + boxes[4 * i + 3]! * sy;
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
  // A window's every edge borders another window's cell (or its padding): what reaches it is cut.
  if (tile.window) return x <= tile.x + CUT_EDGE_PX || y <= tile.y + CUT_EDGE_PX || x + w >= tile.x + tile.w - CUT_EDGE_PX || y + h >= tile.y + tile.h - CUT_EDGE_PX;
  return (
    (tile.x > 0 && x <= tile.x + CUT_EDGE_PX) ||
    (tile.y > 0 && y <= tile.y + CUT_EDGE_PX) ||
    (tile.x + tile.w < width && x + w >= tile.x + tile.w - CUT_EDGE_PX) ||
    (tile.y + tile.h < height && y + h >= tile.y + tile.h - CUT_EDGE_PX)
  );
}
