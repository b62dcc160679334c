import { isYuv420, lumaAt, yuvTables } from '../base/yuv.js';
import type { Box, Picture } from './types.js';

/**
 * Where a camera's picture moved: a cheap mask that lets detection skip the parts of an entrance
 * where nothing can have arrived. The frame is reduced to a small grey grid (each cell the mean of
 * four pixels, which also smooths sensor noise), compared with a background of what the detector
 * last had the chance to see, and cells that differ by more than the picture's own noise are
 * "moving". Moving cells are counted per block; a block with enough of them is reported as a box in
 * frame pixels.
 *
 * The threshold follows the picture: the median cell difference is the noise of the sensor and the
 * codec (it rises with gain at night and with a low bit rate), and only differences well above it
 * count, so no number here is tuned to one camera.
 */

/** Cells across the longer side of the frame: 192 gives 10 px cells in 1080p, 6.7 px in 720p. */
const GRID_LONG_SIDE = 192;
/** Cells per block side: a block is 80 px in 1080p, about the smallest face detection must find. */
const BLOCK_CELLS = 8;
/** Moving cells a block needs (of 64): a change the size of a small face's feature, not stray noisy cells. */
const BLOCK_MIN_MOVING = 3;
/**
 * A cell moves when it differs from the background by this many times the median difference (about
 * four standard deviations of the noise, for Gaussian noise: a stray cell in ~15 000)...
 */
const NOISE_FACTOR = 6;
/** ...and by at least this many grey levels (of 255), for a picture with almost no noise. */
const MIN_DIFF = 10;
/** Weight of a still cell's new value in the background (cells of a block that moved are taken in at once, see `learn`). */
const BACKGROUND_RATE = 0.2;

export class MotionMask {
  private background: Float32Array | undefined;
  private grid: Float32Array = new Float32Array(0);
  /** 1 for each block that moved since `takeChanged` last ran. */
  private changed: Uint8Array = new Uint8Array(0);
  /** 1 for each block that moved inside a `later` zone and has not been reported yet. */
  private held: Uint8Array = new Uint8Array(0);
  private readonly histogram = new Uint32Array(256);
  private shape = { width: 0, height: 0, cols: 0, rows: 0, cell: 1, blockCols: 0, blockRows: 0 };
  /**
   * Made once a frame size (the mask runs on every detect frame of every camera, on the main
   * thread): each cell's block, the pixel columns and rows each cell samples, and the buffers each
   * frame reuses.
   */
  private cellBlock: Int32Array = new Int32Array(0);
  private sampleCols: Int32Array = new Int32Array(0);
  private sampleRows: Int32Array = new Int32Array(0);
  /** Each cell's difference from the background, shifted by 128 (what both medians and the threshold read). */
  private diff: Float64Array = new Float64Array(0);
  private moving: Uint8Array = new Uint8Array(0);

  /**
   * Compares the frame with what came before and learns it. Returns the boxes (frame pixels) that
   * moved, leaving out blocks centred inside `explained` (the regions of faces already tracked, whose
   * own movement is no news); on the first frame, or when the frame size changes, the whole frame.
   *
   * Blocks centred inside a `later.zones` box (and in no explained or `later.unless` one) are held
   * back instead, and reported, with every block held since, on the next call whose `later.due` is
   * true: motion that is most likely someone's own body is looked at less often, and none of it is
   * lost.
   */
  update(img: Picture, explained: readonly Box[] = [], later: { zones: readonly Box[]; unless?: readonly Box[]; due: boolean } = { zones: [], due: true }): Box[] {
    const fresh = this.reshape(img.width, img.height);
    this.sample(img);
    const bg = this.background!;
    if (fresh) {
      bg.set(this.grid);
      return [{ x: 0, y: 0, w: img.width, h: img.height }];
    }
    const blocks = this.movingBlocks(this.movingCells(bg));
    this.learn(blocks);
    for (let b = 0; b < blocks.length; b++) this.changed[b]! |= blocks[b]!;
    const inside = (zones: readonly Box[], block: Box) => zones.some((e) => contains(e, block.x + block.w / 2, block.y + block.h / 2));
    const news = new Uint8Array(blocks.length);
    const { blockCols } = this.shape;
    for (let b = 0; b < blocks.length; b++) {
      if (!blocks[b]) continue;
      const box = this.blockBox(b % blockCols, Math.floor(b / blockCols));
      if (inside(explained, box)) continue;
      if (inside(later.zones, box) && !inside(later.unless ?? [], box)) this.held[b] = 1;
      else news[b] = 1;
    }
    if (later.due) {
      for (let b = 0; b < news.length; b++) news[b]! |= this.held[b]!;
      this.held.fill(0);
    }
    return this.boxes(news);
  }

  /**
   * Every block that moved since the last call (or since the frame size changed), explained or
   * not, as boxes in frame pixels; then forgets them. What a sweep must look at again: elsewhere
   * the picture is the one the last sweep already saw.
   */
  takeChanged(): Box[] {
    const boxes = this.boxes(this.changed);
    this.changed.fill(0);
    return boxes;
  }

  private reshape(width: number, height: number): boolean {
    const shape = this.shape;
    if (this.background && shape.width === width && shape.height === height) return false;
    const cell = Math.max(1, Math.ceil(Math.max(width, height) / GRID_LONG_SIDE));
    const cols = Math.max(1, Math.floor(width / cell));
    const rows = Math.max(1, Math.floor(height / cell));
    const blockCols = Math.ceil(cols / BLOCK_CELLS);
    const blockRows = Math.ceil(rows / BLOCK_CELLS);
    this.shape = { width, height, cols, rows, cell, blockCols, blockRows };
    this.grid = new Float32Array(cols * rows);
    this.background = new Float32Array(cols * rows);
    this.changed = new Uint8Array(blockCols * blockRows);
    this.held = new Uint8Array(blockCols * blockRows);
    this.cellBlock = Int32Array.from({ length: cols * rows }, (_, i) => Math.floor(i / cols / BLOCK_CELLS) * blockCols + Math.floor((i % cols) / BLOCK_CELLS));
    // Each cell's four pixels lie at its quarter points: columns x0, x1 and rows y0, y1.
    const q = Math.max(0, Math.floor(cell / 4));
    this.sampleCols = Int32Array.from({ length: 2 * cols }, (_, k) => (k & 1 ? Math.min(width - 1, (k >> 1) * cell + cell - 1 - q) : (k >> 1) * cell + q));
    this.sampleRows = Int32Array.from({ length: 2 * rows }, (_, k) => (k & 1 ? Math.min(height - 1, (k >> 1) * cell + cell - 1 - q) : (k >> 1) * cell + q));
    this.diff = new Float64Array(cols * rows);
    this.moving = new Uint8Array(cols * rows);
    return true;
  }

  /** Each cell's grey: the mean luma of four pixels at its quarter points (lumaAt's grey, read straight from a YUV frame's luma plane). */
  private sample(img: Picture): void {
    const { cols, rows } = this.shape;
    const { grid, sampleCols: xs, sampleRows: ys } = this;
    if (isYuv420(img)) {
      const { data, width } = img;
      const luma = yuvTables(img.matrix).y;
      for (let r = 0; r < rows; r++) {
        const o0 = ys[2 * r]! * width, o1 = ys[2 * r + 1]! * width;
        for (let c = 0; c < cols; c++) {
          const x0 = xs[2 * c]!, x1 = xs[2 * c + 1]!;
          grid[r * cols + c] = (luma[data[o0 + x0]!]! + luma[data[o0 + x1]!]! + luma[data[o1 + x0]!]! + luma[data[o1 + x1]!]!) / 4;
        }
      }
      return;
    }
    for (let r = 0; r < rows; r++) {
      const y0 = ys[2 * r]!, y1 = ys[2 * r + 1]!;
      for (let c = 0; c < cols; c++) {
        const x0 = xs[2 * c]!, x1 = xs[2 * c + 1]!;
        grid[r * cols + c] = (lumaAt(img, x0, y0) + lumaAt(img, x1, y0) + lumaAt(img, x0, y1) + lumaAt(img, x1, y1)) / 4;
      }
    }
  }

  /**
   * 1 for each cell that differs from the background by well more than the picture's noise. A change
   * of light (a cloud, the camera's exposure) shifts every cell alike: the median shift is taken
   * out first, so only what changed against its surroundings counts.
   */
  private movingCells(bg: Float32Array): Uint8Array {
    const { grid, diff, moving } = this;
    const n = bg.length;
    for (let i = 0; i < n; i++) diff[i] = grid[i]! - bg[i]! + 128;
    const offset = this.median(diff);
    const noise = this.median(diff, offset);
    const threshold = Math.max(MIN_DIFF, NOISE_FACTOR * noise);
    for (let i = 0; i < n; i++) moving[i] = Math.abs(diff[i]! - offset) > threshold ? 1 : 0;
    return moving;
  }

  /**
   * The median over the cells of the difference, or of its distance from `offset` when one is given,
   * to the grey level, by a histogram of 0…255.
   */
  private median(diff: Float64Array, offset?: number): number {
    const h = this.histogram.fill(0);
    const n = diff.length;
    for (let i = 0; i < n; i++) {
      const v = Math.round(offset === undefined ? diff[i]! : Math.abs(diff[i]! - offset));
      h[v < 0 ? 0 : v > 255 ? 255 : v]!++;
    }
    let level = 0;
    for (let seen = h[0]!; seen < n / 2 && level < 255; ) seen += h[++level]!;
    return level;
  }

  /**
   * Takes the frame into the background. A block that moved is taken in whole at once: it is looked
   * at now (an arrival), or by the next sweep (`changed` keeps it), so it is news again only when it
   * changes again. Left to the running average, a person who walked in or out would leave a ghost
   * that keeps a few hundred pixels "moving", and detection running on them, for ~2 s. Still cells
   * are averaged in, which keeps the sensor's noise out of the background.
   */
  private learn(blocks: Uint8Array): void {
    const bg = this.background!;
    const { grid, cellBlock } = this;
    for (let i = 0; i < bg.length; i++) {
      bg[i] = blocks[cellBlock[i]!] ? grid[i]! : bg[i]! + BACKGROUND_RATE * (grid[i]! - bg[i]!);
    }
  }

  /** Blocks with enough moving cells: 1 per moving block, row-major over the block grid. */
  private movingBlocks(moving: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.changed.length);
    const cellBlock = this.cellBlock;
    for (let i = 0; i < moving.length; i++) out[cellBlock[i]!]! += moving[i]!;
    for (let b = 0; b < out.length; b++) out[b] = out[b]! >= BLOCK_MIN_MOVING ? 1 : 0;
    return out;
  }

  /** Block (bc, br)'s box in frame pixels: the last block of a row or column reaches the frame's edge (the grid drops a strip under a cell). */
  private blockBox(bc: number, br: number): Box {
    const { cols, rows, cell, width, height } = this.shape;
    const x = bc * BLOCK_CELLS * cell;
    const y = br * BLOCK_CELLS * cell;
    const w = ((bc + 1) * BLOCK_CELLS >= cols ? width : Math.min(width, x + BLOCK_CELLS * cell)) - x;
    const h = ((br + 1) * BLOCK_CELLS >= rows ? height : Math.min(height, y + BLOCK_CELLS * cell)) - y;
    return { x, y, w, h };
  }

  /** The blocks set in `mask`, as boxes in frame pixels, neighbours on a row joined. */
  private boxes(mask: Uint8Array): Box[] {
    const { blockCols, blockRows } = this.shape;
    const boxes: Box[] = [];
    for (let br = 0; br < blockRows; br++) {
      let run: Box | undefined;
      for (let bc = 0; bc < blockCols; bc++) {
        if (!mask[br * blockCols + bc]) {
          run = undefined;
          continue;
        }
        const block = this.blockBox(bc, br);
        if (run) run.w = block.x + block.w - run.x;
        else boxes.push((run = block));
      }
    }
    return boxes;
  }
}

function contains(b: Box, x: number, y: number): boolean {
  return x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h;
}
